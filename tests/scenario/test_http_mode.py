"""`releasebot serve`'s HTTP surface: /slack/events verifies signatures, /healthz, /metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.app.http import create_http_app
from bot.store.db import Database, make_engine
from bot.store.models import ReleasePlan
from console import payloads
from console.testing import running_server
from tests.scenario.driver import SIGNING_SECRET, SlackDriver


@pytest.fixture
def http(slack: SlackDriver) -> Iterator[httpx.Client]:
    with (
        running_server(
            create_http_app(slack.bot.app, slack.bot.db, signing_secret=SIGNING_SECRET)
        ) as url,
        httpx.Client(base_url=url) as client,
    ):
        yield client


def _command_body(slack: SlackDriver, text: str) -> str:
    return payloads.form_body(
        payloads.slash_command(
            slack.sender("U0REQUESTER"),
            channel_id="C0RELEASES",
            channel_name="releases",
            command="/release",
            text=text,
            response_url=slack.workspace.issue_response_url(
                base_url=slack.api_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
            ),
            trigger_id=slack.workspace.issue_trigger_id("U0REQUESTER"),
        )
    )


def test_a_signed_command_is_answered(slack: SlackDriver, http: httpx.Client) -> None:
    body = _command_body(slack, "help plan")
    response = http.post(
        "/slack/events",
        content=body,
        headers=payloads.signed_headers(SIGNING_SECRET, body, datetime.now(UTC)),
    )
    assert response.status_code == 200
    assert "/release plan" in response.text


@pytest.mark.parametrize(
    ("secret", "age"),
    [("wrong-secret", timedelta(0)), (SIGNING_SECRET, timedelta(minutes=5, seconds=30))],
    ids=["bad signature", "stale timestamp"],
)
def test_unsigned_or_stale_requests_get_401_and_change_nothing(
    slack: SlackDriver, http: httpx.Client, secret: str, age: timedelta
) -> None:
    body = _command_body(slack, "plan checkout 1.4.2 to staging")
    headers = payloads.signed_headers(secret, body, datetime.now(UTC) - age)
    response = http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    slack.settle()
    with slack.bot.db.session() as session:
        assert session.exec(select(ReleasePlan)).all() == []
    assert slack.workspace.calls_to("chat.postMessage") == []


def test_healthz_checks_the_database(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_dead_database_without_its_details(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = Database(make_engine("postgresql+psycopg://postgres@127.0.0.1:9/gone"))
    app = create_http_app(slack.bot.app, unreachable, signing_secret=SIGNING_SECRET)
    with caplog.at_level(logging.WARNING, logger="bot.app.http"), running_server(app) as url:
        answers = [httpx.get(url + "/healthz") for _ in range(2)]
    assert [a.status_code for a in answers] == [503, 503]
    # Unauthenticated callers learn nothing about the host, port or driver (issue 9.15)...
    assert all(a.json() == {"status": "unhealthy", "database": "unavailable"} for a in answers)
    # ...the operator reads it in the log, once.
    [line] = [r.getMessage() for r in caplog.records if "database unhealthy" in r.getMessage()]
    assert "127.0.0.1" in line and "check DATABASE_URL" in line
    unreachable.engine.dispose()


def test_metrics_count_requests_and_ack_latency(slack: SlackDriver, http: httpx.Client) -> None:
    body = _command_body(slack, "list")
    http.post(
        "/slack/events",
        content=body,
        headers=payloads.signed_headers(SIGNING_SECRET, body, datetime.now(UTC)),
    )
    metrics = http.get("/metrics")
    assert metrics.status_code == 200
    assert 'releasebot_slack_requests_total{kind="command",status="200"} 1.0' in metrics.text
    assert 'releasebot_slack_ack_seconds_count{kind="command"} 1.0' in metrics.text
