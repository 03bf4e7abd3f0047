"""The Web API methods the bot uses, answered with Slack's shapes and error codes."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from console.blockkit import (
    MESSAGE_BLOCK_LIMIT,
    MESSAGE_TEXT_LIMIT,
    BlocksFormatError,
    block_problems,
    parse_json_list,
    parse_json_object,
    view_problems,
)
from console.models import Channel, JsonDict, Message, SlackApiFailure
from console.scopes import conversation_scope, require_scope
from console.workspace import Workspace

Args = dict[str, Any]
Method = Callable[[Workspace, Args], JsonDict]


def text_arg(args: Args, name: str) -> str | None:
    """A string argument; form bodies carry strings, JSON bodies may carry numbers."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flag_arg(args: Args, name: str) -> bool:
    """A boolean argument as Slack reads it ("true", "1", true)."""
    value = args.get(name)
    return value is True or value == 1 or (isinstance(value, str) and value in ("true", "1"))


def int_arg(args: Args, name: str, default: int) -> int:
    """An integer argument; malformed values are `invalid_arguments`."""
    value = text_arg(args, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as error:
        raise SlackApiFailure(
            "invalid_arguments", messages=[f"[ERROR] {name} must be an integer"]
        ) from error


def _required(args: Args, name: str, error: str) -> str:
    value = text_arg(args, name)
    if value is None:
        raise SlackApiFailure(error)
    return value


def _missing(name: str) -> SlackApiFailure:
    return SlackApiFailure(
        "invalid_arguments", messages=[f"[ERROR] missing required field: {name}"]
    )


def _bot_channel(workspace: Workspace, args: Args) -> Channel:
    """The `channel` argument as the bot sees it: a private channel it is not in is not there."""
    channel = workspace.channel(_required(args, "channel", "channel_not_found"))
    if channel.is_private and not channel.bot_is_member:
        raise SlackApiFailure("channel_not_found")
    return channel


def _conversation(workspace: Workspace, args: Args, method: str, *, read: bool) -> Channel:
    """conversations.*'s `channel`: an id (not a name or a user id), with the type's scope.

    A bot token reads (`read`) only conversations the bot is a member of: a public channel it
    was not invited to is `not_in_channel`, also with chat:write.public (which covers posting).
    """
    reference = _required(args, "channel", "channel_not_found")
    channel = workspace.channels.get(reference)
    if channel is None or (channel.is_private and not channel.bot_is_member):
        raise SlackApiFailure("channel_not_found")
    require_scope(workspace.bot_scopes, conversation_scope(method, channel))
    if read and not channel.bot_is_member:
        raise SlackApiFailure("not_in_channel")
    return channel


def message_content(args: Args) -> tuple[str | None, list[JsonDict] | None]:
    """`text` and `blocks` of a chat.* call, validated as Slack validates them."""
    text = text_arg(args, "text")
    try:
        blocks = parse_json_list(args.get("blocks"))
    except BlocksFormatError as error:
        raise SlackApiFailure("invalid_blocks_format", messages=[f"[ERROR] {error}"]) from error
    if text is None and not blocks and not args.get("attachments"):
        raise SlackApiFailure("no_text")
    if text is not None and len(text) > MESSAGE_TEXT_LIMIT:
        raise SlackApiFailure("msg_too_long")
    if blocks:
        problems = block_problems(blocks, limit=MESSAGE_BLOCK_LIMIT)
        if problems:
            raise SlackApiFailure("invalid_blocks", messages=problems)
    return text, blocks


def _message_json(workspace: Workspace, message: Message) -> JsonDict:
    replies = [] if message.is_reply else workspace.replies(message.channel, message.ts)
    return message.to_slack(replies)


def auth_test(workspace: Workspace, args: Args) -> JsonDict:
    """auth.test: who the token belongs to."""
    return {
        "ok": True,
        "url": f"https://{workspace.team_domain}.slack.com/",
        "team": "Releasebot Console",
        "user": workspace.users[workspace.bot_user_id].name,
        "team_id": workspace.team_id,
        "user_id": workspace.bot_user_id,
        "bot_id": workspace.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(workspace: Workspace, args: Args) -> JsonDict:
    """chat.postMessage to a channel id, name, DM or user id; optionally into a thread."""
    channel = _bot_channel(workspace, args)
    if not channel.bot_is_member and "chat:write.public" not in workspace.bot_scopes:
        raise SlackApiFailure("not_in_channel")
    text, blocks = message_content(args)
    thread_ts = text_arg(args, "thread_ts")
    if thread_ts is not None:
        try:
            workspace.find_message(channel.id, thread_ts)
        except SlackApiFailure as error:
            raise SlackApiFailure("thread_not_found") from error
    metadata = _metadata_arg(args)
    message = workspace.post_message(
        channel.id,
        text=text or "",
        blocks=blocks,
        thread_ts=thread_ts,
        reply_broadcast=flag_arg(args, "reply_broadcast"),
    )
    message.metadata = metadata
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": message.to_slack()}


def _metadata_arg(args: Args) -> JsonDict | None:
    """chat.postMessage's `metadata`: an object with a string event_type and an event_payload."""
    try:
        metadata = parse_json_object(args.get("metadata"))
    except BlocksFormatError as error:
        raise SlackApiFailure("invalid_metadata_format", messages=[f"[ERROR] {error}"]) from error
    if metadata is None:
        return None
    if not isinstance(metadata.get("event_type"), str) or not isinstance(
        metadata.get("event_payload"), dict
    ):
        raise SlackApiFailure("invalid_metadata_schema")
    return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}


def _with_metadata(item: JsonDict, message: Message, args: Args) -> JsonDict:
    """Slack returns message metadata only when asked with include_all_metadata."""
    if message.metadata is not None and flag_arg(args, "include_all_metadata"):
        return {**item, "metadata": message.metadata}
    return item


def chat_update(workspace: Workspace, args: Args) -> JsonDict:
    """chat.update: edit one of the bot's messages in place."""
    channel = _bot_channel(workspace, args)
    ts = _required(args, "ts", "message_not_found")
    text, blocks = message_content(args)
    message = workspace.update_message(channel.id, ts, text=text, blocks=blocks)
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": _message_json(workspace, message),
    }


def chat_post_ephemeral(workspace: Workspace, args: Args) -> JsonDict:
    """chat.postEphemeral: a message only `user` sees."""
    channel = _bot_channel(workspace, args)
    user = _required(args, "user", "user_not_in_channel")
    text, blocks = message_content(args)
    ephemeral = workspace.post_ephemeral(
        channel.id, user, text=text or "", blocks=blocks, thread_ts=text_arg(args, "thread_ts")
    )
    return {"ok": True, "message_ts": ephemeral.ts}


def chat_get_permalink(workspace: Workspace, args: Args) -> JsonDict:
    """chat.getPermalink for a posted message."""
    channel = _bot_channel(workspace, args)
    ts = _required(args, "message_ts", "message_not_found")
    workspace.find_message(channel.id, ts)
    return {"ok": True, "channel": channel.id, "permalink": workspace.permalink(channel.id, ts)}


def chat_delete(workspace: Workspace, args: Args) -> JsonDict:
    """chat.delete one of the bot's messages."""
    channel = _bot_channel(workspace, args)
    ts = _required(args, "ts", "message_not_found")
    workspace.delete_message(channel.id, ts)
    return {"ok": True, "channel": channel.id, "ts": ts}


def conversations_open(workspace: Workspace, args: Args) -> JsonDict:
    """conversations.open: the bot's DM (stable D… id) or a group DM."""
    existing = text_arg(args, "channel")
    users = [u.strip() for u in (text_arg(args, "users") or "").split(",") if u.strip()]
    if existing is None and not users:
        raise SlackApiFailure("users_list_not_supplied")
    if existing is not None:
        channel = workspace.channel(existing)
        require_scope(workspace.bot_scopes, conversation_scope("conversations.open", channel))
    else:
        group = len(users) > 1
        require_scope(
            workspace.bot_scopes, conversation_scope("conversations.open", None, group=group)
        )
        before = set(workspace.channels)
        channel = (
            workspace.dm_channel(users[0]) if len(users) == 1 else workspace.group_dm_channel(users)
        )
        if channel.id in before:
            answer: JsonDict = {"ok": True, "no_op": True, "already_open": True}
            answer["channel"] = (
                channel.to_slack() if flag_arg(args, "return_im") else {"id": channel.id}
            )
            return answer
    full = flag_arg(args, "return_im")
    return {"ok": True, "channel": channel.to_slack() if full else {"id": channel.id}}


def conversations_info(workspace: Workspace, args: Args) -> JsonDict:
    """conversations.info."""
    channel = _conversation(workspace, args, "conversations.info", read=False)
    return {"ok": True, "channel": channel.to_slack()}


def _page(items: list[JsonDict], args: Args) -> tuple[list[JsonDict], str]:
    """One page of `items` per `limit`/`cursor`, and the next cursor ("" at the end)."""
    limit = max(1, min(int_arg(args, "limit", 100), 1000))
    cursor = text_arg(args, "cursor")
    start = 0
    if cursor is not None:
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1])
        except (ValueError, IndexError, UnicodeDecodeError) as error:
            raise SlackApiFailure("invalid_cursor") from error
    page = items[start : start + limit]
    end = start + len(page)
    next_cursor = base64.urlsafe_b64encode(f"next:{end}".encode()).decode()
    return page, next_cursor if end < len(items) else ""


def _in_range(message: Message, args: Args) -> bool:
    oldest = float(text_arg(args, "oldest") or 0)
    latest = float(text_arg(args, "latest") or "inf")
    ts = float(message.ts)
    if flag_arg(args, "inclusive"):
        return oldest <= ts <= latest
    return oldest < ts < latest


def conversations_history(workspace: Workspace, args: Args) -> JsonDict:
    """conversations.history: newest first, with thread summaries."""
    channel = _conversation(workspace, args, "conversations.history", read=True)
    try:
        messages = [m for m in workspace.history(channel.id) if _in_range(m, args)]
    except ValueError as error:
        raise SlackApiFailure("invalid_ts_oldest") from error
    items = [_with_metadata(_message_json(workspace, m), m, args) for m in reversed(messages)]
    page, next_cursor = _page(items, args)
    return {
        "ok": True,
        "messages": page,
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


def conversations_replies(workspace: Workspace, args: Args) -> JsonDict:
    """conversations.replies: the parent then its replies, oldest first."""
    channel = _conversation(workspace, args, "conversations.replies", read=True)
    ts = _required(args, "ts", "thread_not_found")
    try:
        parent = workspace.find_message(channel.id, ts)
    except SlackApiFailure as error:
        raise SlackApiFailure("thread_not_found") from error
    if parent.is_reply and parent.thread_ts is not None:
        parent = workspace.find_message(channel.id, parent.thread_ts)
    replies = workspace.replies(channel.id, parent.ts)
    items = [
        _with_metadata(parent.to_slack(replies), parent, args),
        *(_with_metadata(reply.to_slack(), reply, args) for reply in replies),
    ]
    page, next_cursor = _page(items, args)
    return {
        "ok": True,
        "messages": page,
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


def users_info(workspace: Workspace, args: Args) -> JsonDict:
    """users.info."""
    user = workspace.user(_required(args, "user", "user_not_found"))
    return {"ok": True, "user": user.to_slack(workspace.team_id)}


def usergroups_list(workspace: Workspace, args: Args) -> JsonDict:
    """usergroups.list (members only with include_users)."""
    include = flag_arg(args, "include_users")
    groups = [
        g.to_slack(workspace.team_id, include_users=include) for g in workspace.usergroups.values()
    ]
    return {"ok": True, "usergroups": groups}


def usergroups_users_list(workspace: Workspace, args: Args) -> JsonDict:
    """usergroups.users.list."""
    group_id = _required(args, "usergroup", "no_such_subteam")
    group = workspace.usergroups.get(group_id)
    if group is None:
        raise SlackApiFailure("no_such_subteam")
    return {"ok": True, "users": list(group.members)}


def _view_arg(args: Args) -> JsonDict:
    """The `view` argument, decoded and checked like Slack checks it."""
    try:
        view = parse_json_object(args.get("view"))
    except BlocksFormatError as error:
        raise SlackApiFailure("invalid_arguments", messages=[f"[ERROR] view {error}"]) from error
    if view is None:
        raise _missing("view")
    view_errors, block_errors = view_problems(view)
    if block_errors:
        raise SlackApiFailure("invalid_blocks", messages=block_errors)
    if view_errors:
        raise SlackApiFailure("invalid_arguments", messages=view_errors)
    return view


def _open(workspace: Workspace, args: Args, *, push: bool) -> JsonDict:
    view = _view_arg(args)
    if view.get("type") != "modal":
        raise SlackApiFailure("invalid_arguments", messages=["[ERROR] a modal is required"])
    trigger_id = text_arg(args, "trigger_id") or text_arg(args, "interactivity_pointer")
    if trigger_id is None:
        raise _missing("trigger_id")
    trigger = workspace.use_trigger_id(trigger_id)
    opened = workspace.open_view(trigger.user_id, view, push=push)
    return {"ok": True, "view": workspace.view_json(opened)}


def views_open(workspace: Workspace, args: Args) -> JsonDict:
    """views.open: a modal for the user whose interaction issued the trigger_id."""
    return _open(workspace, args, push=False)


def views_push(workspace: Workspace, args: Args) -> JsonDict:
    """views.push: a modal on top of the user's open one (at most 3)."""
    return _open(workspace, args, push=True)


def views_update(workspace: Workspace, args: Args) -> JsonDict:
    """views.update by view_id or external_id; a stale `hash` is a hash_conflict."""
    view_id = text_arg(args, "view_id")
    external_id = text_arg(args, "external_id")
    if view_id is None and external_id is None:
        raise _missing("view_id")
    found = workspace.find_view(view_id=view_id, external_id=external_id)
    view = _view_arg(args)
    updated = workspace.update_view(found, view, expected_hash=text_arg(args, "hash"))
    return {"ok": True, "view": workspace.view_json(updated)}


def views_publish(workspace: Workspace, args: Args) -> JsonDict:
    """views.publish: store a user's App Home."""
    user_id = text_arg(args, "user_id")
    if user_id is None:
        raise _missing("user_id")
    view = _view_arg(args)
    published = workspace.publish_home(user_id, view)
    return {"ok": True, "view": workspace.view_json(published)}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "chat.delete": chat_delete,
    "conversations.open": conversations_open,
    "conversations.info": conversations_info,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
