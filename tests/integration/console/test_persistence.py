"""Where the console keeps its workspace, and what a restart brings back."""

from __future__ import annotations

import json
from pathlib import Path

from console.persistence import keep_on_disk, workspace_file
from console.workspace import Workspace


def test_the_workspace_file_sits_beside_a_sqlite_database_else_in_the_state_dir(
    tmp_path: Path,
) -> None:
    beside = workspace_file(f"sqlite:///{tmp_path / 'releasebot.db'}", tmp_path / "var")
    assert beside == tmp_path / "releasebot.console.json"
    elsewhere = workspace_file("postgresql+psycopg://postgres@127.0.0.1/test", tmp_path / "var")
    assert elsewhere == tmp_path / "var" / "console-workspace.json"


def test_messages_threads_and_dms_come_back_and_ephemerals_do_not(tmp_path: Path) -> None:
    path = tmp_path / "releasebot.console.json"
    before = Workspace()
    before.add_channel("C0RELEASES", "releases")
    keep_on_disk(before, path)
    card = before.post_message("C0RELEASES", user="U0RELEASEBOT", text="R-1 card")
    before.post_message("C0RELEASES", user="U0RELEASEBOT", text="reply", thread_ts=card.ts)
    before.post_ephemeral("C0RELEASES", "U0RELEASEBOT", text="only you")

    after = Workspace()
    after.add_channel("C0RELEASES", "releases")
    keep_on_disk(after, path)
    assert [m.text for m in after.messages["C0RELEASES"]] == ["R-1 card", "reply"]
    assert after.find_message("C0RELEASES", card.ts).text == "R-1 card"
    assert after.ephemerals == []
    # New messages come after the old ones.
    newer = after.post_message("C0RELEASES", user="U0RELEASEBOT", text="later")
    assert float(newer.ts) > float(card.ts)


def test_an_unreadable_file_is_set_aside_and_the_console_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "releasebot.console.json"
    path.write_text(json.dumps({"format": 99}))
    workspace = Workspace()
    keep_on_disk(workspace, path)
    assert (tmp_path / "releasebot.console.unreadable.json").exists()
    assert json.loads(path.read_text())["format"] == 1
