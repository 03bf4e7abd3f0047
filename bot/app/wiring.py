"""The process-wide wiring of the core: who hears domain events, who starts auto-deploys.

The use cases only record what happened and `bot.timing.auto_deploy` only knows a `Deploy`
callable; this is where they meet the reminders and the rollouts. `bootstrap.build` calls it for
every bot, and so do the test fixtures (tests/conftest.py). Forgetting it fails loudly: an event
nobody subscribed to fails its commit, and an auto-deploy without a starter raises.
"""

from __future__ import annotations

from bot.domain.events import FreezeChanged, PlanChanged
from bot.rollout import rollouts
from bot.store import unit_of_work
from bot.timing import auto_deploy, reminders


def wire_defaults() -> None:
    """Subscribe the reminders to plan and freeze changes; start auto-deploys with the rollouts.

    Idempotent: building several bots in one process wires once.
    """
    unit_of_work.subscribe(PlanChanged, reminders.plan_changed)
    unit_of_work.subscribe(FreezeChanged, reminders.freeze_changed)
    auto_deploy.starts_rollouts_with(rollouts.deploy)
