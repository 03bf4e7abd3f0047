"""Recurring freezes where they are enforced: a deploy refused in the window, the overview.

The windows themselves (cron, zones, DST) are tested without a database in
tests/unit/domain/test_freeze_windows.py.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from bot.domain.clock import SystemClock
from bot.domain.context import DomainContext, StaticDirectory
from bot.domain.errors import PermissionDenied
from bot.release import checklists, freezes, gates
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import ReleasePlan
from tests.conftest import GROUPS
from tests.integration.policies.conftest import (
    BERLIN_WEEKENDS,
    approved_production_plan,
    config_with,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _system_desk(db: Database, *replace: tuple[str, str]) -> Desk:
    config = config_with(replace=replace)
    ctx = DomainContext(config=config, clock=SystemClock(), directory=StaticDirectory(GROUPS))
    return Desk(db=db, ctx=ctx)


def _deployable(desk: Desk, plan: ReleasePlan) -> None:
    with desk.db.session() as session:
        gates.ensure_deployable(session, ctx=desk.ctx, plan=plan, actor="U0REQUESTER")


def test_a_deploy_on_a_berlin_friday_evening_is_refused_until_monday_09_summer_time(
    db: Database,
) -> None:
    # The team's zone is Berlin and the freeze has none of its own: it is read in the team's.
    desk = _system_desk(db, ('timezone = "UTC"', 'timezone = "Europe/Berlin"'))
    with freeze_time("2026-03-27 15:59:59"):  # 16:59:59 CET: just before the freeze
        plan = approved_production_plan(desk)
        assert plan.id is not None
        with desk.db.session() as session:
            checklists.tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id, item="qa")
        _deployable(desk, plan)
    with freeze_time("2026-03-27 16:00:00"), pytest.raises(PermissionDenied) as refused:
        _deployable(desk, plan)
    assert refused.value.message.startswith(
        "production is frozen: Weekend freeze (environments.production.freezes[0], "
        "until Mon 30 Mar 09:00 CEST)."
    )
    with freeze_time("2026-03-30 06:59:59"), pytest.raises(PermissionDenied):
        _deployable(desk, plan)
    with freeze_time("2026-03-30 07:00:00"):
        _deployable(desk, plan)


def test_freezes_overview_shows_the_next_weekend_in_local_time(db: Database) -> None:
    desk = _system_desk(db, *BERLIN_WEEKENDS)  # the team's zone stays UTC
    with freeze_time("2026-10-20 12:00:00"), desk.db.session() as session:
        overview = freezes.freeze_overview(session, ctx=desk.ctx, at=desk.ctx.clock.now())
    production = next(e for e in overview if e.environment == "production")
    assert production.active == ()
    [upcoming] = production.upcoming
    tz = desk.ctx.config.tz
    assert freezes.local_time(upcoming.starts_at, BERLIN) == "Fri 23 Oct 17:00 CEST"
    assert upcoming.until(BERLIN) == "until Mon 26 Oct 07:00 CET"
    assert upcoming.until(tz) == "until Mon 26 Oct 06:00 UTC"
