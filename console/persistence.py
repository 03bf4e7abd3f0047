"""The console's workspace kept on disk beside the bot's database, so a restart keeps the talk.

Channels (DMs included), messages and threads are saved to one JSON file after every change
and read back at start. Ephemeral messages, open modals and trigger ids are not: Slack forgets
them too. The file sits next to a SQLite database (`releasebot.db` → `releasebot.console.json`),
otherwise in the bot's state directory.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from console.models import Channel, Message
from console.workspace import Workspace

log = logging.getLogger(__name__)
FORMAT = 1


def workspace_file(database_url: str, state_dir: Path) -> Path:
    """Where the console's workspace lives for this database."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        database = Path(str(url.database))
        return database.with_name(database.stem + ".console.json")
    return state_dir / "console-workspace.json"


def snapshot(workspace: Workspace) -> dict[str, Any]:
    """What survives a restart: every conversation and its messages, and the ts clock."""
    with workspace._lock:
        return {
            "format": FORMAT,
            "team_id": workspace.team_id,
            "channels": [asdict(channel) for channel in workspace.channels.values()],
            "messages": [
                asdict(message) for items in workspace.messages.values() for message in items
            ],
            "latest_ts": workspace.latest_ts,
        }


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {key: value for key, value in data.items() if key in names}


def restore(workspace: Workspace, data: dict[str, Any]) -> None:
    """Put a snapshot back: saved conversations join (or replace) the configured ones."""
    if data.get("format") != FORMAT or data.get("team_id") != workspace.team_id:
        raise ValueError("not a workspace this console wrote")
    with workspace._lock:
        for saved in data["channels"]:
            channel = Channel(**_known(Channel, saved))
            workspace.channels[channel.id] = channel
            workspace.messages[channel.id] = []
        for saved in data["messages"]:
            message = Message(**_known(Message, saved))
            workspace.messages.setdefault(message.channel, []).append(message)
        for items in workspace.messages.values():
            items.sort(key=lambda m: float(m.ts))
        seconds, _, micros = str(data["latest_ts"]).partition(".")
        latest = int(seconds) * 1_000_000 + int(micros or 0)
        workspace._last_ts_micros = max(workspace._last_ts_micros, latest)


def keep_on_disk(workspace: Workspace, path: Path) -> None:
    """Load `path` when it exists, then write the workspace there after every change."""
    if path.exists():
        try:
            restore(workspace, json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as problem:
            # Unreadable: keep it for a person to look at, start afresh beside it.
            aside = path.with_suffix(".unreadable.json")
            os.replace(path, aside)
            log.warning(
                "console workspace %s was unreadable (%s); moved to %s", path, problem, aside
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    writing = threading.Lock()

    def save(_kind: str) -> None:
        with writing:
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(snapshot(workspace)), encoding="utf-8")
            os.replace(temporary, path)

    save("start")
    workspace.add_listener(save)
