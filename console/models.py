"""What the stand-in workspace holds, and how Slack's Web API spells each thing in JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

JsonDict = dict[str, Any]
# An HTTP status (500, 503, 429…), "timeout", or a Slack error code answered with HTTP 200 as
# Slack answers most errors (e.g. "service_unavailable", "is_archived").
FaultKind = Literal[500, 429, "timeout"] | int | str


class SlackApiFailure(Exception):
    """A Web API error answer: Slack's error code, the HTTP status, and detail lines."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        messages: list[str] | None = None,
        fields: JsonDict | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.messages = messages or []
        # Top-level fields some errors carry, e.g. missing_scope's `needed` and `provided`.
        self.fields = fields or {}
        self.message = f"Slack answered {error}" + (
            f": {'; '.join(self.messages)}" if messages else ""
        )

    def body(self) -> JsonDict:
        """The JSON body Slack sends with this error."""
        answer: JsonDict = {"ok": False, "error": self.error, **self.fields}
        if self.messages:
            answer["response_metadata"] = {"messages": list(self.messages)}
        return answer


@dataclass
class Channel:
    """A public or private channel, a DM (`is_im`) with one user, or a group DM."""

    id: str
    name: str
    created: int = 0
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    # Whether the bot was invited: it reads history only where it is a member.
    bot_is_member: bool = True

    def to_slack(self) -> JsonDict:
        """conversations.info's `channel` object."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_archived": False,
            "is_general": False,
            "is_member": self.bot_is_member,
            "created": self.created,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class User:
    """A workspace member (people, and the bot's own user)."""

    id: str
    name: str
    real_name: str = ""
    title: str = ""
    is_admin: bool = False
    is_bot: bool = False

    def to_slack(self, team_id: str) -> JsonDict:
        """users.info's `user` object."""
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": real_name,
            "tz": "Etc/UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "title": self.title,
                "team": team_id,
            },
        }


@dataclass
class UserGroup:
    """A user group such as @sre."""

    id: str
    handle: str
    members: list[str]
    name: str = ""

    def to_slack(self, team_id: str, *, include_users: bool) -> JsonDict:
        """usergroups.list's entry."""
        answer: JsonDict = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name or self.handle,
            "description": "",
            "handle": self.handle,
            "is_external": False,
            "date_delete": 0,
            "user_count": len(self.members),
        }
        if include_users:
            answer["users"] = list(self.members)
        return answer


@dataclass
class Message:
    """A channel message or thread reply."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JsonDict]
    team: str
    thread_ts: str | None = None
    reply_broadcast: bool = False
    bot_id: str | None = None
    app_id: str | None = None
    edited_ts: str | None = None
    edited_by: str | None = None
    # Message metadata as posted ({event_type, event_payload}); shown with include_all_metadata.
    metadata: JsonDict | None = None

    @property
    def is_reply(self) -> bool:
        """True for a thread reply (not the thread's parent)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_slack(self, replies: list[Message] | None = None) -> JsonDict:
        """The message object of history/replies answers; `replies` fills the thread fields."""
        answer: JsonDict = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": self.team,
        }
        if self.blocks:
            answer["blocks"] = self.blocks
        if self.bot_id:
            answer["bot_id"] = self.bot_id
            answer["app_id"] = self.app_id
        if self.thread_ts:
            answer["thread_ts"] = self.thread_ts
        if self.is_reply:
            answer["parent_user_id"] = self.user
            if self.reply_broadcast:
                answer["subtype"] = "thread_broadcast"
        if replies:
            answer["thread_ts"] = self.ts
            answer["reply_count"] = len(replies)
            answer["reply_users"] = sorted({reply.user for reply in replies})
            answer["reply_users_count"] = len(answer["reply_users"])
            answer["latest_reply"] = replies[-1].ts
            answer["subscribed"] = False
        if self.edited_ts:
            answer["edited"] = {"user": self.edited_by or self.user, "ts": self.edited_ts}
        return answer


@dataclass
class Ephemeral:
    """A message only `user` sees in `channel`."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None
    # Who wrote it: the bot (None), or Slackbot for Slack's own notices ("failed with the error").
    author: str | None = None


@dataclass
class OpenView:
    """A modal (in a user's stack) or a published Home tab."""

    id: str
    user_id: str
    view: JsonDict
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""
    # What the console's user typed, and errors the app answered (response_action: errors).
    values: dict[str, dict[str, JsonDict]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def to_slack(self, *, team_id: str, app_id: str, bot_id: str) -> JsonDict:
        """The `view` object of views.* answers and view_submission payloads."""
        return {
            "id": self.id,
            "team_id": team_id,
            "type": self.view.get("type", "modal"),
            "blocks": self.view.get("blocks", []),
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.view.get("callback_id", ""),
            "state": {"values": self.values},
            "hash": self.hash,
            "title": self.view.get("title"),
            "clear_on_close": bool(self.view.get("clear_on_close", False)),
            "notify_on_close": bool(self.view.get("notify_on_close", False)),
            "close": self.view.get("close"),
            "submit": self.view.get("submit"),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": app_id,
            "external_id": self.external_id,
            "app_installed_team_id": team_id,
            "bot_id": bot_id,
        }


@dataclass
class TriggerId:
    """A trigger_id the console handed to the app with a user's interaction."""

    value: str
    user_id: str
    issued_at: datetime


@dataclass
class ResponseUrl:
    """A response_url: where the interaction came from, and how much use it has left."""

    token: str
    channel: str
    user_id: str
    issued_at: datetime
    source_ts: str | None = None
    source_is_ephemeral: bool = False
    uses: int = 0


@dataclass
class ApiCall:
    """One recorded Web API (or response_url) call and what the stand-in answered."""

    method: str
    args: JsonDict
    response: JsonDict
    status: int
    at: datetime

    @property
    def ok(self) -> bool:
        """Whether Slack would have accepted the call."""
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """Slack's error code, when the call failed."""
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class Fault:
    """An injected failure for the next `remaining` calls of one method."""

    kind: FaultKind
    remaining: int
