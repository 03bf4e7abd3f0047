"""`/release new`: a modal with every plan field; field errors show under the field."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from bot.store.models import ReleasePlan
from tests.scenario.driver import SlackDriver


def _plans(slack: SlackDriver) -> list[ReleasePlan]:
    with slack.bot.db.session() as session:
        return list(session.exec(select(ReleasePlan)).all())


def test_the_modal_submits_a_plan_with_every_field(slack: SlackDriver) -> None:
    assert slack.command("U0REQUESTER", "new") == {}
    [modal] = slack.workspace.open_modals("U0REQUESTER")
    labels = [b["label"]["text"] for b in modal.view["blocks"] if b["type"] == "input"]
    assert labels == [
        "Service",
        "Version",
        "Environment",
        "Window opens",
        "Window closes",
        "Rollout strategy",
        "After (dependencies)",
        "Risks",
        "Notes and known issues",
        "Stakeholders",
    ]
    opens = int((slack.clock.now() + timedelta(hours=1)).timestamp())
    response = slack.submit(
        "U0REQUESTER",
        {
            "new_service": {"value": "payments"},
            "new_version": {"value": "2.0.0"},
            "new_environment": {"value": "staging"},
            "new_window_start": {"value": opens},
            "new_risks": {"value": "schema migration\nnew PSP endpoint"},
            "new_notes": {"value": "ship after lunch"},
            "new_stakeholders": {"value": ["U0QA"]},
        },
    )
    assert response.status == 200 and not response.body
    slack.settle()
    [plan] = _plans(slack)
    assert (plan.service, plan.version, plan.environment) == ("payments", "2.0.0", "staging")
    assert plan.window_start is not None and int(plan.window_start.timestamp()) == opens
    assert plan.risks == ["schema migration", "new PSP endpoint"]
    assert plan.stakeholders == ["U0QA"]
    assert slack.card("R-1").text == "R-1 · payments 2.0.0 → staging: Approved"
    assert slack.ephemerals("U0REQUESTER")[-1].startswith(":memo: Planned *R-1*")


def test_mistakes_show_under_their_fields_and_plan_nothing(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "new")
    response = slack.submit(
        "U0REQUESTER",
        {
            "new_service": {"value": "checkout"},
            "new_version": {"value": "1.4 2"},
            "new_environment": {"value": "production"},
            "new_after": {"value": "R-x"},
        },
    )
    errors = json.loads(response.body)
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"new_version", "new_after"}

    response = slack.submit(
        "U0REQUESTER",
        {
            "new_service": {"value": "checkout"},
            "new_version": {"value": "1.4.2"},
            "new_environment": {"value": "production"},
        },
    )
    errors = json.loads(response.body)
    # Whole, in the plain text a modal shows: the way out at its end is not cut off.
    assert errors["errors"]["new_environment"] == (
        "checkout 1.4.2 can't go to production yet: production requires it to be released to "
        "staging first (plan it with `/release plan checkout 1.4.2 to staging`)"
    )
    assert _plans(slack) == []
