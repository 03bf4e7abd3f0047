"""Plans that wait (issue 14 items 4 and 6): dependencies and every other hold, as Slack shows them.

The fake clock starts on Tuesday 24 November 2026, 15:00 UTC.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.store.models import AuditEvent, PlanState, ReleasePlan
from commands.ids import ActionId
from tests.integration.timing.conftest import advance, release_to_staging
from tests.scenario.driver import SlackDriver, buttons, card_text


def _plans(slack: SlackDriver) -> list[ReleasePlan]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(ReleasePlan).order_by(col(ReleasePlan.id))).all())


def _release(slack: SlackDriver, plan_id: int) -> None:
    """Deploy a payments plan (all at once, no checks) from Slack and let it be released."""
    slack.command("U0REQUESTER", f"deploy R-{plan_id}")
    slack.roll(lambda: slack.state(plan_id) == PlanState.RELEASED)


def test_planning_after_a_plan_that_can_never_be_released_is_refused(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    _release(slack, 1)
    slack.command("U0REQUESTER", "rollback R-1 error rate doubled")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.command("U0REQUESTER", "cancel R-2")

    for ref, fate in (("R-1", "was rolled back"), ("R-2", "was cancelled")):
        slack.command("U0QA", f"plan checkout 1.4.3 to staging after {ref}")
        assert slack.ephemerals("U0QA")[-1] == (
            f"{ref} {fate}, so a plan after it could never deploy; plan without `after`, "
            "or after another plan"
        )
    slack.command("U0QA", "plan checkout 1.4.3 to staging after R-9")
    assert slack.ephemerals("U0QA")[-1] == "there is no plan R-9"
    assert [p.id for p in _plans(slack)] == [1, 2]

    # A plan not released yet is a fine dependency, of any service.
    slack.command("U0QA", "plan checkout 1.4.3 to staging")
    slack.command("U0QA", "plan payments 2.0.1 to staging after R-3")
    assert _plans(slack)[-1].depends_on == [3]


def test_the_new_plan_form_shows_a_dead_dependency_under_its_field(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.command("U0REQUESTER", "cancel R-1")
    slack.command("U0QA", "new")
    response = slack.submit(
        "U0QA",
        {
            "new_service": {"value": "payments"},
            "new_version": {"value": "2.0.0"},
            "new_environment": {"value": "staging"},
            "new_after": {"value": "R-1"},
        },
    )
    assert json.loads(response.body) == {
        "response_action": "errors",
        "errors": {
            "new_after": "R-1 was cancelled, so a plan after it could never deploy; plan "
            "without `after`, or after another plan"
        },
    }
    assert [p.id for p in _plans(slack)] == [1]


def test_a_plan_whose_dependency_dies_says_so_tells_its_requester_and_can_be_re_pointed(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.command("U0QA", "plan checkout 1.4.2 to staging after R-1")
    slack.settle()
    card = slack.card("R-2")
    assert (
        "*Before R-2 can deploy:*\n"
        ":link: R-1 (payments 2.0.0 → staging) must be released first; it is approved"
    ) in card_text(card)
    assert buttons(card) == ["Cancel"]  # no Deploy that could only be refused

    slack.command("U0REQUESTER", "cancel R-1 wrong build")
    slack.settle()
    card = slack.card("R-2")
    assert (
        ":no_entry: R-1 (payments 2.0.0 → staging) was cancelled, so R-2 can never deploy "
        "after it: `/release edit R-2 after none` (or after another plan)"
    ) in card_text(card)
    assert buttons(card) == ["Cancel"]
    fix = "Change that with `/release edit R-2 after none` (or after another plan), or cancel R-2."
    assert slack.thread(card)[-1] == (
        f":no_entry: R-1 was cancelled, so R-2 can never deploy after it. {fix}"
    )
    [told] = slack.dm("U0QA")
    assert told.text == (
        ":no_entry: R-1 (payments 2.0.0 → staging) was cancelled, so your plan R-2 "
        f"(checkout 1.4.2 → staging) can never deploy after it. {fix}"
    )

    # Neither a deploy nor an admin's break-glass override gets past a dead dependency.
    refusal = (
        "R-2 comes after R-1, which was cancelled, so it can never deploy as planned; change "
        "that with `/release edit R-2 after none` (or after another plan)"
    )
    slack.command("U0QA", "deploy R-2")
    assert slack.ephemerals("U0QA")[-1] == refusal
    slack.command("U0ADMIN", 'deploy R-2 --override "ship it anyway"')
    assert slack.ephemerals("U0ADMIN")[-1] == refusal

    slack.command("U0STRANGER", "edit R-2 after none")
    assert slack.ephemerals("U0STRANGER")[-1] == (
        "only the requester (<@U0QA>) or an admin may edit R-2"
    )
    slack.command("U0QA", "edit R-2 after R-2")
    assert slack.ephemerals("U0QA")[-1] == "R-2 can't go after itself"
    slack.command("U0QA", "edit R-2 after R-1")
    assert slack.ephemerals("U0QA")[-1] == (
        "R-1 was cancelled, so R-2 could never deploy after it; choose another plan, or "
        "`after none`"
    )
    assert slack.state(2) == PlanState.APPROVED

    slack.command("U0QA", "edit R-2 after none")
    assert slack.ephemerals("U0QA")[-1] == ":pencil2: Updated R-2. It goes after nothing now."
    slack.settle()
    card = slack.card("R-2")
    assert "R-1" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]
    assert slack.thread(card)[-1] == ":pencil2: <@U0QA> changed what R-2 goes after: R-1 → nothing."
    assert len(slack.dm("U0QA")) == 1  # told once
    slack.click("U0QA", card, ActionId.DEPLOY)
    assert slack.state(2) == PlanState.DEPLOYING
    with slack.bot.db.session() as session:
        edits = session.exec(
            select(AuditEvent).where(AuditEvent.plan_id == 2, AuditEvent.action == "plan.edited")
        ).all()
    changes = [(e.actor_id, e.detail["before"]["after"], e.detail["after"]["after"]) for e in edits]
    assert changes == [("U0QA", [1], [])]


def test_changing_what_a_plan_goes_after_keeps_its_approvals(slack: SlackDriver) -> None:
    release_to_staging(slack)  # checkout 1.4.2 released to staging
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production after R-2")
    slack.command("U0REQUESTER", "plan payments 2.0.1 to staging after R-3")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-3")
    assert slack.state(3) == PlanState.APPROVED

    slack.command("U0REQUESTER", "edit R-3 after R-4")
    assert slack.ephemerals("U0REQUESTER")[-1] == (
        "R-4 already goes after R-3 (directly or through other plans), so R-3 can't go after R-4"
    )
    slack.command("U0REQUESTER", "edit R-3 after R-1")  # released already: holds nothing
    assert slack.ephemerals("U0REQUESTER")[-1] == ":pencil2: Updated R-3. It goes after R-1 now."
    slack.settle()
    assert slack.state(3) == PlanState.APPROVED
    card = slack.card("R-3")
    assert "*2 of 2 approvals*" in card_text(card)
    assert "must be released first" not in card_text(card)
    assert slack.thread(card)[-1] == (
        ":pencil2: <@U0REQUESTER> changed what R-3 goes after: R-2 → R-1. Approvals still "
        "count: the order of releases is not what approvers approved."
    )
    assert len(slack.dm("U0APPROVER1")) == 1  # not asked again


def test_a_released_dependency_redraws_its_dependents_card(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    slack.command("U0QA", "plan checkout 1.4.2 to staging after R-1")
    slack.settle()
    assert buttons(slack.card("R-2")) == ["Cancel"]

    _release(slack, 1)
    card = slack.card("R-2")
    assert "must be released first" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]
    assert slack.thread(card)[-1] == ":link: R-1 is released; R-2 no longer waits for it."


def test_the_card_shows_every_hold_and_offers_deploy_only_when_none_is_left(
    slack: SlackDriver,
) -> None:
    release_to_staging(slack)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    slack.settle()
    assert (
        "*Before R-2 can deploy:*\n"
        ":white_large_square: QA sign-off must be ticked by <@U0QA>\n"
        ":hourglass_flowing_sand: 2 more approvals"
    ) in card_text(slack.card("R-2"))

    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-2")
    slack.settle()
    card = slack.card("R-2")
    assert (
        "*Before R-2 can deploy:*\n:white_large_square: QA sign-off must be ticked by <@U0QA>"
    ) in card_text(card)
    assert "more approval" not in card_text(card)
    assert buttons(card) == ["Cancel"]

    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.settle()
    card = slack.card("R-2")
    assert "Before R-2 can deploy" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]

    slack.command("U0ADMIN", 'freeze production until +1h reason "load test"')
    slack.settle()
    card = slack.card("R-2")
    assert (
        "*Before R-2 can deploy:*\n"
        ":snowflake: *production* frozen by <@U0ADMIN>: load test (until Tue 24 Nov 16:00 UTC)\n"
        'To deploy anyway: `/release deploy R-2 --override "&lt;reason&gt;"` '
        "and an admin's approval."
    ) in card_text(card)
    assert buttons(card) == ["Cancel"]

    advance(slack, timedelta(hours=1))  # 16:00: the freeze is over
    card = slack.card("R-2")
    assert "frozen" not in card_text(card)
    assert "Before R-2 can deploy" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]


def test_a_card_stops_showing_a_freeze_when_it_ends(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    slack.command("U0ADMIN", 'freeze staging until +30m reason "load test"')
    slack.settle()
    assert "*staging* frozen by <@U0ADMIN>: load test" in card_text(slack.card("R-1"))

    advance(slack, timedelta(minutes=30))
    assert "frozen" not in card_text(slack.card("R-1"))


def test_a_recurring_freeze_shows_on_cards_when_it_starts_and_goes_when_it_ends(
    slack: SlackDriver,
) -> None:
    release_to_staging(slack)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        slack.command(approver, "approve R-2")
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.bot.scheduler.runner.run_due()
    # The planning pass every process runs puts the weekend freeze's start and end in the
    # database.
    from bot.timing import reminders

    reminders.planner(slack.bot.db, ctx=slack.bot.desk.ctx)()
    advance(slack, timedelta(days=3, hours=2), step=timedelta(hours=6))  # Fri 27 Nov 17:00
    card = slack.card("R-2")
    assert ":snowflake: *production* frozen: Weekend freeze" in card_text(card)
    assert buttons(card) == ["Cancel"]

    advance(slack, timedelta(hours=63))  # Mon 30 Nov 08:00
    card = slack.card("R-2")
    assert "frozen" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]


def test_a_rollback_lock_shows_on_the_cards_it_holds_until_it_is_lifted(
    slack: SlackDriver, deploy_calls: Path
) -> None:
    slack.command("U0REQUESTER", "plan payments 2.0.0 to staging")
    _release(slack, 1)
    slack.command("U0QA", "plan payments 2.0.1 to staging")  # R-2, waiting
    slack.settle()
    assert buttons(slack.card("R-2")) == ["Deploy", "Cancel"]

    slack.command("U0REQUESTER", "rollback R-1 error rate doubled")
    slack.roll(lambda: slack.state(1) == PlanState.ROLLED_BACK)
    card = slack.card("R-2")
    assert "*Before R-2 can deploy:*\n:lock: *payments* locked in staging:" in card_text(card)
    assert buttons(card) == ["Cancel"]

    slack.command("U0REQUESTER", "plan payments 2.0.2 to staging")  # a new version lifts it
    slack.settle()
    card = slack.card("R-2")
    assert "locked" not in card_text(card)
    assert buttons(card) == ["Deploy", "Cancel"]
