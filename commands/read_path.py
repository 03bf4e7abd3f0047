"""`/release show` and `/release list` answered with as little work as the answer needs.

`show`: a plan that no longer moves answers its stored card after one indexed read checks that
the card is current (bot/store/plan_cards.py); otherwise the card is drawn from the database as
before and, when the plan no longer moves, stored for the next time. `list`: one query with the
columns a list line shows and the total, no ORM objects. The answers are those of
commands/plan_commands.py's original paths, byte for byte (tests/integration/release/
test_read_path.py compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.config import ReleasebotConfig
from bot.domain.lifecycle import ACTIVE
from bot.domain.mrkdwn import Mrkdwn
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.release.gates import deploy_holds
from bot.release.plans import LIST_LIMIT
from bot.release.snapshots import snapshot
from bot.store import plan_cards
from bot.store.models import ReleasePlan
from commands.render import replies
from commands.render.card import card


def show_card(plan_id: int, *, desk: Desk) -> Rendered:
    """The card of R-<plan_id>, only for the caller."""
    ctx = desk.ctx
    today = ctx.clock.now().astimezone(ctx.config.tz).date()
    found = plan_cards.look_up(
        desk.db, plan_id=plan_id, fingerprint=_fingerprint(ctx.config), today=today
    )
    if found is not None and found.card is not None:
        return Rendered(text=Mrkdwn(found.card["text"]), blocks=found.card["blocks"])
    # Drawn as before (a missing plan raises NotFound here, as before).
    with desk.db.session() as session:
        snap = snapshot(session, ctx=ctx, plan_id=plan_id)
        drawn = card(snap, deploy_holds(session, ctx=ctx, snap=snap))
    if found is not None and found.token is not None and snap.today == today:
        plan_cards.keep(
            desk.db,
            plan_id=plan_id,
            token=found.token,
            card={"text": str(drawn.text), "blocks": drawn.blocks},
        )
    return drawn


_FINGERPRINTS: dict[int, tuple[ReleasebotConfig, str]] = {}


def _fingerprint(config: ReleasebotConfig) -> str:
    """The config's fingerprint, worked out once per config object (the config never changes
    under a running bot; the object is kept so its id cannot be reused)."""
    known = _FINGERPRINTS.get(id(config))
    if known is None or known[0] is not config:
        if len(_FINGERPRINTS) > 8:
            _FINGERPRINTS.clear()
        known = (config, plan_cards.fingerprint(config.model_dump_json()))
        _FINGERPRINTS[id(config)] = known
    return known[1]


@dataclass(frozen=True)
class ListedPlan:
    """The columns of a plan a list line shows (commands/render/replies.py `plan_line`)."""

    id: int
    service: str
    version: str
    environment: str
    state: str
    window_start: datetime | None
    window_end: datetime | None

    @property
    def ref(self) -> str:
        """The id people type: R-12."""
        return f"R-{self.id}"


_ACTIVE = sorted(s.value for s in ACTIVE)


@lru_cache(maxsize=8)
def _list_query(by_environment: bool, include_all: bool) -> Select[Any]:
    plan = ReleasePlan.__table__.c  # type: ignore[attr-defined]
    where: list[ColumnElement[bool]] = []
    if by_environment:
        where.append(plan.environment == bindparam("environment"))
    if not include_all:
        where.append(plan.state.in_(_ACTIVE))
    return (
        select(
            plan.id,
            plan.service,
            plan.version,
            plan.environment,
            plan.state,
            plan.window_start,
            plan.window_end,
            func.count().over().label("total"),
        )
        .where(*where)
        .order_by(plan.id.desc())
        .limit(LIST_LIMIT)
    )


def list_active(*, desk: Desk, environment: str | None, include_all: bool) -> Rendered:
    """`/release list [<env>] [--all]` from one query."""
    statement = _list_query(environment is not None, include_all)
    params = {"environment": environment} if environment is not None else {}
    with desk.db.engine.connect() as connection:
        rows = connection.execute(statement, params).all()
    total = int(rows[0].total) if rows else 0
    found = [ListedPlan(*row[:7]) for row in reversed(rows)]
    scope = f" in {environment}" if environment else ""
    heading = ("All plans" if include_all else "Upcoming and active plans") + scope
    hint = "Use `/release history <service>` for one service's releases."
    # plan_list reads only what ListedPlan has (ref, service, version, environment, state,
    # window_start, window_end).
    return replies.plan_list(
        cast(Sequence[ReleasePlan], found),
        total=total,
        heading=heading,
        tz=desk.ctx.config.tz,
        more_hint=hint,
    )
