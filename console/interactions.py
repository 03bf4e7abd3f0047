"""What happens when a console user types a command, clicks a button or submits a modal."""

from __future__ import annotations

from typing import Any

from console.blockkit import (
    BlocksFormatError,
    assign_block_ids,
    parse_json_object,
    view_problems,
)
from console.bot_link import BotLink, BotReply, BotUnreachable
from console.models import Channel, JsonDict, OpenView, SlackApiFailure
from console.payloads import (
    Sender,
    block_actions,
    clicked_action,
    find_element,
    form_body,
    interaction_body,
    slash_command,
    state_values,
    view_closed,
    view_submission,
)
from console.settings import ConsoleSettings
from console.web_api_methods import message_content
from console.workspace import SLACKBOT_ID, Workspace

# Slack's own words when a modal submission gets no answer.
TROUBLE_CONNECTING = "We had some trouble connecting. Try again?"
# Errors recorded under these pseudo-methods are the bot's direct answers (not Web API calls).
COMMAND_RESPONSE = "command.response"
VIEW_RESPONSE = "view_submission.response"


class ConsoleError(Exception):
    """A console request that cannot be carried out; the message is shown to the user."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ConsoleFlows:
    """Turns console clicks into Slack requests to the bot and shows the bot's answers."""

    def __init__(self, workspace: Workspace, settings: ConsoleSettings, link: BotLink) -> None:
        self.workspace = workspace
        self.settings = settings
        self.link = link

    def sender(self, user_id: str) -> Sender:
        """The Sender fields for `user_id` (ConsoleError for someone not in the workspace)."""
        try:
            user = self.workspace.user(user_id)
        except SlackApiFailure as error:
            raise ConsoleError(f"No such user: {user_id}", status=404) from error
        return Sender(
            user_id=user.id,
            user_name=user.name,
            team_id=self.workspace.team_id,
            team_domain=self.workspace.team_domain,
            api_app_id=self.settings.api_app_id,
        )

    def _channel(self, channel_id: str) -> Channel:
        try:
            return self.workspace.channel(channel_id)
        except SlackApiFailure as error:
            raise ConsoleError(f"No such channel: {channel_id}", status=404) from error

    def _notice(self, channel_id: str, user_id: str, text: str) -> None:
        """A Slackbot ephemeral, the way Slack reports an app's failure to the user."""
        self.workspace.post_ephemeral(channel_id, user_id, text=text, author=SLACKBOT_ID)

    # -- slash commands ----------------------------------------------------------------------

    async def command(self, *, user_id: str, channel_id: str, text: str, base_url: str) -> None:
        """Send `/release …` to the bot as Slack does; plain text is posted as a message."""
        sender = self.sender(user_id)
        channel = self._channel(channel_id)
        text = text.strip()
        if not text:
            raise ConsoleError("Type a message or a /release command")
        if not text.startswith("/"):
            self.workspace.post_message(channel.id, text=text, user=user_id)
            return
        name, _, rest = text.partition(" ")
        if name != self.settings.command:
            self._notice(channel.id, user_id, f"{name} is not a valid command.")
            return
        fields = slash_command(
            sender,
            channel_id=channel.id,
            channel_name=_channel_name(channel),
            command=name,
            text=rest.strip(),
            response_url=self.workspace.issue_response_url(
                base_url=base_url, channel_id=channel.id, user_id=user_id
            ),
            trigger_id=self.workspace.issue_trigger_id(user_id),
        )
        try:
            reply = await self.link.post(form_body(fields))
        except BotUnreachable as failure:
            self._notice(channel.id, user_id, f'{name} failed with the error "{failure.error}"')
            return
        self._show_command_reply(channel, user_id, text, reply)

    def _show_command_reply(
        self, channel: Channel, user_id: str, typed: str, reply: BotReply
    ) -> None:
        """The ack body: ephemeral by default, in the channel with response_type in_channel."""
        body = reply.json()
        if body is None:
            if reply.text.strip() and "json" not in reply.content_type:
                self.workspace.post_ephemeral(channel.id, user_id, text=reply.text.strip())
            return
        try:
            text, blocks = message_content(body)
        except SlackApiFailure as failure:
            self.workspace.record(COMMAND_RESPONSE, body, failure.body(), 200)
            return
        self.workspace.record(COMMAND_RESPONSE, body, {"ok": True}, 200)
        if body.get("response_type") == "in_channel":
            # Slack shows the invocation itself when the answer is for everyone.
            self.workspace.post_message(channel.id, text=typed, user=user_id)
            self.workspace.post_message(channel.id, text=text or "", blocks=blocks)
        else:
            self.workspace.post_ephemeral(channel.id, user_id, text=text or "", blocks=blocks)

    # -- button clicks -----------------------------------------------------------------------

    async def click(
        self,
        *,
        user_id: str,
        action_id: str,
        block_id: str | None,
        value: str | None = None,
        channel_id: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
        base_url: str,
    ) -> None:
        """Send block_actions for a click in a message (or ephemeral) or in an open modal."""
        sender = self.sender(user_id)
        action_ts = self.workspace.next_ts()
        trigger_id = self.workspace.issue_trigger_id(user_id)
        if view_id is not None:
            view = self._own_view(user_id, view_id)
            element = _element(view.view.get("blocks", []), block_id, action_id)
            action = clicked_action(
                element, block_id=block_id or "", action_ts=action_ts, value=value
            )
            view_json = self.workspace.view_json(view)
            payload = block_actions(sender, action=action, trigger_id=trigger_id, view=view_json)
            await self._deliver_click(payload, channel_id=None, user_id=user_id, view=view)
            return
        if channel_id is None or message_ts is None:
            raise ConsoleError("A click needs a channel and a message, or a view")
        channel = self._channel(channel_id)
        message_json, is_ephemeral = self._clicked_message(channel, user_id, message_ts)
        element = _element(message_json.get("blocks", []), block_id, action_id)
        real_block_id = _block_id_of(message_json.get("blocks", []), element)
        action = clicked_action(element, block_id=real_block_id, action_ts=action_ts, value=value)
        payload = block_actions(
            sender,
            action=action,
            trigger_id=trigger_id,
            channel=(channel.id, _channel_name(channel)),
            # Slack sends no `message` for clicks in ephemeral messages, only the container.
            message=None if is_ephemeral else message_json,
            message_ts=message_ts,
            is_ephemeral=is_ephemeral,
            response_url=self.workspace.issue_response_url(
                base_url=base_url,
                channel_id=channel.id,
                user_id=user_id,
                source_ts=message_ts,
                source_is_ephemeral=is_ephemeral,
            ),
        )
        await self._deliver_click(payload, channel_id=channel.id, user_id=user_id, view=None)

    def _clicked_message(self, channel: Channel, user_id: str, ts: str) -> tuple[JsonDict, bool]:
        """The clicked message as Slack describes it, and whether it is an ephemeral."""
        try:
            message = self.workspace.find_message(channel.id, ts)
        except SlackApiFailure:
            for item in self.workspace.ephemerals_for(user_id, channel.id):
                if item.ts == ts:
                    blocks = assign_block_ids(item.blocks, item.ts)
                    return {"type": "message", "ts": ts, "text": item.text, "blocks": blocks}, True
            raise ConsoleError("That message is gone", status=404) from None
        replies = [] if message.is_reply else self.workspace.replies(channel.id, message.ts)
        message_json = message.to_slack(replies)
        message_json["blocks"] = assign_block_ids(message.blocks, message.ts)
        return message_json, False

    async def _deliver_click(
        self, payload: JsonDict, *, channel_id: str | None, user_id: str, view: OpenView | None
    ) -> None:
        try:
            await self.link.post(interaction_body(payload))
        except BotUnreachable as failure:
            text = f"releasebot: the app did not respond ({failure.error})"
            if view is not None:
                self.workspace.mark_view(view, errors={"": text})
            elif channel_id is not None:
                self._notice(channel_id, user_id, text)

    # -- modals ------------------------------------------------------------------------------

    def _own_view(self, user_id: str, view_id: str) -> OpenView:
        view = self.workspace.views.get(view_id)
        if view is None or view.user_id != user_id:
            raise ConsoleError("That dialog is closed", status=404)
        return view

    async def submit_view(
        self, *, user_id: str, view_id: str, values: dict[str, dict[str, Any]]
    ) -> None:
        """Send view_submission and do what the bot's response_action asks."""
        sender = self.sender(user_id)
        view = self._own_view(user_id, view_id)
        try:
            state = state_values(view.view.get("blocks", []), values)
        except ValueError as error:
            self.workspace.mark_view(view, errors={"": f"Check what you entered: {error}"})
            return
        # Slack itself refuses a submission with a required field left empty, under each such
        # field, and the app never hears of it.
        missing = _missing_required(view.view.get("blocks", []), state)
        self.workspace.mark_view(view, values=state, errors=missing)
        if missing:
            return
        payload = view_submission(
            sender,
            view=self.workspace.view_json(view),
            trigger_id=self.workspace.issue_trigger_id(user_id),
        )
        try:
            reply = await self.link.post(interaction_body(payload))
        except BotUnreachable:
            self.workspace.mark_view(view, errors={"": TROUBLE_CONNECTING})
            return
        self._apply_view_reply(view, reply)

    def _apply_view_reply(self, view: OpenView, reply: BotReply) -> None:
        """No body closes the view; response_action errors/update/push/clear as Slack does."""
        body = reply.json()
        action = body.get("response_action") if body else None
        if body is None or action is None:
            self.workspace.close_view(view.user_id)
            return
        if action == "errors" and isinstance(body.get("errors"), dict):
            errors = {str(key): str(text) for key, text in body["errors"].items()}
            self.workspace.record(VIEW_RESPONSE, body, {"ok": True}, 200)
            self.workspace.mark_view(view, errors=errors)
            return
        if action == "clear":
            self.workspace.close_view(view.user_id, clear=True)
            return
        if action in ("update", "push"):
            new_view = self._valid_view(body)
            if new_view is None:
                self.workspace.mark_view(view, errors={"": "The app answered with an invalid view"})
                return
            self.workspace.record(VIEW_RESPONSE, body, {"ok": True}, 200)
            if action == "update":
                self.workspace.update_view(view, new_view)
            else:
                self.workspace.open_view(view.user_id, new_view, push=True)
            return
        failure = SlackApiFailure("invalid_response_action", messages=[f"[ERROR] {action!r}"])
        self.workspace.record(VIEW_RESPONSE, body, failure.body(), 200)
        self.workspace.mark_view(view, errors={"": "The app answered with an invalid response"})

    def _valid_view(self, body: JsonDict) -> JsonDict | None:
        """The `view` of a response_action, or None (recorded) when Slack would refuse it."""
        try:
            view = parse_json_object(body.get("view"))
        except BlocksFormatError as error:
            failure = SlackApiFailure("invalid_arguments", messages=[f"[ERROR] view {error}"])
            self.workspace.record(VIEW_RESPONSE, body, failure.body(), 200)
            return None
        if view is None:
            failure = SlackApiFailure("invalid_arguments", messages=["[ERROR] missing view"])
            self.workspace.record(VIEW_RESPONSE, body, failure.body(), 200)
            return None
        view_errors, block_errors = view_problems(view)
        if block_errors or view_errors:
            code = "invalid_blocks" if block_errors else "invalid_arguments"
            failure = SlackApiFailure(code, messages=block_errors or view_errors)
            self.workspace.record(VIEW_RESPONSE, body, failure.body(), 200)
            return None
        return view

    async def close_view(self, *, user_id: str, view_id: str) -> None:
        """Cancel: close the modal; tell the bot only if the view asked (notify_on_close)."""
        view = self._own_view(user_id, view_id)
        sender = self.sender(user_id)
        notify = bool(view.view.get("notify_on_close"))
        view_json = self.workspace.view_json(view)
        self.workspace.close_view(user_id)
        if notify:
            # Nothing to show if the bot misses a view_closed: Slack does not either.
            try:
                await self.link.post(interaction_body(view_closed(sender, view=view_json)))
            except BotUnreachable:
                return


REQUIRED_FIELD = "Please complete this required field."


def _missing_required(blocks: list[JsonDict], state: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each input block not marked optional whose value is empty → Slack's error under it."""
    missing: dict[str, str] = {}
    for block in blocks:
        if block.get("type") != "input" or block.get("optional"):
            continue
        block_id = str(block.get("block_id", ""))
        chosen = state.get(block_id, {})
        filled = any(
            value not in (None, "", [])
            for element in chosen.values()
            for key, value in element.items()
            if key != "type"
        )
        if not filled:
            missing[block_id] = REQUIRED_FIELD
    return missing


def _channel_name(channel: Channel) -> str:
    """The channel_name Slack sends: the name, or "directmessage" for a DM."""
    if channel.is_im:
        return "directmessage"
    return channel.name


def _element(blocks: list[JsonDict], block_id: str | None, action_id: str) -> JsonDict:
    element = find_element(blocks, block_id, action_id)
    if element is None:
        raise ConsoleError("That button is no longer there", status=404)
    return element


def _block_id_of(blocks: list[JsonDict], element: JsonDict) -> str:
    for block in blocks:
        elements = block.get("elements") if isinstance(block.get("elements"), list) else []
        if element is block.get("accessory") or element is block.get("element"):
            return str(block.get("block_id", ""))
        if any(element is item for item in elements or []):
            return str(block.get("block_id", ""))
    return ""
