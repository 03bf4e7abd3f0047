"""Steps the rollback scenarios share: releasing through Slack, and what deploy.sh was given."""

from __future__ import annotations

import re
from pathlib import Path

from bot.store.models import PlanState
from tests.scenario.driver import SlackDriver, card_text

CARD = re.compile(r"^R-\d+ · ")


def deploy_envs(calls: Path) -> list[dict[str, str]]:
    """Each call of tests/fixtures/deploy.sh: `argv` and its RELEASE_* variables."""
    path = calls.with_name(calls.name + ".env")
    if not path.exists():
        return []
    records = []
    for chunk in path.read_text().split("--\n"):
        lines = [line for line in chunk.splitlines() if line]
        if lines:
            records.append(dict(line.split("=", 1) for line in lines))
    return records


def plan(slack: SlackDriver, text: str, user: str = "U0REQUESTER") -> None:
    """`/release plan <text>`, with the card posted."""
    slack.command(user, f"plan {text}")
    slack.settle()


def release_payments(slack: SlackDriver, plan_id: int, version: str, env: str = "staging") -> None:
    """Plan and release payments (one stage, no checks) where no approval is needed."""
    plan(slack, f"payments {version} to {env}")
    slack.command("U0REQUESTER", f"deploy R-{plan_id}")
    slack.roll(lambda: slack.state(plan_id) == PlanState.RELEASED)


def release_checkout(slack: SlackDriver, plan_id: int, version: str) -> None:
    """Plan and release checkout's canary in staging: deploy, wait at the gate, promote."""
    plan(slack, f"checkout {version} to staging")
    slack.command("U0REQUESTER", f"deploy R-{plan_id}")
    slack.roll(lambda: "waiting for Promote" in card_text(slack.card(f"R-{plan_id}")))
    slack.command("U0REQUESTER", f"promote R-{plan_id}")
    slack.roll(lambda: slack.state(plan_id) == PlanState.RELEASED)


def non_cards(slack: SlackDriver, channel: str) -> list[str]:
    """Texts of a channel's messages that are not plan cards (alerts, announcements)."""
    return [m.text for m in slack.channel_messages(channel) if not CARD.match(m.text)]
