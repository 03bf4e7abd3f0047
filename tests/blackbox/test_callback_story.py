"""A webhook deploy service calling back late or twice cannot rewrite a rollout (issue 9.5).

The team's deploy service is a local HTTP server that records releasebot's signed POSTs; the
test plays its callbacks to `POST /hooks/deploy/<token>`, signed as the README's contract says
(`sha256=` HMAC of `<timestamp>.<body>` with RELEASEBOT_WEBHOOK_SECRET).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.testing import running_server
from tests.blackbox.harness import (
    CheckTarget,
    Deployment,
    FakeSlack,
    ShippedBot,
    eventually,
    shipped_bot,
)

SECRET = "blackbox-webhook-secret-0123456789"


class DeployService:
    """Accepts each deployment (202) and keeps what releasebot sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.url = ""

    async def _deploy(self, request: Request) -> Response:
        with self._lock:
            self.received.append(json.loads(await request.body()))
        return JSONResponse({"url": "https://deployer.internal/runs/1"}, status_code=202)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/deploy", self._deploy, methods=["POST"])])

    def got(self, count: int) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received) if len(self.received) >= count else []


@pytest.fixture
def service() -> Iterator[DeployService]:
    found = DeployService()
    with running_server(found.app()) as url:
        found.url = url + "/deploy"
        yield found


@pytest.fixture
def deployment(tmp_path: Path, target: CheckTarget, service: DeployService) -> Deployment:
    root = tmp_path / "deploy"
    root.mkdir()
    found = Deployment(root)
    found.write(
        check_url=target.url,
        extra=f'\n[services.search]\nbackend = "webhook"\nurl = "{service.url}"\n',
    )
    return found


@pytest.fixture
def bot(deployment: Deployment, slack: FakeSlack, database_url: str | None) -> Iterator[ShippedBot]:
    with shipped_bot(
        deployment.root, slack, database_url=database_url, RELEASEBOT_WEBHOOK_SECRET=SECRET
    ) as shipped:
        migrated = shipped.run("migrate")
        assert migrated.code == 0, migrated.stderr
        shipped.serve()
        yield shipped


def _call_back(deployment: dict[str, Any], **payload: Any) -> httpx.Response:
    body = json.dumps(payload).encode()
    at = str(int(time.time()))
    signature = hmac.new(SECRET.encode(), at.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"X-Releasebot-Timestamp": at, "X-Releasebot-Signature": f"sha256={signature}"}
    return httpx.post(str(deployment["callback_url"]), content=body, headers=headers, timeout=15)


def test_a_replayed_or_late_callback_is_refused_and_the_outcome_stands(
    bot: ShippedBot, slack: FakeSlack, service: DeployService
) -> None:
    bot.command(slack, "U0REQUESTER", "plan search 2.0 to staging")
    bot.click(slack, "U0REQUESTER", slack.card_when("R-1", "Approved", timeout=20), "plan_deploy")
    [started] = eventually(lambda: service.got(1), what="the deploy POST")
    assert (started["action"], started["version"]) == ("deploy", "2.0")

    assert _call_back(started, state="running", sequence=1).status_code == 200
    failed = _call_back(started, state="failed", sequence=2, message="pods crash-looping")
    assert failed.status_code == 200
    # The old "running" again, and a "succeeded" a retry queue sent late: both refused.
    replay = _call_back(started, state="running", sequence=1)
    assert replay.status_code == 409, replay.text
    # (The engine may already have ended the stage: either reason is a refusal.)
    reason = replay.json()["error"]
    assert "a final state is final" in reason or "the deployment has ended" in reason, reason
    late = _call_back(started, state="succeeded", sequence=3)
    assert late.status_code == 409, late.text

    rollback = eventually(lambda: service.got(2), what="the rollback POST")[1]
    assert (rollback["action"], rollback["version"], rollback["weight"]) == ("rollback", "2.0", 0)
    assert _call_back(rollback, state="succeeded", sequence=1).status_code == 200
    card = slack.card_when("R-1", "Rolled back", "Released", "Failed")
    assert card.text.endswith("Rolled back"), slack.story("R-1")

    # The first deployment has ended: however new, a callback about it changes nothing.
    ended = _call_back(started, state="succeeded", sequence=99)
    assert ended.status_code == 409, ended.text
    assert "the deployment has ended" in ended.json()["error"]
    slack.quiet()
    assert slack.card_when("R-1", "Rolled back").text.endswith("Rolled back")
    assert not any("R-1 is released" in line for line in slack.thread(card))
    assert slack.history("C0ANNOUNCE") == []
