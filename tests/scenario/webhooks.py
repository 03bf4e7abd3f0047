"""A bot whose deploys go to a webhook deploy service, with its callback routes served.

Shared by the callback scenarios and the bad-input table: the bot is built as `serve` builds
it (its Slack stand-in, the Redactor on callbacks as `releasebot_routes` wires it), and the
deploy service is the far side that records each signed POST and calls back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.app.bootstrap import SlackCredentials, build
from bot.app.http import hook_routes
from bot.app.settings import Settings
from bot.domain.config import ReleasebotConfig
from console.slack_api import Workspace, create_slack_api_app
from console.testing import ManualClock, running_server
from integrations.deploy.webhook import sign
from tests.scenario.driver import SIGNING_SECRET, InlineExecutor, SlackDriver

SECRET = "deploy-service-shared-secret"
PUBLIC_URL = "http://releasebot.internal"


@dataclass
class DeployService:
    """The team's deploy service: records each signed POST and calls releasebot back."""

    hooks: str = ""
    clock: ManualClock | None = None
    received: list[dict[str, Any]] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.content))
        return httpx.Response(202, json={"url": "https://deployer.internal/runs/1"})

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        assert self.clock is not None
        body = json.dumps(payload).encode()
        timestamp = str(int(self.clock.now().timestamp()))
        return body, {
            "X-Releasebot-Timestamp": timestamp,
            "X-Releasebot-Signature": sign(SECRET, timestamp, body),
        }

    def call_back(self, deployment: int, **payload: Any) -> httpx.Response:
        """Send a callback about the `deployment`-th POST this service received."""
        body, headers = self.signed(payload)
        return self.post(deployment, body, headers)

    def post(self, deployment: int, body: bytes, headers: dict[str, str]) -> httpx.Response:
        url = str(self.received[deployment]["callback_url"])
        return httpx.post(self.hooks + url.removeprefix(PUBLIC_URL), content=body, headers=headers)


@contextmanager
def bot_with_deploy_hooks(
    *,
    workspace: Workspace,
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    service: DeployService,
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    route: Callable[[httpx.Request], httpx.Response] | None = None,
) -> Iterator[SlackDriver]:
    """The bot (outbound HTTP to `route`, default the deploy service) and its hook routes."""
    monkeypatch.setenv("RELEASEBOT_WEBHOOK_SECRET", SECRET)
    http = httpx.Client(transport=httpx.MockTransport(route or service.handler))
    with running_server(create_slack_api_app(workspace)) as url:
        bot = build(
            Settings(
                DATABASE_URL=database_url,
                RELEASEBOT_STATE_DIR=str(state_dir),
                RELEASEBOT_PUBLIC_URL=PUBLIC_URL,
            ),
            http=http,
            credentials=SlackCredentials(
                bot_token=workspace.bot_token, signing_secret=SIGNING_SECRET, api_url=url + "/api/"
            ),
            config=config,
            clock=clock,
            executor=InlineExecutor(),
        )
        hooks = Starlette(
            routes=hook_routes(
                bot.db,
                clock=clock,
                secret_of=bot.backends.webhook_secret,
                on_callback=lambda: None,
                redact=bot.backends.redact,  # as releasebot_routes wires it
            )
        )
        with running_server(hooks) as hooks_url:
            service.hooks, service.clock = hooks_url, clock
            yield SlackDriver(bot=bot, workspace=workspace, api_url=url, clock=clock)
        bot.db.engine.dispose()
    http.close()
