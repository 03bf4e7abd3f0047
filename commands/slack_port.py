"""slack_sdk adapters for the domain's ports: message delivery and user-group lookup."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session, select

from bot.domain.context import DomainContext
from bot.domain.mrkdwn import guard_outgoing
from bot.notify.outbox import CARD, Rendered, Renderer
from bot.ports.changelog import ChangelogSources
from bot.ports.slack import SlackLookupImpossible, SlackRefused, SlackUnavailable
from bot.release.gates import deploy_holds
from bot.release.snapshots import PlanSnapshot, snapshot
from bot.store.models import OutboxMessage, SlackMessage
from commands.render import card, replies
from commands.render.announcements import TEMPLATES as ANNOUNCEMENT_TEMPLATES
from commands.render.announcements import templates as announcement_templates

GROUP_CACHE_SECONDS = 300.0
# How many pages of history a retry reads looking for a message it may already have posted.
FIND_PAGES = 5
# The errors Slack's method pages (chat.postMessage, chat.update, conversations.history and the
# errors every method shares, docs.slack.dev/reference/methods) describe as passing: rate limits
# (ratelimited, rate_limited), "likely due to a transient issue on our end" (internal_error),
# "It's possible some aspect of the operation succeeded" (fatal_error: the retry looks first),
# "The service is temporarily unavailable" (service_unavailable), POST data "either missing or
# truncated" on the way (request_timeout), and a workspace "intermittently unavailable" while it
# migrates to an Enterprise organization (team_added_to_org, org_login_required). Every other
# error is about the request, the channel or the token (channel_not_found, is_archived,
# msg_too_long, invalid_blocks, not_in_channel, missing_scope, token_revoked…): asking again
# gets the same answer.
PASSING_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "org_login_required",
    }
)


class WebApiSlack:
    """SlackPort on the Web API: 429, 5xx, timeouts and passing errors mean 'later'."""

    def __init__(self, client: WebClient) -> None:
        self._client = client
        self._dm_channels: dict[str, str] = {}

    def post(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None,
        metadata: dict[str, Any] | None = None,
    ) -> tuple[str, str]:
        safe_text, safe_blocks = guard_outgoing(text, blocks, where="chat.postMessage")
        # A user id posts to the bot's DM with them (Slack opens it): chat:write is enough.
        # No `link_names`/`parse=full`: a typed "@channel" must stay text (SPEC, text safety).
        response = self._call(
            self._client.chat_postMessage,
            channel=self._dm_channels.get(channel, channel),
            text=safe_text,
            blocks=safe_blocks or None,
            thread_ts=thread_ts,
            unfurl_links=False,
            metadata=metadata,
        )
        posted = str(response["channel"])
        if _is_user(channel):
            self._dm_channels[channel] = posted
        return posted, str(response["ts"])

    def find(
        self, *, channel: str, thread_ts: str | None, key: dict[str, Any], oldest: datetime
    ) -> tuple[str, str] | None:
        try:
            return self._find(channel=channel, thread_ts=thread_ts, key=key, oldest=oldest)
        except SlackRefused as refused:
            # missing_scope, not_in_channel (chat:write.public posts where it cannot read),
            # channel_not_found…: asking again will not help, so the caller posts without looking.
            raise SlackLookupImpossible(str(refused)) from refused

    def _find(
        self, *, channel: str, thread_ts: str | None, key: dict[str, Any], oldest: datetime
    ) -> tuple[str, str] | None:
        target = self._conversation(channel)
        cursor: str | None = None
        for _ in range(FIND_PAGES):
            arguments: dict[str, Any] = {
                "channel": target,
                "oldest": f"{oldest.timestamp():.6f}",
                "include_all_metadata": True,
                "limit": 200,
                "cursor": cursor,
            }
            if thread_ts is None:
                page = self._call(self._client.conversations_history, **arguments)
            else:
                page = self._call(self._client.conversations_replies, ts=thread_ts, **arguments)
            for message in page.get("messages", []) or []:
                if message.get("metadata") == key:
                    return target, str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                break
        return None

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        safe_text, safe_blocks = guard_outgoing(text, blocks, where="chat.update")
        self._call(
            self._client.chat_update, channel=channel, ts=ts, text=safe_text, blocks=safe_blocks
        )

    def _conversation(self, channel: str) -> str:
        """The conversation id conversations.* need: a user's DM is opened to learn it."""
        if not _is_user(channel):
            return channel
        if channel not in self._dm_channels:
            opened = self._call(self._client.conversations_open, users=channel)
            self._dm_channels[channel] = str(opened["channel"]["id"])
        return self._dm_channels[channel]

    @staticmethod
    def _call(method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except SlackApiError as failure:
            status = failure.response.status_code
            error = str(failure.response.get("error", "unknown_error"))
            if status == 429 or status >= 500 or error in PASSING_ERRORS:
                headers = failure.response.headers
                retry = headers.get("Retry-After") or headers.get("retry-after")
                raise SlackUnavailable(
                    f"slack answered {status} {error}", float(retry) if retry else None
                ) from failure
            needed = failure.response.get("needed")
            detail = f" (needs {needed})" if needed else ""
            raise SlackRefused(f"slack refused: {error}{detail}") from failure
        except (URLError, TimeoutError, ConnectionError, OSError) as failure:
            raise SlackUnavailable(f"slack unreachable: {failure}") from failure


def _is_user(channel: str) -> bool:
    return channel[:1] in ("U", "W")


class SlackDirectory:
    """User groups through `usergroups.list` / `usergroups.users.list`, cached briefly."""

    def __init__(self, client: WebClient, *, ttl: float = GROUP_CACHE_SECONDS) -> None:
        self._client = client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._handles: dict[str, str] = {}
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._handles_at = 0.0

    def members(self, handle: str) -> frozenset[str]:
        name = handle.lstrip("@")
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(name)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        try:
            group_id = self._group_id(name, now)
            if group_id is None:
                return frozenset()
            users = self._client.usergroups_users_list(usergroup=group_id)
            listed: list[str] = users.get("users", []) or []
            found = frozenset(str(u) for u in listed)
        except (SlackApiError, URLError, OSError):
            # A group we cannot resolve counts nobody in: an unanswered lookup is never a yes.
            return cached[1] if cached is not None else frozenset()
        with self._lock:
            self._members[name] = (now, found)
        return found

    def _group_id(self, name: str, now: float) -> str | None:
        if now - self._handles_at >= self._ttl or name not in self._handles:
            groups = self._client.usergroups_list()
            with self._lock:
                listed: list[dict[str, str]] = groups.get("usergroups", []) or []
                self._handles = {str(g["handle"]): str(g["id"]) for g in listed}
                self._handles_at = now
        return self._handles.get(name)


# Templates drawn from the plan alone; the rest are in commands/render/announcements.py, and
# the rollback alert also links to the card.
PLAN_TEMPLATES: dict[str, Callable[[PlanSnapshot], Rendered]] = {
    "approval_request": replies.approval_request,
    "decision_to_requester": replies.decision_to_requester,
    "override_request": replies.override_request,
}
ROLLBACK_ALERT = "rollback_alert"


def template_names() -> frozenset[str]:
    """Every message template the renderer draws (checked against the core's at start-up)."""
    return frozenset(ANNOUNCEMENT_TEMPLATES) | frozenset(PLAN_TEMPLATES) | {ROLLBACK_ALERT}


def renderer(
    ctx: DomainContext,
    client: WebClient | None = None,
    *,
    changelogs: ChangelogSources | None = None,
) -> Renderer:
    """Render owed cards and templated messages from the database at delivery time."""
    announcements = announcement_templates(changelogs)

    def card_link(session: Session, plan_id: int) -> str | None:
        found = session.exec(
            select(SlackMessage).where(SlackMessage.plan_id == plan_id, SlackMessage.kind == CARD)
        ).first()
        if found is None or client is None:
            return None
        try:
            return str(
                client.chat_getPermalink(channel=found.channel, message_ts=found.ts)["permalink"]
            )
        except (SlackApiError, URLError, OSError):
            return None  # the alert still goes out, pointing at /release show instead

    def render(session: Session, row: OutboxMessage) -> Rendered:
        if row.kind != CARD and row.payload.get("template") in announcements:
            return announcements[str(row.payload["template"])](session, ctx, row)
        assert row.plan_id is not None
        snap = snapshot(session, ctx=ctx, plan_id=row.plan_id)
        if row.kind == CARD:
            return card.card(snap, deploy_holds(session, ctx=ctx, snap=snap))
        if row.payload["template"] == ROLLBACK_ALERT:
            return replies.rollback_alert(
                snap,
                reason=str(row.payload.get("reason", "")),
                actor=str(row.payload.get("actor", "")),
                card_link=card_link(session, row.plan_id),
            )
        return PLAN_TEMPLATES[str(row.payload["template"])](snap)

    return render
