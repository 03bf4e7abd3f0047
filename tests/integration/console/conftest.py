"""Fixtures for the console's tests: a workspace shaped like SPEC §10, served on a real port."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.app import ConsoleSettings, ConsoleUser, create_console_app
from console.browser import CHROMIUM, shared_chromium
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ConsoleRun, ManualClock, running_server


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def workspace(clock: ManualClock) -> Workspace:
    workspace = Workspace(clock=clock)
    workspace.add_channel("C0RELEASES", "releases")
    workspace.add_channel("C0ANNOUNCE", "announcements")
    workspace.add_channel("C0ONCALL", "oncall")
    workspace.add_user("U0REQUESTER", "rita", title="Engineer")
    workspace.add_user("U0APPROVER1", "alice", title="Release manager")
    workspace.add_user("U0APPROVER2", "bob", title="SRE")
    workspace.add_user("U0ADMIN", "ada", title="Admin", is_admin=True)
    workspace.add_usergroup("S0SRE", "sre", ["U0APPROVER2", "U0ADMIN"])
    return workspace


@pytest.fixture
def api_url(workspace: Workspace) -> Iterator[str]:
    with running_server(create_slack_api_app(workspace)) as url:
        yield url


@pytest.fixture
def client(workspace: Workspace, api_url: str) -> WebClient:
    return WebClient(token=workspace.bot_token, base_url=api_url + "/api/")


# -- a small real Bolt app standing in for releasebot ---------------------------------------

SIGNING_SECRET = "console-test-signing-secret"
PEOPLE = [
    ConsoleUser("U0REQUESTER", "rita", "Engineer"),
    ConsoleUser("U0APPROVER1", "alice", "Release manager"),
    ConsoleUser("U0ADMIN", "ada", "Admin", is_admin=True),
    ConsoleUser("U0STRANGER", "sam", "Visitor"),
]
CHANNELS = [("C0RELEASES", "releases"), ("C0ANNOUNCE", "announcements"), ("C0ONCALL", "oncall")]


def card_blocks(state: str, *, with_buttons: bool) -> list[dict[str, Any]]:
    """The stand-in bot's release card."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "R-1 checkout 1.4.2"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*State:* {state}"},
            "fields": [
                {"type": "mrkdwn", "text": "*Env*\nproduction"},
                {"type": "mrkdwn", "text": "*Requested by*\n<@U0REQUESTER>"},
            ],
        },
    ]
    if with_buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": "card_buttons",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "style": "primary",
                        "value": "R-1",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "confirm": {
                            "title": {"type": "plain_text", "text": "Approve R-1?"},
                            "text": {"type": "mrkdwn", "text": "This counts toward the quorum."},
                            "confirm": {"type": "plain_text", "text": "Yes, approve"},
                            "deny": {"type": "plain_text", "text": "Not yet"},
                        },
                    },
                    {
                        "type": "button",
                        "action_id": "edit",
                        "value": "R-1",
                        "text": {"type": "plain_text", "text": "Edit"},
                    },
                ],
            }
        )
    return blocks


PLAN_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "plan_form",
    "private_metadata": "R-1",
    "title": {"type": "plain_text", "text": "Edit R-1"},
    "submit": {"type": "plain_text", "text": "Save"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "version",
            "label": {"type": "plain_text", "text": "Version"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "env",
            "label": {"type": "plain_text", "text": "Environment"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [
                    {"text": {"type": "plain_text", "text": "staging"}, "value": "staging"},
                    {"text": {"type": "plain_text", "text": "production"}, "value": "production"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "day",
            "optional": True,
            "label": {"type": "plain_text", "text": "Day"},
            "element": {"type": "datepicker", "action_id": "date"},
        },
    ],
}


@dataclass
class StandInBot:
    """The Bolt app and the switches a test flips on it."""

    app: App
    client: WebClient
    release_slow: threading.Event = field(default_factory=threading.Event)
    submissions: list[dict[str, Any]] = field(default_factory=list)


def build_standin_bot(client: WebClient) -> StandInBot:
    """A real Bolt app answering /release, two buttons, and a modal with validation."""
    app = App(signing_secret=SIGNING_SECRET, client=client, token_verification_enabled=False)
    bot = StandInBot(app, client)

    @app.command("/release")
    def release(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient) -> None:
        words = command["text"].split()
        verb = words[0] if words else "help"
        if verb == "help":
            ack(text="Usage: /release plan <service> <version> to <env>")
        elif verb == "public":
            ack(response_type="in_channel", text="Everyone sees this answer")
        elif verb == "slow":
            bot.release_slow.wait(10)
            ack()
        elif verb == "broken":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"],
                text="too big",
                blocks=[{"type": "divider"}] * 51,
            )
        elif verb == "confirm":
            ack()
            respond(
                text="Deploy R-1 now?",
                blocks=[
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Deploy *R-1* now?"}},
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "deploy_now",
                                "text": {"type": "plain_text", "text": "Deploy"},
                                "style": "danger",
                            }
                        ],
                    },
                ],
            )
        elif verb == "plan":
            ack()
            client.chat_postMessage(
                channel=command["channel_id"],
                text="R-1 awaiting approval",
                blocks=card_blocks("awaiting_approval", with_buttons=True),
            )
        else:
            ack(text=f"Unknown sub-command: {verb}")

    @app.action("approve")
    def approve(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.chat_update(
            channel=body["container"]["channel_id"],
            ts=body["container"]["message_ts"],
            text=f"R-1 approved by <@{body['user']['id']}>",
            blocks=card_blocks("approved", with_buttons=False),
        )
        client.chat_postMessage(
            channel=body["container"]["channel_id"],
            thread_ts=body["container"]["message_ts"],
            text=f"<@{body['user']['id']}> approved",
        )

    @app.action("edit")
    def edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=PLAN_MODAL)

    @app.action("deploy_now")
    def deploy_now(ack: Ack, respond: Respond) -> None:
        ack()
        respond(replace_original=True, text="Deploying R-1")

    @app.view("plan_form")
    def submit(ack: Ack, view: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        values = view["state"]["values"]
        version = values["version"]["value"]["value"] or ""
        bot.submissions.append(values)
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            ack(response_action="errors", errors={"version": "Use a version like 1.4.2"})
            return
        ack()
        env = values["env"]["choice"]["selected_option"]["value"]
        client.chat_postMessage(channel="C0RELEASES", text=f"R-1 now {version} to {env}")

    return bot


@pytest.fixture
def standin_bot() -> StandInBot:
    # The bot's client learns the console's address once the console is up.
    return build_standin_bot(WebClient(token="xoxb-console-token", base_url="http://127.0.0.1:9/"))


@pytest.fixture
def console_run(standin_bot: StandInBot) -> Iterator[ConsoleRun]:
    bot = standin_bot
    handler = SlackRequestHandler(bot.app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    bot_app = Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    with running_server(bot_app) as bot_url:
        settings = ConsoleSettings(
            signing_secret=SIGNING_SECRET,
            bot_events_url=bot_url + "/slack/events",
            bot_token="xoxb-console-token",
            channels=CHANNELS,
            users=PEOPLE,
            usergroups=[("S0SRE", "sre", ["U0APPROVER1", "U0ADMIN"])],
        )
        app = create_console_app(settings)
        with running_server(app) as url:
            bot.client.base_url = url + "/api/"
            try:
                yield ConsoleRun(url, app.state.workspace, settings)
            finally:
                bot.release_slow.set()


# -- a browser for the end-to-end tests -------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session (the system one; waits while apt installs it)."""
    deadline = time.monotonic() + 300
    while not Path(CHROMIUM).exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{CHROMIUM} did not appear within 5 minutes")
        threading.Event().wait(2)  # apt is still installing it; nothing to be notified by
    # Shared with tests/e2e: Playwright's sync API allows one instance per thread.
    with shared_chromium() as launched:
        yield launched
