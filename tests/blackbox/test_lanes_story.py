"""One rollout per lane, only the live release rolls back, a first release is undone, and a
new version re-opens its sign-offs — as a user meets them (issues 9.6, 9.10, 14.1, 14.2).

One `releasebot serve` per database carries the whole story: starting it is the expensive part.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console import payloads
from console.models import Message
from tests.blackbox.harness import (
    CheckTarget,
    Deployment,
    FakeSlack,
    ShippedBot,
    eventually,
)

# payments pauses 10 minutes at 50 %, so it is still in flight while the story goes on; qa has
# a QA sign-off (per-version by default, being a pre-deploy item).
EXTRA = """
[environments.qa]
order = 3
approvals = { required = 0 }
checklist = [{ item = "QA sign-off", assignee = "U0APPROVER1" }]

[services.payments]
backend = "command"
command = ["./deploy.sh", "{service}", "{version}", "{environment}", "{weight}"]
strategy = "slow"

[strategies.slow]
kind = "canary"
steps = [{ weight = 50, pause = "10m" }, { weight = 100 }]
"""


@pytest.fixture
def deployment(tmp_path: Path, target: CheckTarget) -> Deployment:
    root = tmp_path / "deploy"
    root.mkdir()
    found = Deployment(root)
    found.write(check_url=target.url, extra=EXTRA)
    return found


def _actions(message: Message) -> list[str]:
    return [str(e.get("action_id")) for _, e in payloads.iter_elements(message.blocks)]


def _said(slack: FakeSlack, user: str, words: str) -> str:
    return eventually(
        lambda: next((t for t in reversed(slack.ephemerals(user)) if words in t), None),
        what=f"{words!r} shown to {user}",
    )


def _argv(deployment: Deployment) -> list[list[str]]:
    return [call.argv for call in deployment.deploy_calls()]


def test_lanes_rollback_targets_and_per_version_sign_offs(
    bot: ShippedBot, slack: FakeSlack, deployment: Deployment
) -> None:
    # -- 9.6: a second rollout of payments to staging waits for the paused one --------------
    bot.command(slack, "U0REQUESTER", "plan payments 1.0 to staging")
    slack.card_when("R-1", "Approved", timeout=20)
    bot.command(slack, "U0REQUESTER", "deploy R-1")
    eventually(
        lambda: ["payments", "1.0", "staging", "50"] in _argv(deployment), what="R-1 at 50 %"
    )
    bot.command(slack, "U0REQUESTER", "pause R-1")
    slack.card_when("R-1", "Paused", timeout=20)
    bot.command(slack, "U0REQUESTER", "plan payments 1.1 to staging")
    slack.card_when("R-2", "Approved", timeout=20)
    bot.command(slack, "U0APPROVER2", "deploy R-2")
    refusal = _said(slack, "U0APPROVER2", "can't deploy R-2 now")
    assert "R-1 (payments 1.0) is paused in staging" in refusal, refusal
    assert "one plan at a time" in refusal, refusal
    slack.quiet()
    assert all(argv[1] == "1.0" for argv in _argv(deployment)), _argv(deployment)

    # -- 14.1: rolling back a first release undoes it (weight 0), never re-sends 100 % -----
    bot.command(slack, "U0REQUESTER", "resume R-1")
    bot.command(slack, "U0REQUESTER", "promote R-1")
    slack.card_when("R-1", "Released")
    calls_before = len(deployment.deploy_calls())
    bot.command(slack, "U0ADMIN", "rollback R-1 broke invoices")
    assert "nothing was released before; undoing 1.0" in _said(slack, "U0ADMIN", "R-1")
    card = slack.card_when("R-1", "Rolled back")
    undo = deployment.deploy_calls()[calls_before:]
    assert [call.argv for call in undo] == [["payments", "1.0", "staging", "0"]]
    assert undo[0].env["RELEASE_ACTION"] == "rollback"
    assert undo[0].env["RELEASE_VERSION"] == "1.0"
    assert undo[0].env["RELEASE_WEIGHT"] == "0"
    assert undo[0].env["RELEASE_PREVIOUS_VERSION"] == ""
    eventually(
        lambda: any(
            "R-1 rolled back: nothing was released before, and 1.0 is undone" in line
            for line in slack.thread(card)
        ),
        what="the undo in R-1's thread",
    )

    # -- 14.2: once 1.4.2 replaced 1.4.1, only 1.4.2 can be rolled back ---------------------
    for ref, version in (("R-3", "1.4.1"), ("R-4", "1.4.2")):
        bot.command(slack, "U0REQUESTER", f"plan checkout {version} to staging")
        bot.click(slack, "U0REQUESTER", slack.card_when(ref, "Approved"), "plan_deploy")
        released = slack.card_when(ref, "Released", "Rolled back", "Failed")
        assert released.text.endswith("Released"), slack.story(ref)
    calls_before = len(deployment.deploy_calls())
    bot.command(slack, "U0ADMIN", "rollback R-3")
    refusal = _said(slack, "U0ADMIN", "can't roll back R-3")
    assert refusal.startswith(
        "can't roll back R-3: it is no longer live in staging, R-4 (checkout 1.4.2) replaced it"
    ), refusal
    eventually(
        lambda: "plan_rollback" not in _actions(slack.card("R-3") or card),
        what="R-3's card without its Roll back button",
    )
    assert "plan_rollback" in _actions(slack.card_when("R-4", "Released"))
    slack.quiet()
    assert len(deployment.deploy_calls()) == calls_before
    assert slack.card_when("R-3", "Released")

    # -- 9.10: a new version re-opens the QA sign-off given for the old one ------------------
    bot.command(slack, "U0REQUESTER", "plan payments 2.0 to qa")
    eventually(lambda: slack.card("R-5"), what="R-5's card")
    bot.command(slack, "U0APPROVER1", "tick R-5 QA sign-off")
    ticked = eventually(
        lambda: (c := slack.card("R-5")) and "plan_deploy" in _actions(c) and c,
        what="R-5 deployable once QA signed off",
    )
    bot.command(slack, "U0REQUESTER", "edit R-5 version 2.1")
    eventually(
        lambda: any(
            "R-5 now releases `2.1` instead of `2.0`, so what was signed off for `2.0` is open "
            "again: 'QA sign-off'" in line
            for line in slack.thread(ticked)
        ),
        what="the re-opened sign-off in R-5's thread",
    )
    eventually(
        lambda: (c := slack.card("R-5")) and "plan_deploy" not in _actions(c),
        what="R-5 no longer deployable until QA signs off 2.1",
    )
    eventually(
        lambda: any("2.1" in m.text for m in slack.dm("U0APPROVER1")),
        what="QA asked again about 2.1",
    )
