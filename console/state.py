"""The console page's view of the workspace for one user, as JSON."""

from __future__ import annotations

from typing import Any

from console.blockkit import assign_block_ids
from console.interactions import COMMAND_RESPONSE, VIEW_RESPONSE
from console.models import Channel, Ephemeral, JsonDict, Message
from console.settings import ConsoleSettings
from console.workspace import Workspace

# Failed calls that mean "the bot sent something Slack would reject": shown as a banner.
REJECTIONS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "msg_too_long",
        "no_text",
        "invalid_response_action",
    }
)
PROBLEMS_SHOWN = 20


def console_state(
    workspace: Workspace, settings: ConsoleSettings, *, user_id: str, demo_healthy: bool
) -> JsonDict:
    """Everything the page draws for `user_id`: channels, messages, modals, problems."""
    channels = _visible_channels(workspace, user_id)
    return {
        "revision": workspace.revision,
        # The page drops the ephemeral messages older than its first load, as Slack does.
        "latest_ts": workspace.latest_ts,
        "me": user_id,
        "command": settings.command,
        "bot": {"id": workspace.bot_user_id, "name": workspace.users[workspace.bot_user_id].name},
        "people": [
            {"id": u.id, "name": u.name, "title": u.title, "is_admin": u.is_admin}
            for u in settings.users
        ],
        "directory": {u.id: u.name for u in workspace.users.values()},
        "usergroups": {g.id: g.handle for g in workspace.usergroups.values()},
        "channels": [_channel_json(workspace, c) for c in channels],
        "messages": {c.id: _timeline(workspace, c, user_id) for c in channels},
        "modals": [
            {**workspace.view_json(view), "errors": view.errors}
            for view in workspace.open_modals(user_id)
        ],
        "problems": _problems(workspace),
        "demo": {"healthy": demo_healthy},
    }


def _visible_channels(workspace: Workspace, user_id: str) -> list[Channel]:
    """Public channels, then the DMs `user_id` is in (their DM with the bot always)."""
    if user_id in workspace.users:
        workspace.dm_channel(user_id)
    with_channels = list(workspace.channels.values())
    public = [c for c in with_channels if not c.is_im and not c.is_mpim]
    private = [c for c in with_channels if (c.is_im or c.is_mpim) and user_id in c.members]
    return public + private


def _channel_json(workspace: Workspace, channel: Channel) -> JsonDict:
    # Every DM here is with the bot, so the viewer sees it under the bot's name, as in Slack.
    name = workspace.users[workspace.bot_user_id].name if channel.is_im else channel.name
    return {
        "id": channel.id,
        "name": name,
        "is_im": channel.is_im or channel.is_mpim,
    }


def _message_json(workspace: Workspace, message: Message) -> JsonDict:
    return {
        "ts": message.ts,
        "user": message.user,
        "text": message.text,
        "blocks": assign_block_ids(message.blocks, message.ts),
        "thread_ts": message.thread_ts,
        "broadcast": message.reply_broadcast,
        "edited": message.edited_ts is not None,
        "ephemeral": False,
    }


def _ephemeral_json(workspace: Workspace, item: Ephemeral) -> JsonDict:
    return {
        "ts": item.ts,
        "user": item.author or workspace.bot_user_id,
        "text": item.text,
        "blocks": assign_block_ids(item.blocks, item.ts),
        "thread_ts": item.thread_ts,
        "broadcast": False,
        "edited": False,
        "ephemeral": True,
    }


def _timeline(workspace: Workspace, channel: Channel, user_id: str) -> list[JsonDict]:
    """Top-level messages with their threads, and this user's ephemerals, oldest first."""
    items: list[JsonDict] = []
    for message in workspace.history(channel.id):
        entry = _message_json(workspace, message)
        if not message.is_reply:
            replies = workspace.replies(channel.id, message.ts)
            entry["replies"] = [_message_json(workspace, reply) for reply in replies]
        items.append(entry)
    for ephemeral in workspace.ephemerals_for(user_id, channel.id):
        items.append(_ephemeral_json(workspace, ephemeral))
    items.sort(key=lambda entry: float(entry["ts"]))
    return items


def _problems(workspace: Workspace) -> list[JsonDict]:
    """Recent calls Slack would have rejected, newest first, numbered for dismissal."""
    found: list[dict[str, Any]] = []
    for index, call in enumerate(workspace.calls):
        if call.error in REJECTIONS or (
            call.method in (COMMAND_RESPONSE, VIEW_RESPONSE) and not call.ok
        ):
            metadata = call.response.get("response_metadata") or {}
            found.append(
                {
                    "id": index,
                    "method": call.method,
                    "error": call.error,
                    "messages": list(metadata.get("messages") or []),
                    "at": call.at.isoformat(),
                }
            )
    return list(reversed(found))[:PROBLEMS_SHOWN]
