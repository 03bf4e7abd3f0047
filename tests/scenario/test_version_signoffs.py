"""A sign-off belongs to the version it was given for (issue 9 item 10).

Editing a plan's version re-opens its `per_version` checklist items (by default every
pre-deploy item); the thread names them and their assignees are asked again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.domain.config import ReleasebotConfig, load_config
from bot.release import plans
from bot.store.models import AuditEvent, ChecklistItem, PlanState
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, card_text

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "releasebot.toml"
QA_ITEM = '{ item = "QA sign-off", assignee = "U0QA", required = true, phase = "pre_deploy" },'


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    """The test configuration plus a pre-deploy item that is not about the version."""
    text = FIXTURE.read_text()
    assert QA_ITEM in text
    text = text.replace(
        QA_ITEM,
        QA_ITEM + '\n  { item = "Change ticket filed", assignee = "@sre", per_version = false },',
    )
    path = tmp_path / "releasebot.toml"
    path.write_text(text)
    return load_config(path)


def _released_to_staging(slack: SlackDriver, version: str) -> None:
    """checkout `version` through staging by the lifecycle, so production may plan it."""
    slack.command("U0REQUESTER", f"plan checkout {version} to staging")
    with slack.bot.db.session() as session:
        plan_id = plans.list_plans(session, environment="staging", include_all=True)[0][-1].id
        assert plan_id is not None
        plan = plans.get_plan(session, plan_id=plan_id, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=plan)


def _ticked(slack: SlackDriver, plan_id: int) -> dict[str, str | None]:
    with slack.bot.db.session() as session:
        items = session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.plan_id == plan_id)
            .order_by(col(ChecklistItem.id))
        ).all()
    return {i.name: i.ticked_by for i in items}


def test_a_new_version_reopens_the_sign_offs_of_the_old_one(slack: SlackDriver) -> None:
    _released_to_staging(slack, "1.4.2")
    _released_to_staging(slack, "1.4.3")
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    slack.command("U0QA", "tick R-3 QA sign-off")
    slack.command("U0ADMIN", "tick R-3 Change ticket filed")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-3")
    slack.settle()
    assert slack.state(3) == PlanState.APPROVED
    dms_before = len(slack.dm("U0QA"))

    slack.command("U0REQUESTER", "edit R-3 version 1.4.3")
    slack.settle()

    assert _ticked(slack, 3) == {
        "QA sign-off": None,
        "Change ticket filed": "U0ADMIN",  # per_version = false: not about the build
        "Smoke tests reviewed": None,
    }
    card = slack.card("R-3")
    assert ":white_large_square: QA sign-off — <@U0QA>" in card_text(card)
    assert ":ballot_box_with_check: Change ticket filed — @sre" in card_text(card)
    assert slack.thread(card)[-1] == (
        ":leftwards_arrow_with_hook: R-3 now releases `1.4.3` instead of `1.4.2`, so what was "
        "signed off for `1.4.2` is open again: 'QA sign-off' (<@U0QA>). Please check `1.4.3` "
        "and tick it again."
    )
    dms = slack.dm("U0QA")
    assert len(dms) == dms_before + 1
    assert dms[-1].text == (
        ":leftwards_arrow_with_hook: R-3 (checkout → production) now releases `1.4.3` instead "
        "of `1.4.2`, so 'QA sign-off' for `1.4.2` no longer counts. Check `1.4.3` and tick it "
        "again: `/release tick R-3 QA sign-off`."
    )
    assert slack.state(3) == PlanState.AWAITING_APPROVAL  # and approvers are asked again
    with slack.bot.db.session() as session:
        [reopened] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "checklist.reopened")
        ).all()
    assert (reopened.plan_id, reopened.reason, reopened.detail) == (
        3,
        "the version changed from 1.4.2 to 1.4.3",
        {"items": ["QA sign-off"], "ticked_by": {"QA sign-off": "U0QA"}},
    )

    # Moving the window changes when, not what: the new sign-off stands.
    slack.command("U0QA", "tick R-3 QA sign-off")
    slack.command("U0REQUESTER", "edit R-3 window +1h")
    assert _ticked(slack, 3)["QA sign-off"] == "U0QA"


def test_the_default_marks_pre_deploy_items_per_version(slack: SlackDriver) -> None:
    _released_to_staging(slack, "1.4.2")
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    with slack.bot.db.session() as session:
        items = session.exec(select(ChecklistItem).where(ChecklistItem.plan_id == 2)).all()
    assert {i.name: i.per_version for i in items} == {
        "QA sign-off": True,
        "Change ticket filed": False,
        "Smoke tests reviewed": False,
    }
