"""Which OAuth scope a bot token needs for each Web API method, as Slack's method pages list it.

Methods that read or open conversations need the scope of the conversation's type (a public
channel, a private one, a DM, a group DM); the others need one scope, or none at all
(auth.test, chat.getPermalink, views.*). A token without the scope gets `missing_scope` with
the scope it `needed` and the ones it was `provided`, as Slack answers.
"""

from __future__ import annotations

from console.models import Channel, SlackApiFailure

# What a workspace that installed Releasebot from manifest.yml granted its bot token;
# tests/integration/console/test_slack_api_scopes.py keeps the two lists the same.
MANIFEST_BOT_SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "im:write",
        "usergroups:read",
        "users:read",
        "channels:history",
        "groups:history",
        "im:history",
    }
)

# The scope per conversation type: public channel, private channel, DM, group DM.
_BY_CONVERSATION: dict[str, tuple[str, str, str, str]] = {
    "conversations.history": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history", "mpim:history"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "conversations.open": ("channels:write", "groups:write", "im:write", "mpim:write"),
}
_FLAT: dict[str, str] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "users.info": "users:read",
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
}
PUBLIC, PRIVATE, IM, MPIM = range(4)


def conversation_type(channel: Channel) -> int:
    """PUBLIC, PRIVATE, IM or MPIM: the index into a method's per-type scopes."""
    if channel.is_im:
        return IM
    if channel.is_mpim:
        return MPIM
    return PRIVATE if channel.is_private else PUBLIC


def method_scope(method: str) -> str | None:
    """The one scope `method` needs whatever the conversation; None: none, or per conversation."""
    return _FLAT.get(method)


def conversation_scope(method: str, channel: Channel | None, *, group: bool = False) -> str:
    """The scope `method` needs on `channel`; without one, for opening a DM (a group DM)."""
    per_type = _BY_CONVERSATION[method]
    if channel is None:
        return per_type[MPIM if group else IM]
    return per_type[conversation_type(channel)]


def require_scope(granted: frozenset[str], scope: str | None) -> None:
    """Refuse with Slack's `missing_scope` answer when `scope` was not granted."""
    if scope is None or scope in granted:
        return
    raise SlackApiFailure(
        "missing_scope", fields={"needed": scope, "provided": ",".join(sorted(granted))}
    )
