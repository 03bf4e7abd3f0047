"""The Bolt app: listeners registered on one App, plus the cross-cutting middleware."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.release.desk import Desk
from commands import actions, modals, release
from commands.journal_runner import JournalRunner

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """Drop Bolt's start-up warning that `token` is unused because a `client` was given.

    Bolt reads SLACK_BOT_TOKEN from the environment by itself and warns whenever a client is
    passed too; ours is built from that same token (and a base URL Bolt cannot take), so the
    warning told operators about nothing wrong on every start.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def build_app(
    *,
    desk: Desk,
    journal: JournalRunner,
    client: WebClient,
    signing_secret: str,
    executor: Executor | None = None,
) -> App:
    """A Bolt app for one workspace, talking to Slack (or the console) through `client`."""
    bolt_log = logging.getLogger("releasebot.bolt")
    if not any(isinstance(f, _SameTokenNotice) for f in bolt_log.filters):
        bolt_log.addFilter(_SameTokenNotice())
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Listeners ack inline and do the slow part in lazy functions after the ack.
        process_before_response=True,
        token_verification_enabled=False,
        listener_executor=executor,
        logger=bolt_log,
    )

    @app.middleware
    def same_workspace(
        body: dict[str, Any], context: Any, next: Any, logger: logging.Logger
    ) -> BoltResponse | None:
        # A payload from another workspace is not ours to act on, whatever it says.
        team = (body.get("team") or {}).get("id") or body.get("team_id")
        installed = (
            context.get("team_id")
            if context.authorize_result is None
            else context.authorize_result.team_id
        )
        if team and installed and team != installed:
            logger.warning("refused a request from workspace %s", team)
            return BoltResponse(status=200, body="This app belongs to another workspace.")
        return next()  # type: ignore[no-any-return]

    @app.error
    def on_error(error: Exception, request: BoltRequest) -> BoltResponse:
        log.exception("listener failed", exc_info=error)
        return BoltResponse(
            status=200,
            body={
                "response_type": "ephemeral",
                "text": ":boom: Something went wrong on our side; it is logged.",
            },
        )

    release.register(app, desk, journal)
    actions.register(app, desk, journal)
    modals.register(app, desk)
    return app
