"""Recurring freezes where they are enforced: a deploy refused in the window, the overview.

The windows themselves (cron, zones, DST) are tested without a database in
tests/unit/domain/test_freeze_windows.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain import freeze_windows
from bot.domain.errors import PermissionDenied
from bot.release import checklists, freezes, gates
from bot.release.desk import Desk
from bot.store.db import Database
from bot.store.models import ReleasePlan
from console.testing import ManualClock
from tests.integration.policies.conftest import (
    BERLIN_WEEKENDS,
    approved_production_plan,
    config_with,
    desk_for,
)

BERLIN = ZoneInfo("Europe/Berlin")


def _desk_at(db: Database, clock: ManualClock, *replace: tuple[str, str]) -> Desk:
    return desk_for(db, config_with(replace=replace), clock)


def _deployable(desk: Desk, plan: ReleasePlan) -> None:
    with desk.db.session() as session:
        gates.ensure_deployable(session, ctx=desk.ctx, plan=plan, actor="U0REQUESTER")


def test_a_deploy_on_a_berlin_friday_evening_is_refused_until_monday_09_summer_time(
    db: Database,
) -> None:
    clock = ManualClock(datetime(2026, 3, 27, 15, 59, 59, tzinfo=UTC))  # 16:59:59 CET
    # The team's zone is Berlin and the freeze has none of its own: it is read in the team's.
    desk = _desk_at(db, clock, ('timezone = "UTC"', 'timezone = "Europe/Berlin"'))
    plan = approved_production_plan(desk)
    assert plan.id is not None
    with desk.db.session() as session:
        checklists.tick(session, ctx=desk.ctx, actor="U0QA", plan_id=plan.id, item="qa")
    _deployable(desk, plan)
    clock.advance(timedelta(seconds=1))  # 17:00 CET: the weekend freeze begins
    with pytest.raises(PermissionDenied) as refused:
        _deployable(desk, plan)
    assert refused.value.message.startswith(
        "production is frozen: Weekend freeze (environments.production.freezes[0], "
        "until Mon 30 Mar 09:00 CEST)."
    )
    clock.advance(datetime(2026, 3, 30, 6, 59, 59, tzinfo=UTC) - clock.now())  # Monday
    with pytest.raises(PermissionDenied):
        _deployable(desk, plan)
    clock.advance(timedelta(seconds=1))  # Monday 09:00 CEST
    _deployable(desk, plan)


def test_freezes_overview_shows_the_next_weekend_in_local_time(db: Database) -> None:
    clock = ManualClock(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    desk = _desk_at(db, clock, *BERLIN_WEEKENDS)  # the team's zone stays UTC
    with desk.db.session() as session:
        overview = freezes.freeze_overview(session, ctx=desk.ctx, at=desk.ctx.clock.now())
    production = next(e for e in overview if e.environment == "production")
    assert production.active == ()
    [upcoming] = production.upcoming
    tz = desk.ctx.config.tz
    assert freeze_windows.local_time(upcoming.starts_at, BERLIN) == "Fri 23 Oct 17:00 CEST"
    assert upcoming.until(BERLIN) == "until Mon 26 Oct 07:00 CET"
    assert upcoming.until(tz) == "until Mon 26 Oct 06:00 UTC"
