"""The Bolt app: listeners registered on one App, plus the cross-cutting middleware."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.desk import Desk
from commands import actions, modals, release
from commands.journal_runner import JournalRunner

log = logging.getLogger(__name__)


def build_app(
    *,
    desk: Desk,
    journal: JournalRunner,
    client: WebClient,
    signing_secret: str,
    executor: Executor | None = None,
) -> App:
    """A Bolt app for one workspace, talking to Slack (or the console) through `client`."""
    app = App(
        client=client,
        signing_secret=signing_secret,
        # Listeners ack inline and do the slow part in lazy functions after the ack.
        process_before_response=True,
        token_verification_enabled=False,
        listener_executor=executor,
        logger=logging.getLogger("releasebot.bolt"),
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
