"""`/release show` and `/release list` answered with as little work as the answer needs.

`show`: a plan that no longer moves answers its stored card after one indexed read checks that
the card is current (bot/store/plan_cards.py); otherwise the card is drawn from the database as
before and, when the plan no longer moves, stored for the next time. `list`: one query with the
columns a list line shows and the total, no ORM objects. The answers are those of
commands/plan_commands.py's original paths, byte for byte (tests/integration/release/
test_read_path.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from anyio import to_thread
from slack_bolt.context.ack import Ack

from bot.domain.config import ReleasebotConfig
from bot.domain.mrkdwn import Mrkdwn
from bot.notify.outbox import Rendered
from bot.release.desk import Desk
from bot.release.gates import deploy_holds
from bot.release.plans import LIST_LIMIT
from bot.release.snapshots import snapshot
from bot.store import plan_cards, plan_list
from bot.store.async_reads import CONNECTIONS, AsyncReads, Batcher, Row
from bot.store.models import ReleasePlan
from commands.render import replies
from commands.render.card import card
from commands.replying import ephemeral


def show_card(plan_id: int, *, desk: Desk) -> Rendered:
    """The card of R-<plan_id>, only for the caller (broadcasts already defused: defusing
    again changes nothing)."""
    answer = json.loads(show_answer(plan_id, desk=desk))
    return Rendered(text=Mrkdwn(answer["text"]), blocks=answer["blocks"])


def show_answer(plan_id: int, *, desk: Desk) -> str:
    """The body of the ack that answers `/release show R-<plan_id>`, as Bolt's `Ack` writes
    `ephemeral(card)`.

    Stored as answered, so a stored card is neither parsed into blocks again nor walked for
    broadcasts nor serialised again on every `show`.
    """
    found = plan_cards.look_up(desk.db, plan_id=plan_id, **card_scope(desk))
    return found.answer if found is not None and found.answer else draw_card(plan_id, found, desk)


def card_scope(desk: Desk) -> dict[str, Any]:
    """What a stored card's token holds besides the plan: the config's and code's
    fingerprint, and the team's year."""
    ctx = desk.ctx
    year = ctx.clock.now().astimezone(ctx.config.tz).year
    return {"fingerprint": _fingerprint(ctx.config), "year": year}


def draw_card(plan_id: int, found: plan_cards.Lookup | None, desk: Desk) -> str:
    """Draw the card from the database as before (a missing plan raises NotFound here, as
    before) and store it when `found` says its plan no longer moves."""
    ctx = desk.ctx
    with desk.db.session() as session:
        snap = snapshot(session, ctx=ctx, plan_id=plan_id)
        answer = ack_body(ephemeral(card(snap, deploy_holds(session, ctx=ctx, snap=snap))))
    drawn_year = snap.today.year if snap.today is not None else None
    today = ctx.clock.now().astimezone(ctx.config.tz).date()
    if found is not None and found.token is not None and drawn_year == today.year:
        plan_cards.keep(desk.db, plan_id=plan_id, token=found.token, answer=answer)
    return answer


def ack_body(answer: dict[str, Any]) -> str:
    """The body Bolt's `Ack` answers `answer` with."""
    body = Ack()(**answer).body  # type: ignore[no-untyped-call]
    return str(body)


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
    rows, total = plan_list.newest(
        desk.db, environment=environment, include_all=include_all, limit=LIST_LIMIT
    )
    answer = _drawn_list(tuple(rows), total, environment, include_all, desk.ctx.config.tz)[0]
    return Rendered(text=Mrkdwn(answer["text"]), blocks=answer["blocks"])


@lru_cache(maxsize=32)
def _drawn_list(
    rows: tuple[plan_list.Row, ...],
    total: int,
    environment: str | None,
    include_all: bool,
    tz: ZoneInfo,
) -> tuple[dict[str, Any], str]:
    """`ephemeral(list)` and the ack body Bolt answers it with."""
    scope = f" in {environment}" if environment else ""
    heading = ("All plans" if include_all else "Upcoming and active plans") + scope
    hint = "Use `/release history <service>` for one service's releases."
    found = [ListedPlan(*row) for row in reversed(rows)]
    # plan_list reads only what ListedPlan has (ref, service, version, environment, state,
    # window_start, window_end).
    answer = ephemeral(
        replies.plan_list(
            cast(Sequence[ReleasePlan], found),
            total=total,
            heading=heading,
            tz=tz,
            more_hint=hint,
        )
    )
    return answer, ack_body(answer)


class EventLoopReads:
    """`/release show` and `list` answered on the event loop (commands/fast_reads.py): the
    same answers as `show_answer` and `list_active`, from `reads`; the reads asked together
    go out in one statement (bot/store/async_reads.py `Batcher`), at most `at_once` at a time.
    A card that must be drawn is drawn in a worker thread, as Bolt's path draws it."""

    def __init__(self, desk: Desk, reads: AsyncReads, *, at_once: int = CONNECTIONS) -> None:
        self._desk = desk
        self._reads = reads
        self._cards = Batcher(self._read_cards, at_once=at_once, most=plan_cards.MOST_AT_ONCE)
        self._lists = Batcher(self._read_lists, at_once=at_once, most=8)

    async def card(self, plan_id: int) -> str:
        """The body of the ack that answers `/release show R-<plan_id>`."""
        desk = self._desk
        found = plan_cards.found(await self._cards.ask(plan_id), **card_scope(desk))
        if found is not None and found.answer:
            return found.answer
        return await to_thread.run_sync(lambda: draw_card(plan_id, found, desk))

    async def plans(self, environment: str | None, include_all: bool) -> str:
        """The body of the ack that answers `/release list [<env>] [--all]`."""
        desk = self._desk
        fetched = await self._lists.ask((environment, include_all))
        rows, total = plan_list.rows_of(fetched or [], desk.db.engine.dialect)
        return _drawn_list(tuple(rows), total, environment, include_all, desk.ctx.config.tz)[1]

    async def close(self) -> None:
        """Release the reads' connections."""
        await self._reads.close()

    async def _read_cards(self, plan_ids: list[int]) -> dict[int, Row]:
        rows = await self._reads.rows(
            plan_cards.tokens_sql(len(plan_ids)), plan_cards.tokens_parameters(plan_ids)
        )
        return {row[0]: row for row in rows}

    async def _read_lists(
        self, scopes: list[tuple[str | None, bool]]
    ) -> dict[tuple[str | None, bool], list[Row]]:
        found = {}
        for environment, include_all in scopes:
            found[(environment, include_all)] = await self._reads.rows(
                plan_list.statement(environment is not None, include_all, LIST_LIMIT),
                plan_list.parameters(environment),
            )
        return found
