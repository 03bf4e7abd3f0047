"""An in-memory Slack workspace: channels, people, messages, views, and every API call made."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from bot.domain.clock import Clock, SystemClock
from console.blockkit import assign_block_ids
from console.models import (
    ApiCall,
    Channel,
    Ephemeral,
    Fault,
    FaultKind,
    JsonDict,
    Message,
    OpenView,
    ResponseUrl,
    SlackApiFailure,
    TriggerId,
    User,
    UserGroup,
)
from console.scopes import MANIFEST_BOT_SCOPES

TRIGGER_TTL = timedelta(seconds=3)
RESPONSE_URL_TTL = timedelta(minutes=30)
RESPONSE_URL_USES = 5
MODAL_STACK_LIMIT = 3
SLACKBOT_ID = "USLACKBOT"
# Slack's special limit is about posting messages; card edits and ephemerals count here too
# because SPEC §9 promises "at most 1 message/s per channel" for everything the bot writes.
DEFAULT_RATE_LIMITED_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.postEphemeral"})

Listener = Callable[[str], None]


class Workspace:
    """The state behind the Web API stand-in; thread-safe (the server and tests share it)."""

    def __init__(
        self,
        *,
        team_id: str = "T0CONSOLE",
        team_domain: str = "releasebot-console",
        bot_token: str = "xoxb-console-token",
        bot_user_id: str = "U0RELEASEBOT",
        bot_id: str = "B0RELEASEBOT",
        app_id: str = "A0RELEASEBOT",
        clock: Clock | None = None,
        rate_limit_per_channel_per_second: float | None = None,
        rate_limited_methods: Iterable[str] = DEFAULT_RATE_LIMITED_METHODS,
        permalink_base: str | None = None,
        bot_scopes: Iterable[str] = MANIFEST_BOT_SCOPES,
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_token = bot_token
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        # What the bot token was granted at install: by default what manifest.yml asks for.
        self.bot_scopes = frozenset(bot_scopes)
        self.clock: Clock = clock or SystemClock()
        self.rate_limit_per_channel_per_second = rate_limit_per_channel_per_second
        self.rate_limited_methods = frozenset(rate_limited_methods)
        self.permalink_base = permalink_base or f"https://{team_domain}.slack.com"
        # Seconds a "timeout" fault holds the request when the client never gives up.
        self.fault_timeout_seconds = 30.0
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, UserGroup] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, OpenView] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.home_views: dict[str, OpenView] = {}
        self.triggers: dict[str, TriggerId] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.calls: list[ApiCall] = []
        self.revision = 0
        self._faults: dict[str, Fault] = {}
        self._sent: dict[str, deque[float]] = {}
        self._last_ts_micros = 0
        self._listeners: list[Listener] = []
        self._lock = threading.RLock()
        self.add_user(bot_user_id, "releasebot", is_bot=True)
        self.add_user(SLACKBOT_ID, "Slackbot", is_bot=True)

    # -- directory -------------------------------------------------------------------------

    def add_channel(
        self, channel_id: str, name: str, *, private: bool = False, bot_is_member: bool = True
    ) -> Channel:
        """Create a channel (public unless `private`); the bot is in it unless told otherwise."""
        with self._lock:
            channel = Channel(
                id=channel_id,
                name=name.lstrip("#"),
                created=self._epoch(),
                is_private=private,
                bot_is_member=bot_is_member,
            )
            self.channels[channel_id] = channel
            self.messages.setdefault(channel_id, [])
            return channel

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        title: str = "",
        is_admin: bool = False,
        is_bot: bool = False,
    ) -> User:
        """Add a workspace member."""
        with self._lock:
            user = User(user_id, name, real_name, title, is_admin=is_admin, is_bot=is_bot)
            self.users[user_id] = user
            return user

    def add_usergroup(self, group_id: str, handle: str, members: Iterable[str]) -> UserGroup:
        """Add a user group (`handle` without the @)."""
        with self._lock:
            group = UserGroup(group_id, handle.lstrip("@"), list(members))
            self.usergroups[group_id] = group
            return group

    def user(self, user_id: str) -> User:
        """A member, or `user_not_found`."""
        found = self.users.get(user_id)
        if found is None:
            raise SlackApiFailure("user_not_found")
        return found

    def channel(self, reference: str) -> Channel:
        """A channel by id, `#name`/name, or a user id (their DM with the bot)."""
        with self._lock:
            if reference in self.channels:
                return self.channels[reference]
            if reference in self.users:
                return self.dm_channel(reference)
            name = reference.lstrip("#")
            for channel in self.channels.values():
                if not channel.is_im and channel.name == name:
                    return channel
            raise SlackApiFailure("channel_not_found")

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's DM with `user_id`; the same D… id every time."""
        with self._lock:
            self.user(user_id)
            channel_id = "D" + (user_id[1:] if user_id[:1] in ("U", "W") else user_id)
            if channel_id not in self.channels:
                self.channels[channel_id] = Channel(
                    id=channel_id,
                    name=self.users[user_id].name,
                    created=self._epoch(),
                    is_im=True,
                    user=user_id,
                    members=[user_id, self.bot_user_id],
                )
                self.messages[channel_id] = []
                self._changed("channel")
            return self.channels[channel_id]

    def group_dm_channel(self, user_ids: list[str]) -> Channel:
        """A multi-person DM, one id per set of members."""
        with self._lock:
            for user_id in user_ids:
                self.user(user_id)
            members = sorted(set(user_ids))
            digest = hashlib.sha1(",".join(members).encode()).hexdigest()[:9].upper()
            channel_id = f"G{digest}"
            if channel_id not in self.channels:
                name = "mpdm-" + "--".join(self.users[m].name for m in members) + "-1"
                self.channels[channel_id] = Channel(
                    channel_id, name, self._epoch(), is_mpim=True, members=members
                )
                self.messages[channel_id] = []
                self._changed("channel")
            return self.channels[channel_id]

    # -- messages --------------------------------------------------------------------------

    def post_message(
        self,
        channel_id: str,
        *,
        text: str,
        blocks: list[JsonDict] | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
        reply_broadcast: bool = False,
    ) -> Message:
        """Post to a channel (or a thread in it) as `user`, the bot by default."""
        with self._lock:
            channel = self.channel(channel_id)
            if thread_ts is not None:
                parent = self.find_message(channel.id, thread_ts)
                # A reply's ts stands for its thread, as Slack does.
                thread_ts = parent.thread_ts or parent.ts
            author = user or self.bot_user_id
            is_bot = author == self.bot_user_id
            message = Message(
                channel=channel.id,
                ts=self.next_ts(),
                user=author,
                text=text,
                blocks=list(blocks or []),
                team=self.team_id,
                thread_ts=thread_ts,
                reply_broadcast=reply_broadcast and thread_ts is not None,
                bot_id=self.bot_id if is_bot else None,
                app_id=self.app_id if is_bot else None,
            )
            self.messages[channel.id].append(message)
            self._changed("message")
            return message

    def find_message(self, channel_id: str, ts: str) -> Message:
        """A message by channel and ts, or `message_not_found`."""
        with self._lock:
            for message in self.messages.get(channel_id, []):
                if message.ts == ts:
                    return message
            raise SlackApiFailure("message_not_found")

    def update_message(
        self, channel_id: str, ts: str, *, text: str | None, blocks: list[JsonDict] | None
    ) -> Message:
        """Edit a bot message in place (`cant_update_message` for anyone else's)."""
        with self._lock:
            message = self.find_message(self.channel(channel_id).id, ts)
            if message.user != self.bot_user_id:
                raise SlackApiFailure("cant_update_message")
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = list(blocks)
            message.edited_ts = self.next_ts()
            message.edited_by = self.bot_user_id
            self._changed("message_changed")
            return message

    def delete_message(self, channel_id: str, ts: str) -> Message:
        """Delete a bot message (`cant_delete_message` for anyone else's)."""
        with self._lock:
            channel = self.channel(channel_id)
            message = self.find_message(channel.id, ts)
            if message.user != self.bot_user_id:
                raise SlackApiFailure("cant_delete_message")
            self.messages[channel.id].remove(message)
            self._changed("message_deleted")
            return message

    def history(self, channel_id: str) -> list[Message]:
        """Top-level messages and broadcast replies, oldest first."""
        with self._lock:
            return [
                message
                for message in self.messages.get(channel_id, [])
                if not message.is_reply or message.reply_broadcast
            ]

    def replies(self, channel_id: str, ts: str) -> list[Message]:
        """The replies in the thread started by `ts` (not the parent), oldest first."""
        with self._lock:
            return [
                message
                for message in self.messages.get(channel_id, [])
                if message.is_reply and message.thread_ts == ts
            ]

    def post_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        *,
        text: str,
        blocks: list[JsonDict] | None = None,
        thread_ts: str | None = None,
        author: str | None = None,
    ) -> Ephemeral:
        """Show a message to one user only (from the bot, or `author` such as Slackbot)."""
        with self._lock:
            channel = self.channel(channel_id)
            if user_id not in self.users:
                raise SlackApiFailure("user_not_in_channel")
            ephemeral = Ephemeral(
                channel.id, self.next_ts(), user_id, text, list(blocks or []), thread_ts, author
            )
            self.ephemerals.append(ephemeral)
            self._changed("ephemeral")
            return ephemeral

    def ephemerals_for(self, user_id: str, channel_id: str | None = None) -> list[Ephemeral]:
        """The ephemerals `user_id` sees (optionally in one channel), oldest first."""
        with self._lock:
            return [
                item
                for item in self.ephemerals
                if item.user == user_id and (channel_id is None or item.channel == channel_id)
            ]

    def permalink(self, channel_id: str, ts: str) -> str:
        """Slack's permalink shape for a message; a reply's names its thread, as Slack's do."""
        link = f"{self.permalink_base}/archives/{channel_id}/p{ts.replace('.', '')}"
        with self._lock:
            found = next((m for m in self.messages.get(channel_id, []) if m.ts == ts), None)
        if found is not None and found.thread_ts and found.thread_ts != ts:
            link += f"?thread_ts={found.thread_ts}&cid={channel_id}"
        return link

    # -- interactions: trigger ids, response urls, views -------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        """A fresh trigger_id for an interaction of `user_id` (valid 3 s)."""
        with self._lock:
            numeric = int(self.clock.now().timestamp() * 1000)
            value = f"{numeric}.{self.team_id[1:] or '0'}.{secrets.token_hex(16)}"
            self.triggers[value] = TriggerId(value, user_id, self.clock.now())
            return value

    def use_trigger_id(self, value: str) -> TriggerId:
        """The trigger's record, or `invalid_trigger_id`/`expired_trigger_id`."""
        with self._lock:
            trigger = self.triggers.get(value)
            if trigger is None:
                raise SlackApiFailure("invalid_trigger_id")
            if self.clock.now() - trigger.issued_at > TRIGGER_TTL:
                raise SlackApiFailure("expired_trigger_id")
            return trigger

    def issue_response_url(
        self,
        *,
        base_url: str,
        channel_id: str,
        user_id: str,
        source_ts: str | None = None,
        source_is_ephemeral: bool = False,
    ) -> str:
        """A response_url for one interaction (30 min, 5 uses), served under `base_url`."""
        with self._lock:
            token = secrets.token_urlsafe(18)
            self.response_urls[token] = ResponseUrl(
                token,
                channel_id,
                user_id,
                self.clock.now(),
                source_ts=source_ts,
                source_is_ephemeral=source_is_ephemeral,
            )
            return f"{base_url.rstrip('/')}/response/{token}"

    def use_response_url(self, token: str) -> ResponseUrl:
        """Count one use of a response_url; `expired_url`/`used_url` as Slack answers."""
        with self._lock:
            record = self.response_urls.get(token)
            if record is None or self.clock.now() - record.issued_at > RESPONSE_URL_TTL:
                raise SlackApiFailure("expired_url", status=404)
            if record.uses >= RESPONSE_URL_USES:
                raise SlackApiFailure("used_url", status=404)
            record.uses += 1
            return record

    def find_ephemeral(self, ts: str) -> Ephemeral:
        """An ephemeral by ts, or `message_not_found`."""
        with self._lock:
            for item in self.ephemerals:
                if item.ts == ts:
                    return item
            raise SlackApiFailure("message_not_found")

    def replace_ephemeral(self, ts: str, *, text: str, blocks: list[JsonDict] | None) -> None:
        """Replace an ephemeral's content in place (response_url replace_original)."""
        with self._lock:
            item = self.find_ephemeral(ts)
            item.text = text
            item.blocks = list(blocks or [])
            self._changed("ephemeral")

    def delete_ephemeral(self, ts: str) -> None:
        """Remove an ephemeral (response_url delete_original, or the user dismissing it)."""
        with self._lock:
            self.ephemerals.remove(self.find_ephemeral(ts))
            self._changed("ephemeral")

    def open_view(self, user_id: str, view: JsonDict, *, push: bool = False) -> OpenView:
        """Open a modal for `user_id` (a new stack), or push one onto their stack."""
        with self._lock:
            stack = self.modal_stacks.get(user_id, [])
            if push:
                if not stack:
                    raise SlackApiFailure("not_found")
                if len(stack) >= MODAL_STACK_LIMIT:
                    raise SlackApiFailure("push_limit_reached")
            external_id = view.get("external_id") or ""
            if external_id and any(v.external_id == external_id for v in self.views.values()):
                raise SlackApiFailure("duplicate_external_id")
            view_id = "V" + secrets.token_hex(5).upper()
            opened = OpenView(
                id=view_id,
                user_id=user_id,
                view=_with_block_ids(view, view_id),
                hash=self._view_hash(),
                root_view_id=stack[0] if push else view_id,
                previous_view_id=stack[-1] if push else None,
                external_id=str(external_id),
            )
            self.views[view_id] = opened
            self.modal_stacks[user_id] = [*stack, view_id] if push else [view_id]
            self._changed("view")
            return opened

    def find_view(self, *, view_id: str | None, external_id: str | None) -> OpenView:
        """A view by id or external_id, or `not_found`."""
        with self._lock:
            if view_id and view_id in self.views:
                return self.views[view_id]
            for view in self.views.values():
                if external_id and view.external_id == external_id:
                    return view
            raise SlackApiFailure("not_found")

    def update_view(
        self, found: OpenView, view: JsonDict, *, expected_hash: str | None = None
    ) -> OpenView:
        """Replace a view's content; a stale `expected_hash` is a `hash_conflict`."""
        with self._lock:
            if expected_hash and expected_hash != found.hash:
                raise SlackApiFailure("hash_conflict")
            found.view = _with_block_ids(view, found.id)
            found.hash = self._view_hash()
            found.errors = {}
            found.external_id = str(view.get("external_id") or found.external_id)
            self._changed("view")
            return found

    def mark_view(
        self,
        view: OpenView,
        *,
        values: dict[str, dict[str, JsonDict]] | None = None,
        errors: dict[str, str] | None = None,
    ) -> None:
        """Keep what the user entered and the errors the app answered, and tell listeners."""
        with self._lock:
            if values is not None:
                view.values = values
            if errors is not None:
                view.errors = errors
            self._changed("view")

    def close_view(self, user_id: str, *, clear: bool = False) -> None:
        """Close the top modal of a user's stack, or all of them (`clear`)."""
        with self._lock:
            stack = self.modal_stacks.get(user_id, [])
            closing = stack[:] if clear else stack[-1:]
            for view_id in closing:
                stack.remove(view_id)
                self.views.pop(view_id, None)
            self._changed("view")

    def open_modals(self, user_id: str) -> list[OpenView]:
        """A user's modal stack, bottom first."""
        with self._lock:
            return [self.views[view_id] for view_id in self.modal_stacks.get(user_id, [])]

    def publish_home(self, user_id: str, view: JsonDict) -> OpenView:
        """Store a user's App Home view."""
        with self._lock:
            self.user(user_id)
            current = self.home_views.get(user_id)
            view_id = current.id if current else "V" + secrets.token_hex(5).upper()
            published = OpenView(
                view_id, user_id, _with_block_ids(view, view_id), self._view_hash(), view_id
            )
            self.home_views[user_id] = published
            self._changed("home")
            return published

    def view_json(self, view: OpenView) -> JsonDict:
        """A view as the Web API returns it."""
        return view.to_slack(team_id=self.team_id, app_id=self.app_id, bot_id=self.bot_id)

    # -- calls, faults, rate limits ----------------------------------------------------------

    def record(
        self,
        method: str,
        args: JsonDict,
        response: JsonDict,
        status: int,
        *,
        at: datetime | None = None,
    ) -> ApiCall:
        """Keep one call (stamped with its arrival time) for tests and the console's banner."""
        with self._lock:
            call = ApiCall(method, args, response, status, at or self.clock.now())
            self.calls.append(call)
            self._changed("call")
            return call

    def calls_to(self, method: str) -> list[ApiCall]:
        """The recorded calls of one method, oldest first."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def fail_next(self, method: str, status: FaultKind = 500, *, times: int = 1) -> None:
        """Make the next `times` calls of `method` fail: an HTTP status, a timeout, or an error."""
        with self._lock:
            self._faults[method] = Fault(status, times)

    def take_fault(self, method: str) -> Fault | None:
        """The fault injected for this call of `method`, if any is left."""
        with self._lock:
            fault = self._faults.get(method)
            if fault is None:
                return None
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._faults[method]
            return fault

    def allow_send(self, method: str, channel_id: str) -> bool:
        """Whether a write to `channel_id` fits the per-channel rate limit (and count it)."""
        rate = self.rate_limit_per_channel_per_second
        if rate is None or method not in self.rate_limited_methods:
            return True
        with self._lock:
            # A sliding window: at most `rate` writes per second, or 1 per 1/rate s when < 1.
            window = max(1.0, 1.0 / rate)
            capacity = max(1, int(rate * window))
            now = self.clock.now().timestamp()
            sent = self._sent.setdefault(channel_id, deque())
            while sent and now - sent[0] >= window:
                sent.popleft()
            if len(sent) >= capacity:
                return False
            sent.append(now)
            return True

    # -- change notification -----------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(kind)` after every change; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def touch(self, kind: str) -> None:
        """Tell listeners something they show changed outside the workspace (demo switches)."""
        with self._lock:
            self._changed(kind)

    def _changed(self, kind: str) -> None:
        self.revision += 1
        for listener in list(self._listeners):
            listener(kind)

    # -- helpers -----------------------------------------------------------------------------

    def next_ts(self) -> str:
        """A unique, increasing Slack ts ("1764000000.000100") from the clock."""
        with self._lock:
            micros = int(self.clock.now().timestamp() * 1_000_000)
            micros = max(micros, self._last_ts_micros + 1)
            self._last_ts_micros = micros
            return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @property
    def latest_ts(self) -> str:
        """The newest ts given out so far ("0.000000" before the first)."""
        with self._lock:
            micros = self._last_ts_micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _epoch(self) -> int:
        return int(self.clock.now().timestamp())

    def _view_hash(self) -> str:
        return f"{self._epoch()}.{secrets.token_hex(4)}"

    def now(self) -> datetime:
        """The workspace clock's time."""
        return self.clock.now()


def _with_block_ids(view: JsonDict, seed: str) -> JsonDict:
    """Slack fills in block_ids the app left out; state.values are keyed by them."""
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return view
    return {**view, "blocks": assign_block_ids(blocks, seed)}
