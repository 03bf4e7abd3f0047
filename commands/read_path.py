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
from zoneinfo import ZoneInfo

from bot.domain.config import ReleasebotConfig
from bot.domain.mrkdwn import Mrkdwn
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.release.gates import deploy_holds
from bot.release.plans import LIST_LIMIT
from bot.release.snapshots import snapshot
from bot.store import plan_cards, plan_list
from bot.store.models import ReleasePlan
from commands.render import replies
from commands.render.card import card
from commands.replying import ephemeral


def show_card(plan_id: int, *, desk: Desk) -> Rendered:
    """The card of R-<plan_id>, only for the caller (broadcasts already defused: defusing
    again changes nothing)."""
    answer = show_answer(plan_id, desk=desk)
    return Rendered(text=Mrkdwn(answer["text"]), blocks=answer["blocks"])


def show_answer(plan_id: int, *, desk: Desk) -> dict[str, Any]:
    """`ephemeral(card)` of R-<plan_id>: the body of the ack that answers `/release show`.

    Stored as answered, so a stored card is neither parsed into blocks again nor walked for
    broadcasts again on every `show`.
    """
    ctx = desk.ctx
    today = ctx.clock.now().astimezone(ctx.config.tz).date()
    found = plan_cards.look_up(
        desk.db, plan_id=plan_id, fingerprint=_fingerprint(ctx.config), year=today.year
    )
    if found is not None and found.card is not None:
        return {"response_type": "ephemeral", **found.card}
    # Drawn as before (a missing plan raises NotFound here, as before).
    with desk.db.session() as session:
        snap = snapshot(session, ctx=ctx, plan_id=plan_id)
        answer = ephemeral(card(snap, deploy_holds(session, ctx=ctx, snap=snap)))
    drawn_year = snap.today.year if snap.today is not None else None
    if found is not None and found.token is not None and drawn_year == today.year:
        plan_cards.keep(
            desk.db,
            plan_id=plan_id,
            token=found.token,
            card={"text": answer["text"], "blocks": answer["blocks"]},
        )
    return answer


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


def list_active(*, desk: Desk, environment: str | None, include_all: bool) -> Rendered:
    """`/release list [<env>] [--all]` from one query (broadcasts already defused)."""
    answer = list_answer(desk=desk, environment=environment, include_all=include_all)
    return Rendered(text=Mrkdwn(answer["text"]), blocks=answer["blocks"])


def list_answer(*, desk: Desk, environment: str | None, include_all: bool) -> dict[str, Any]:
    """`ephemeral(list)`: the body of the ack that answers `/release list`; the same rows
    answer the same, drawn once."""
    rows, total = plan_list.newest(
        desk.db, environment=environment, include_all=include_all, limit=LIST_LIMIT
    )
    return _drawn_list(tuple(rows), total, environment, include_all, desk.ctx.config.tz)


@lru_cache(maxsize=32)
def _drawn_list(
    rows: tuple[plan_list.Row, ...],
    total: int,
    environment: str | None,
    include_all: bool,
    tz: ZoneInfo,
) -> dict[str, Any]:
    scope = f" in {environment}" if environment else ""
    heading = ("All plans" if include_all else "Upcoming and active plans") + scope
    hint = "Use `/release history <service>` for one service's releases."
    found = [ListedPlan(*row) for row in reversed(rows)]
    # plan_list reads only what ListedPlan has (ref, service, version, environment, state,
    # window_start, window_end).
    return ephemeral(
        replies.plan_list(
            cast(Sequence[ReleasePlan], found),
            total=total,
            heading=heading,
            tz=tz,
            more_hint=hint,
        )
    )
