"""The bad-input table (issue 9 §3): every row gets its exact answer and changes nothing.

Each row of tests/scenario/bad_input_table.py is sent the way it arrives in production — a
signed slash command, a signed button click, a modal submission, a signed deploy callback over
HTTP, or `releasebot check-config` on a config file — after the row's setup was built through
Slack. The test compares what the sender is shown with the table, and compares the database
(every plan-facing table), the messages in Slack and the deploy calls before and after.
docs/bad-input.md is rendered from the same table and must be current.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from bot.app.cli import check_config
from bot.app.settings import Settings
from bot.domain.config import ReleasebotConfig, load_config
from console import payloads
from console.slack_api import Workspace
from console.testing import ManualClock, click_payload
from integrations.deploy.webhook import sign
from scripts.bad_input_doc import DOC, render
from tests.scenario.bad_input_table import (
    PRODUCTION_PLAN,
    ROWS,
    STAGING_PLAN,
    WEBHOOK_ROLLOUT,
    Bad,
)
from tests.scenario.conftest import Health
from tests.scenario.driver import SlackDriver
from tests.scenario.releases import plan, release_checkout
from tests.scenario.webhooks import SECRET, DeployService, bot_with_deploy_hooks

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "releasebot.toml"
DEPLOYER = "https://deployer.internal/releasebot"
SEARCH = f"""
[services.search]
backend = "webhook"
url = "{DEPLOYER}"
"""
# Tables a refusal may write to on purpose: the command journal (a command is journalled
# before its ack, then marked refused), inbound request de-duplication and the health probe.
# The audit trail may gain the refusal itself (`permission.refused`, `callback.refused`, ...):
# refusals are audited on purpose. Nothing else may change.
BOOKKEEPING = {"command_journal", "inbound_request", "write_probe"}
# Web API methods that change what people see (an ephemeral answer is not one of them).
VISIBLE = {"chat.postMessage", "chat.update", "chat.delete", "views.open", "views.update"}
RECORD = os.environ.get("BAD_INPUT_RECORD") == "1"


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    path = tmp_path / "releasebot.toml"
    # The fixture's deploy.sh, wherever this copy of the config is written.
    source = FIXTURE.read_text().replace('"./deploy.sh"', f'"{FIXTURE.parent}/deploy.sh"')
    path.write_text(source + SEARCH)
    return load_config(path)


@dataclass
class Far:
    """What the row's input arrives through besides Slack."""

    hooks: str
    service: DeployService
    clock: ManualClock


@pytest.fixture
def far() -> dict[str, Any]:
    return {}


@pytest.fixture
def slack(
    workspace: Workspace,
    database_url: str,
    config: ReleasebotConfig,
    clock: ManualClock,
    health: Health,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    far: dict[str, Any],
) -> Iterator[SlackDriver]:
    service = DeployService()

    def route(request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(DEPLOYER):
            return service.handler(request)
        return health.handler(request)

    with bot_with_deploy_hooks(
        workspace=workspace,
        database_url=database_url,
        config=config,
        clock=clock,
        service=service,
        state_dir=tmp_path / "state",
        monkeypatch=monkeypatch,
        route=route,
    ) as driver:
        far["far"] = Far(hooks=service.hooks, service=service, clock=clock)
        yield driver


# -- setting the scene ---------------------------------------------------------------------


def _set_up(slack: SlackDriver, far: Far, setup: str) -> None:
    if setup == PRODUCTION_PLAN:
        release_checkout(slack, 1, "1.4.2")
        plan(slack, "checkout 1.4.2 to production")
    elif setup == STAGING_PLAN:
        plan(slack, "checkout 1.4.2 to staging")
    elif setup == WEBHOOK_ROLLOUT:
        plan(slack, "search 2.0 to staging")
        slack.command("U0REQUESTER", "deploy R-1")
        slack.roll(lambda: len(far.service.received) == 1)
    slack.settle()


@dataclass(frozen=True)
class Snapshot:
    rows: dict[str, list[tuple[Any, ...]]]
    visible_calls: int
    deploys: tuple[str, ...]


def _snapshot(slack: SlackDriver, far: Far, calls: Path) -> Snapshot:
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with slack.bot.db.engine.connect() as connection:
        names = [
            str(name)
            for name in connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type='table'"
                    if connection.dialect.name == "sqlite"
                    else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                )
            ).scalars()
        ]
        for name in sorted(set(names) - BOOKKEEPING - {"alembic_version"}):
            table = text(
                f'SELECT * FROM "{name}"'
                + (" WHERE action NOT LIKE '%.refused'" if name == "audit_event" else "")
            )
            rows[name] = sorted(
                (tuple(str(v) for v in row) for row in connection.execute(table)), key=str
            )
    visible = sum(1 for call in slack.workspace.calls if call.method in VISIBLE)
    deploys = tuple(calls.read_text().splitlines()) if calls.exists() else ()
    return Snapshot(rows, visible, (*deploys, *map(json.dumps, far.service.received)))


# -- sending the bad input -----------------------------------------------------------------


def _as_seen(mrkdwn: str) -> str:
    """What Slack shows for mrkdwn text: its three escapes read as the characters."""
    return mrkdwn.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _send(slack: SlackDriver, far: Far, row: Bad) -> str:
    before = len(slack.ephemerals(row.user))
    if row.surface == "slash command":
        ack = slack.command(row.user, row.given.removeprefix("/release "))
        slack.settle()
        if ack.get("text"):
            return _as_seen(str(ack["text"]))
        return _as_seen("\n".join(slack.ephemerals(row.user)[before:]))
    if row.surface == "button":
        card = slack.card(str(row.detail["card"]))
        action_id = str(row.detail["action_id"])
        if "value" in row.detail:
            found = [
                (block_id, element)
                for block_id, element in payloads.iter_elements(card.blocks)
                if element.get("action_id") == action_id
            ]
            block_id, element = found[0]
            forged = {**element, "value": row.detail["value"]}
            action = payloads.clicked_action(
                forged, block_id=block_id or "", action_ts=f"{time.time():.6f}"
            )
            payload = click_payload(
                slack.workspace,
                user_id=row.user,
                message=card,
                action=action,
                api_url=slack.api_url,
            )
            response = slack.dispatch(payloads.interaction_body(payload))
        else:
            response = slack.click(row.user, card, action_id)
        assert response.status == 200, response.body
        slack.settle()
        return _as_seen("\n".join(slack.ephemerals(row.user)[before:]))
    if row.surface == "modal":
        response = slack.submit(
            row.user, {key: {"value": value} for key, value in row.detail.items()}
        )
        assert response.status == 200, response.body
        errors = json.loads(response.body)
        assert errors["response_action"] == "errors", errors
        return "\n".join(f"{key}: {value}" for key, value in sorted(errors["errors"].items()))
    if row.surface == "deploy callback":
        [started] = far.service.received
        url = str(started["callback_url"]).removeprefix("http://releasebot.internal")
        if "token" in row.detail:
            url = url.rsplit("/", 1)[0] + "/" + str(row.detail["token"])
        body = (
            str(row.detail["raw"]).encode()
            if "raw" in row.detail
            else json.dumps(row.detail["body"]).encode()
        )
        at = int(far.clock.now().timestamp()) - int(str(row.detail.get("age", 0)))
        headers = {
            "X-Releasebot-Timestamp": str(at),
            "X-Releasebot-Signature": str(
                row.detail.get("signature") or sign(SECRET, str(at), body)
            ),
        }
        answer = httpx.post(far.hooks + url, content=body, headers=headers)
        return f"{answer.status_code} {answer.json()['error']}"
    raise AssertionError(f"no sender for {row.surface}")


SLACK_ROWS = [row for row in ROWS if row.surface != "config"]
CONFIG_ROWS = [row for row in ROWS if row.surface == "config"]


@pytest.mark.parametrize("row", SLACK_ROWS, ids=[row.id for row in SLACK_ROWS])
def test_a_bad_input_is_answered_and_changes_nothing(
    row: Bad, slack: SlackDriver, far: dict[str, Any], deploy_calls: Path
) -> None:
    sides: Far = far["far"]
    _set_up(slack, sides, row.setup)
    if row.surface == "modal":
        slack.command(row.user, "new")  # the person opens the modal, then submits it wrong
    before = _snapshot(slack, sides, deploy_calls)
    answer = _send(slack, sides, row)
    if RECORD:
        print(f"\nRECORD {row.id!r} => {answer!r}")
    assert answer == row.answer
    after = _snapshot(slack, sides, deploy_calls)
    assert after.deploys == before.deploys, "a deploy was started or recorded"
    assert after.visible_calls == before.visible_calls, "something was posted or changed in Slack"
    assert after.rows == before.rows, "the database changed"


@pytest.mark.parametrize("row", CONFIG_ROWS, ids=[row.id for row in CONFIG_ROWS])
def test_a_bad_config_is_refused_with_its_reason(
    row: Bad, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = row.detail["replace"]  # type: ignore[misc]
    source = FIXTURE.read_text()
    assert str(old) in source
    path = tmp_path / "releasebot.toml"
    path.write_text(source.replace(str(old), str(new), 1))
    written = path.read_text()
    code = check_config(Settings(RELEASEBOT_CONFIG=str(path)))
    answer = capsys.readouterr().out.strip().replace(str(path), "releasebot.toml")
    if RECORD:
        print(f"\nRECORD {row.id!r} => {answer!r}")
    assert code == 1
    assert answer == row.answer
    assert path.read_text() == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["releasebot.toml"]


def test_the_table_has_forty_distinct_inputs_over_every_surface() -> None:
    assert len({row.id for row in ROWS}) == len(ROWS) >= 40
    assert {row.surface for row in ROWS} == {
        "slash command",
        "button",
        "modal",
        "deploy callback",
        "config",
    }
    assert all(row.answer for row in ROWS), "every row says exactly what its sender sees"


def test_docs_bad_input_md_is_rendered_from_the_table() -> None:
    assert DOC.read_text() == render(ROWS), (
        "docs/bad-input.md is stale: run scripts/bad_input_doc.py"
    )
