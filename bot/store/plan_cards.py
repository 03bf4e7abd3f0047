"""Rendered cards kept with their plans, and the token that says whether one is still current.

`/release show` of a plan that no longer moves (released, rejected, cancelled, expired, rolled
back, failed) answers from one indexed read: the plan's row, the stored card, and in the same
statement everything a change to what the card shows leaves behind:

- the plan's own state, revision and updated_at;
- its audit trail's newest id (every change to a plan is audited);
- its owed cards (`outbox_message` kind card: count and newest id; every change that alters a
  card owes one in the same transaction) and whether one is still undelivered;
- for a released plan, the lane's live release (its card says what superseded it, now live);
- the team's year (a card shows the year of a time in another year: commands/render/text.py
  `when`) and a fingerprint of the config and of the code that draws cards (`fingerprint`).

Every change commits one of these with it, so a card stored under an older token is simply a
miss: drawn again from the database, stored, answered. The token is read before the card is
drawn, so a change that commits in between leaves the stored card under a token that no longer
matches. Plans that still move (waiting, in flight) are never stored: their cards depend on the
clock (freezes) and on their lanes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.lifecycle import ACTIVE
from bot.notify.outbox_queue import CARD
from bot.store import driver
from bot.store.db import Database
from bot.store.driver import in_style
from bot.store.models import PlanCard, PlanState

# Plans whose cards depend only on what the token covers.
KEPT_STATES = frozenset(s.value for s in PlanState if s not in ACTIVE)
RELEASED = PlanState.RELEASED.value
# How long storing a card may wait for a lock; bot/store/db.py's SQLite busy timeout after it.
KEEP_WAIT_MS = 100
SQLITE_BUSY_MS = 30000

_TOKEN_SQL = """
SELECT p.id, p.state, p.revision, p.updated_at,
  (SELECT count(*) FROM outbox_message o WHERE o.plan_id = p.id AND o.kind = '{card}'),
  (SELECT max(o.id) FROM outbox_message o WHERE o.plan_id = p.id AND o.kind = '{card}'),
  (SELECT count(*) FROM outbox_message o
    WHERE o.plan_id = p.id AND o.kind = '{card}' AND o.delivered_at IS NULL),
  (SELECT max(a.id) FROM audit_event a WHERE a.plan_id = p.id),
  CASE WHEN p.state = '{released}' THEN COALESCE(
    (SELECT l.id FROM release_plan l
      WHERE l.service = p.service AND l.environment = p.environment
        AND l.state = '{released}' AND l.deployed_at IS NOT NULL
      ORDER BY l.deployed_at DESC, l.id DESC LIMIT 1),
    (SELECT l.id FROM release_plan l
      WHERE l.service = p.service AND l.environment = p.environment
        AND l.state = '{released}' AND l.deployed_at IS NULL
      ORDER BY l.id DESC LIMIT 1)) END,
  c.token, c.body
FROM release_plan p LEFT JOIN plan_card c ON c.plan_id = p.id
WHERE p.id {where}
"""
# The live release above is lanes.live_release's order (deployed_at DESC NULLS LAST, id DESC)
# split in two so that each half is one probe of ix_release_plan_lane_deployed.


@dataclass(frozen=True)
class Lookup:
    """What one read found: the plan's state, the current token, and the stored answer if it
    was stored under that token."""

    state: str
    token: str | None
    answer: str | None  # the stored ack body (JSON text), as Bolt's `Ack` wrote it


# The most plans one statement asks for (bot/store/async_reads.py `Batcher`).
MOST_AT_ONCE = 64


@lru_cache(maxsize=MOST_AT_ONCE)
def tokens_sql(count: int) -> str:
    """The token statement for `count` plans at once, `%(p0)s`…, in every driver's
    `%(name)s` style (bot/store/driver.py and async_reads.py convert it): one statement (and
    one prepared statement per size) answers every `show` that arrived together."""
    if not 1 <= count <= MOST_AT_ONCE:
        raise ValueError(f"between 1 and {MOST_AT_ONCE} plans at once, not {count}")
    places = ", ".join(f"%(p{n})s" for n in range(count))
    return _TOKEN_SQL.format(card=CARD, released=RELEASED, where=f"IN ({places})")


def tokens_parameters(plan_ids: Sequence[int]) -> dict[str, Any]:
    """`tokens_sql(len(plan_ids))`'s parameters."""
    return {f"p{n}": plan_id for n, plan_id in enumerate(plan_ids)}


def look_up(db: Database, *, plan_id: int, fingerprint: str, year: int) -> Lookup | None:
    """The plan's state and current card token (None when its card is not kept now), and the
    stored answer when it is current; None when there is no such plan."""
    with driver.cursor(db) as (cursor, dialect):
        cursor.execute(in_style(tokens_sql(1), dialect.name), tokens_parameters([plan_id]))
        row = cursor.fetchone()
    return found(row, fingerprint=fingerprint, year=year)


def found(row: Sequence[Any] | None, *, fingerprint: str, year: int) -> Lookup | None:
    """`look_up`'s answer from a row of `tokens_sql`, however it was read."""
    if row is None:
        return None
    _, state, revision, updated_at, cards, last_card, pending, last_audit, live, stored, body = row
    if state not in KEPT_STATES or pending:
        return Lookup(state=state, token=None, answer=None)
    token = "|".join(
        _part(part)
        for part in (
            fingerprint,
            year,
            state,
            revision,
            updated_at,
            f"{cards}:{last_card}",
            last_audit,
            live,
        )
    )
    if stored != token or body is None:
        return Lookup(state=state, token=token, answer=None)
    return Lookup(state=state, token=token, answer=body)


def _part(value: Any) -> str:
    """A token part, the same whichever driver read it (time zones differ between drivers)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return str(value)


def keep(db: Database, *, plan_id: int, token: str, answer: str) -> bool:
    """Store `answer` (the ack body) under `token` (read before the card was drawn); False if
    it could not be.

    Best effort: the answer does not wait for a busy database, the next `show` tries again.
    """
    body = answer
    table = PlanCard.__table__  # type: ignore[attr-defined]
    try:
        with db.engine.connect() as connection:
            postgres = connection.dialect.name == "postgresql"
            raw: Any = connection.connection.dbapi_connection
            if not postgres:
                # Not the 30 s a writer waits for SQLite's lock: a `show` waits 0.1 s at most.
                raw.execute(f"PRAGMA busy_timeout={KEEP_WAIT_MS}")
            try:
                with connection.begin():
                    if postgres:
                        # A card lost in a crash is only drawn again: no wait for the disk,
                        # and none behind another `show` storing the same card.
                        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {KEEP_WAIT_MS}")
                    dialect = postgresql if postgres else sqlite
                    insert = dialect.insert(table).values(plan_id=plan_id, token=token, body=body)
                    connection.execute(
                        insert.on_conflict_do_update(
                            index_elements=[table.c.plan_id], set_={"token": token, "body": body}
                        )
                    )
            finally:
                if not postgres:
                    raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    except SQLAlchemyError:
        return False
    return True


# What a stored card is drawn and answered with: another release of any of it draws anew.
_SOURCES = (
    "commands/render",
    "commands/read_path.py",
    "commands/replying.py",
    "bot/release",
    "bot/domain",
    "bot/store",
)


def fingerprint(config_json: str) -> str:
    """A short hash of the config and of the code cards are drawn with: another config or
    another release of the bot never answers a card stored by the one before."""
    digest = hashlib.sha256(config_json.encode())
    root = Path(__file__).resolve().parents[2]
    for source in _SOURCES:
        path = root / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]
