"""The rollback lock (issue 14 item 3): per service and environment, lifted by an approved plan
of another version or by an admin's `/release unlock`, never by `/release unfreeze`; plans
approved before the rollback are asked for approval again."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.domain.config import ReleasebotConfig, load_config
from bot.store.models import AuditEvent, PlanState
from tests.conftest import FIXTURES
from tests.scenario.driver import SlackDriver, card_text
from tests.scenario.releases import plan, release_payments

CONFIG = f"""
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[environments.production]
order = 2
approvals = {{ required = 1, approvers = ["U0APPROVER1", "U0APPROVER2"] }}

[services.payments]
backend = "command"
command = ["{FIXTURES / "deploy.sh"}", "{{service}}", "{{version}}", "{{environment}}"]
pass_env = ["RELEASEBOT_TEST_CALLS"]

[services.search]
backend = "command"
command = ["{FIXTURES / "deploy.sh"}", "{{service}}", "{{version}}", "{{environment}}"]
pass_env = ["RELEASEBOT_TEST_CALLS"]
"""
REASON = "R-2 (1.1-bad) was rolled back: all at once failed: the command exited with code 1"
LOCK = f"payments is locked in staging: {REASON} (automatically)"
# As sent: mrkdwn escapes `<` and `>`, which Slack shows as typed.
HOW = (
    "To lift it, plan a version other than 1.1-bad (`/release plan payments &lt;version&gt; to "
    "staging`): the lock lifts once that plan is approved. Or an admin runs "
    '`/release unlock payments staging "&lt;reason&gt;"`.'
)

# deploy.sh records every call in the test's own log, never in tests/fixtures/.
pytestmark = pytest.mark.usefixtures("deploy_calls")


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    path = tmp_path / "releasebot.toml"
    path.write_text(CONFIG)
    return load_config(path)


def _locked_staging(slack: SlackDriver) -> None:
    release_payments(slack, 1, "1.0")
    plan(slack, "payments 1.1-bad to staging")
    slack.command("U0REQUESTER", "deploy R-2")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)


def _audit(slack: SlackDriver, plan_ref: str) -> str:
    return str(slack.command("U0REQUESTER", f"audit {plan_ref}")["blocks"])


def test_planning_the_rolled_back_version_again_does_not_lift_the_lock(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    _locked_staging(slack)
    assert slack.thread(slack.card("R-2"))[-1] == (
        ":lock: payments is locked in staging until a new plan of a version other than 1.1-bad "
        'is approved, or an admin runs `/release unlock payments staging "&lt;reason&gt;"`.'
    )
    plan(slack, "payments 1.1-bad to staging")
    assert f"The last release was rolled back: {REASON}" in card_text(slack.card("R-3"))
    slack.command("U0REQUESTER", "deploy R-3")
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        f"{LOCK} (until a new plan of a version other than 1.1-bad is approved, or an admin runs "
        '`/release unlock payments staging "&lt;reason&gt;"`). R-3 cannot lift the lock: it is '
        "the "
        f"version that was rolled back (1.1-bad). {HOW}"
    )
    assert ":lock: *payments* locked in staging" in card_text(slack.card("R-3"))
    assert "permission.refused" in _audit(slack, "R-3")

    # Another service in the same environment is not locked.
    plan(slack, "search 3.0 to staging")
    slack.command("U0REQUESTER", "deploy R-4")
    slack.roll(lambda: slack.state(4) == PlanState.RELEASED)

    # A plan of another version lifts it: where no approval is needed, planning is approving.
    plan(slack, "payments 1.2 to staging")
    assert any(
        t.startswith(":unlock: R-5 (1.2) lifts the rollback lock of payments in staging")
        for t in slack.thread(slack.card("R-5"))
    )
    assert "lock.lifted" in _audit(slack, "R-5")
    assert ":lock:" not in card_text(slack.card("R-3"))
    slack.command("U0REQUESTER", "deploy R-5")
    slack.roll(lambda: slack.state(5) == PlanState.RELEASED)
    assert deploy_calls.read_text().splitlines()[-1] == "deploy payments 1.2 staging 100"


def test_a_lock_left_by_a_persons_rollback_mentions_them(slack: SlackDriver) -> None:
    release_payments(slack, 1, "1.0")
    release_payments(slack, 2, "1.1")
    slack.command("U0REQUESTER", 'rollback R-2 "conversion dropped <!channel>"')
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)
    plan(slack, "payments 1.1 to staging")

    # The person is a mention Slack shows as a name; what they typed stays text.
    why = "R-2 (1.1) was rolled back: conversion dropped @channel (by <@U0REQUESTER>)"
    assert f":lock: *payments* locked in staging: {why}" in card_text(slack.card("R-3"))
    slack.command("U0REQUESTER", "deploy R-3")
    assert slack.ephemerals("U0REQUESTER")[-1].startswith(
        f"payments is locked in staging: {why} (until"
    )
    assert "The last release was rolled back: R-2 (1.1) was rolled back: conversion dropped" in (
        card_text(slack.card("R-3"))
    )


def test_unfreeze_no_longer_lifts_a_rollback_lock_and_says_so(slack: SlackDriver) -> None:
    _locked_staging(slack)
    plan(slack, "payments 1.1-bad to staging")
    slack.command("U0ADMIN", "unfreeze staging")
    assert slack.ephemerals("U0ADMIN")[-1] == (
        f"staging has no ad-hoc freeze to lift; {LOCK} (until a new plan of a version other than "
        "1.1-bad is approved, or an admin runs "
        '`/release unlock payments staging "&lt;reason&gt;"`). '
        "`/release unfreeze` does not lift rollback locks"
    )
    slack.command("U0ADMIN", 'freeze staging reason "db maintenance"')
    slack.command("U0ADMIN", "unfreeze staging")
    answer = slack.ephemerals("U0ADMIN")[-1]
    assert answer.startswith(":sunny: Lifted 1 freeze(s) of staging. Still in force: payments is")
    assert answer.endswith("`/release unfreeze` does not lift rollback locks.")
    slack.command("U0REQUESTER", "deploy R-3")
    assert "R-3 cannot lift the lock" in slack.ephemerals("U0REQUESTER")[-1]


def test_an_admin_unlocks_with_a_reason_audited_and_announced(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    _locked_staging(slack)
    plan(slack, "payments 1.1-bad to staging")
    slack.command("U0REQUESTER", 'unlock payments staging "I am sure"')
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        "only admins may lift a rollback lock (admins: <@U0ADMIN>); a new plan of payments "
        "lifts it too, once it is approved"
    )
    usage = slack.command("U0ADMIN", "unlock payments staging")
    assert 'unlock &lt;service&gt; &lt;env&gt; "&lt;reason&gt;"' in str(usage)

    slack.command("U0ADMIN", 'unlock payments staging "fix verified by hand"')
    assert slack.ephemerals("U0ADMIN")[-1] == (
        ":unlock: Lifted the rollback lock of payments in staging. It is announced in "
        "<#C0RELEASES>."
    )
    slack.settle()
    assert any(
        m.text.startswith(
            ":unlock: <@U0ADMIN> lifted the rollback lock of *payments* in *staging*: "
            "fix verified by hand."
        )
        for m in slack.channel_messages("C0RELEASES")
    )
    slack.command("U0ADMIN", 'unlock payments staging "again"')
    assert slack.ephemerals("U0ADMIN")[-1] == (
        "payments has no rollback lock in staging; nothing to lift"
    )
    assert ":lock:" not in card_text(slack.card("R-3"))
    with slack.bot.db.session() as session:
        trail = session.exec(
            select(AuditEvent.actor_id, AuditEvent.action, AuditEvent.reason).where(
                col(AuditEvent.action).in_(["lock.lifted", "permission.refused"])
            )
        ).all()
    assert [(actor, action) for actor, action, _ in trail] == [
        ("U0REQUESTER", "permission.refused"),
        ("U0ADMIN", "lock.lifted"),
    ]
    assert trail[1][2] == "fix verified by hand"
    slack.command("U0REQUESTER", "deploy R-3")
    slack.roll(lambda: slack.state(3) == PlanState.ROLLED_BACK)  # 1.1-bad still fails


def test_plans_approved_before_a_rollback_are_approved_again_and_then_lift_the_lock(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    for plan_id, version in ((1, "1.0"), (2, "1.1")):
        plan(slack, f"payments {version} to production")
        slack.command("U0APPROVER1", f"approve R-{plan_id}")
        slack.command("U0REQUESTER", f"deploy R-{plan_id}")
        slack.roll(lambda plan_id=plan_id: slack.state(plan_id) == PlanState.RELEASED)  # type: ignore[misc]
    plan(slack, "payments 1.2 to production")
    slack.command("U0APPROVER2", "approve R-3")
    plan(slack, "payments 1.1 to production")
    slack.command("U0APPROVER2", "approve R-4")
    slack.settle()
    asked_before = len(slack.dm("U0APPROVER1"))

    slack.command("U0ADMIN", "rollback R-2 latency doubled")
    slack.roll(lambda: slack.state(2) == PlanState.ROLLED_BACK)

    assert slack.state(3) == PlanState.AWAITING_APPROVAL
    assert "*0 of 1 approvals*" in card_text(slack.card("R-3"))
    assert (
        ":lock: R-2 (1.1) was rolled back; approvals of R-3 given before that no longer count, "
        "and its approvers are asked again." in slack.thread(slack.card("R-3"))
    )
    assert len(slack.dm("U0APPROVER1")) == asked_before + 2  # again
    assert "approvals.dropped" in _audit(slack, "R-3")

    # Approving the version that was rolled back lifts nothing; another version does.
    slack.command("U0APPROVER1", "approve R-4")
    slack.command("U0REQUESTER", "deploy R-4")
    assert (
        "R-4 cannot lift the lock: it is the version that was rolled back (1.1)"
        in (slack.ephemerals("U0REQUESTER")[-1])
    )
    slack.command("U0APPROVER1", "approve R-3")
    slack.settle()
    assert any(
        t.startswith(":unlock: R-3 (1.2) lifts the rollback lock of payments in production")
        for t in slack.thread(slack.card("R-3"))
    )
    slack.command("U0REQUESTER", "deploy R-3")
    slack.roll(lambda: slack.state(3) == PlanState.RELEASED)
    assert deploy_calls.read_text().splitlines()[-1] == "deploy payments 1.2 production 100"
