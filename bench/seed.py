"""A throwaway PostgreSQL database filled like a busy installation: plans and their audit trail.

Rows go in with COPY (psycopg 3), so 100,000 plans and 1,000,000 audit events take seconds,
not the hours one ORM insert per row would. Every trail follows the real lifecycle table, so a
plan's state is the `to_state` of its last transition, as the bot itself would have left it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from bot.app.migrate import upgrade
from bot.domain.lifecycle import ACTIVE
from bot.store.models import PlanState

S = PlanState
SERVER = "postgres@127.0.0.1:5432"

# The environments must be those of the repo's releasebot.toml: a card looks its policy up.
ENVIRONMENTS = (("staging", 0.55), ("production", 0.45))
SERVICES = (
    "checkout",
    "payments",
    "catalog",
    "billing",
    "search",
    "accounts",
    "cart",
    "inventory",
    "notifications",
    "shipping",
    "pricing",
    "reviews",
)
STRATEGIES = ("canary", "all_at_once", "blue_green")
APPROVERS = ("U0APPROVER1", "U0APPROVER2", "U0APPROVER3")
DEVELOPERS = tuple(f"U0DEV{n:03d}" for n in range(1, 61))
SETTLED = {
    "staging": ((S.RELEASED, 80), (S.CANCELLED, 8), (S.EXPIRED, 4), (S.ROLLED_BACK, 5),
                (S.FAILED, 3)),
    "production": ((S.RELEASED, 70), (S.REJECTED, 5), (S.CANCELLED, 8), (S.EXPIRED, 6),
                   (S.ROLLED_BACK, 8), (S.FAILED, 3)),
}  # fmt: skip
# Only the newest plans are still moving; a few old ones were forgotten half-way.
RECENT = 400
RECENT_ACTIVE_SHARE = 0.5
FORGOTTEN_SHARE = 0.0005
HISTORY = timedelta(days=4 * 365)
# Audit lines that change no state, spread over the plans to reach the requested total.
NOTES = ("plan.edited", "checklist.ticked", "stage.started", "stage.succeeded", "check.passed")

PLAN_COLUMNS = (
    "id", "service", "version", "environment", "state", "strategy", "requester_id",
    "window_start", "window_end", "notes", "risks", "stakeholders", "depends_on", "artifact",
    "rollback_version", "override_reason", "approval_round", "revision", "next_step_at",
    "created_at", "updated_at",
)  # fmt: skip
AUDIT_COLUMNS = (
    "id", "plan_id", "at", "actor_id", "action", "from_state", "to_state", "reason", "detail",
)  # fmt: skip

# (action, from_state, to_state, actor kind, reason); actor kind: requester|approver|bot.
Step = tuple[str, str | None, str | None, str, str | None]


@dataclass(frozen=True)
class SeedSummary:
    """What was inserted, and how long it took."""

    plans: int
    audit_events: int
    active_plans: int
    seconds: float


def conninfo(database: str) -> str:
    """A psycopg connection string for `database` on the local server."""
    return f"postgresql://{SERVER}/{database}"


def sqlalchemy_url(database: str) -> str:
    """The same database as the bot's DATABASE_URL (psycopg 3 driver)."""
    return f"postgresql+psycopg://{SERVER}/{database}"


def create_database(name: str) -> None:
    """Create an empty database `name` on the local server."""
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    """Drop `name`, disconnecting whoever is still on it."""
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def database_exists(name: str) -> bool:
    """True when the local server has a database called `name`."""
    with psycopg.connect(conninfo("postgres"), autocommit=True) as admin:
        row = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def count_rows(database: str) -> tuple[int, int]:
    """(plans, audit events) in `database`."""
    with psycopg.connect(conninfo(database)) as connection:
        plans = connection.execute("SELECT count(*) FROM release_plan").fetchone()
        events = connection.execute("SELECT count(*) FROM audit_event").fetchone()
    return (plans[0] if plans else 0, events[0] if events else 0)


def plan_titles(database: str) -> dict[int, str]:
    """Each plan's card title, as `/release show` must answer it."""
    with psycopg.connect(conninfo(database)) as connection:
        rows = connection.execute(
            "SELECT id, service, version, environment FROM release_plan"
        ).fetchall()
    return {row[0]: f"R-{row[0]} · {row[1]} {row[2]} → {row[3]}" for row in rows}


def _weighted(rng: random.Random, table: tuple[tuple[S, int], ...]) -> S:
    return rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]


def _final_state(rng: random.Random, environment: str, index: int, total: int) -> S:
    recent = index >= total - RECENT
    if (recent and rng.random() < RECENT_ACTIVE_SHARE) or rng.random() < FORGOTTEN_SHARE:
        choices = sorted(ACTIVE - ({S.AWAITING_APPROVAL} if environment == "staging" else set()))
        return rng.choice(choices)
    return _weighted(rng, SETTLED[environment])


def _approval_steps(environment: str) -> list[Step]:
    if environment == "staging":
        return []
    return [
        ("approval.approve", None, None, "approver", None),
        ("approval.approve", None, None, "approver", None),
        ("plan.approve", S.AWAITING_APPROVAL, S.APPROVED, "bot", None),
    ]


def trail_to(rng: random.Random, environment: str, final: S) -> list[Step]:
    """The transitions that take a new plan in `environment` to `final`, as the bot audits."""
    first = S.AWAITING_APPROVAL if environment == "production" else S.APPROVED
    steps: list[Step] = [("plan.created", None, first, "requester", None)]
    if final == S.AWAITING_APPROVAL:
        return steps
    if final == S.REJECTED:
        return [
            *steps,
            ("approval.reject", None, None, "approver", "no rollback plan for the schema change"),
            ("plan.reject", S.AWAITING_APPROVAL, S.REJECTED, "bot", None),
        ]
    if final in (S.CANCELLED, S.EXPIRED):
        if first == S.APPROVED or rng.random() < 0.5:
            steps += _approval_steps(environment)
            was = S.APPROVED
        else:
            was = S.AWAITING_APPROVAL
        if final == S.CANCELLED:
            return [*steps, ("plan.cancel", was, S.CANCELLED, "requester", "superseded")]
        return [*steps, ("plan.expire", was, S.EXPIRED, "bot", "window ended before it started")]
    steps += _approval_steps(environment)
    if final == S.APPROVED:
        return steps
    steps.append(("plan.deploy", S.APPROVED, S.DEPLOYING, "requester", None))
    if final == S.DEPLOYING:
        return steps
    if final == S.PAUSED:
        return [*steps, ("plan.pause", S.DEPLOYING, S.PAUSED, "requester", "watching error rate")]
    if final in (S.ROLLING_BACK, S.ROLLED_BACK, S.FAILED):
        steps.append(
            ("plan.check_failed", S.DEPLOYING, S.ROLLING_BACK, "bot", "error rate 4.1% > 2%")
        )
        if final == S.ROLLED_BACK:
            steps.append(("plan.rollback_done", S.ROLLING_BACK, S.ROLLED_BACK, "bot", None))
        elif final == S.FAILED:
            steps.append(
                ("plan.rollback_failed", S.ROLLING_BACK, S.FAILED, "bot", "backend timed out")
            )
        return steps
    steps.append(("plan.stages_done", S.DEPLOYING, S.VERIFYING, "bot", None))
    if final == S.VERIFYING:
        return steps
    return [*steps, ("plan.checks_passed", S.VERIFYING, S.RELEASED, "bot", None)]


@dataclass
class _Plan:
    row: tuple[object, ...]
    requester: str
    created_at: datetime
    trail: list[Step]


def _plans(rng: random.Random, count: int, now: datetime) -> list[_Plan]:
    start = now - HISTORY
    spacing = HISTORY / count
    released: dict[tuple[str, str], str] = {}
    minor: dict[str, int] = dict.fromkeys(SERVICES, 0)
    plans: list[_Plan] = []
    names = [name for name, _ in ENVIRONMENTS]
    weights = [weight for _, weight in ENVIRONMENTS]
    for index in range(count):
        plan_id = index + 1
        service = rng.choice(SERVICES)
        environment = rng.choices(names, weights=weights)[0]
        minor[service] += 1
        version = f"v{1 + minor[service] // 400}.{minor[service] % 400}.{rng.randrange(10)}"
        final = _final_state(rng, environment, index, count)
        trail = trail_to(rng, environment, final)
        created = start + spacing * index + timedelta(seconds=rng.randrange(600))
        updated = created + timedelta(minutes=7 * len(trail))
        window_start = created + timedelta(hours=rng.choice((0, 1, 4, 24)))
        if final in (S.AWAITING_APPROVAL, S.APPROVED):
            # Waiting plans wait for a window that has not opened yet.
            window_start = max(window_start, now + timedelta(hours=rng.randrange(1, 72)))
        window_end = window_start + timedelta(hours=2) if rng.random() < 0.4 else None
        requester = rng.choice(DEVELOPERS)
        artifact = {
            "image": f"registry.example.com/{service}@sha256:{rng.getrandbits(256):064x}",
            "build_url": f"https://ci.example.com/{service}/builds/{plan_id}",
        }
        stakeholders = ["@support"] if environment == "production" else []
        risks = ["touches the payments schema"] if rng.random() < 0.05 else []
        notes = f"Ships {service} {version}; see the changelog." if rng.random() < 0.3 else None
        row = (
            plan_id, service, version, environment, final.value,
            rng.choice(STRATEGIES), requester, window_start, window_end, notes,
            json.dumps(risks), json.dumps(stakeholders), "[]", json.dumps(artifact),
            released.get((service, environment)), None, 1, len(trail), None, created, updated,
        )  # fmt: skip
        if final == S.RELEASED:
            released[(service, environment)] = version
        plans.append(_Plan(row=row, requester=requester, created_at=created, trail=trail))
    return plans


def _audit_rows(rng: random.Random, plans: list[_Plan], total: int) -> Iterator[tuple[object, ...]]:
    needed = sum(len(p.trail) for p in plans)
    if total < needed:
        raise ValueError(f"{len(plans)} plans need at least {needed} audit events; got {total}")
    extra = [0] * len(plans)
    for index in rng.choices(range(len(plans)), k=total - needed):
        extra[index] += 1
    event_id = 0
    for plan, padding in zip(plans, extra, strict=True):
        # Notes land before the last transition: the trail still ends in the plan's state.
        steps = list(plan.trail)
        for _ in range(padding):
            note: Step = (rng.choice(NOTES), None, None, "requester", None)
            steps.insert(max(1, len(steps) - 1), note)
        at = plan.created_at
        for action, from_state, to_state, actor_kind, reason in steps:
            event_id += 1
            actor = {
                "requester": plan.requester,
                "approver": rng.choice(APPROVERS),
                "bot": "releasebot",
            }[actor_kind]
            detail = '{"round": 1}' if action.startswith("approval.") else "{}"
            yield (event_id, plan.row[0], at, actor, action, from_state, to_state, reason, detail)
            at += timedelta(seconds=rng.randrange(30, 900))


def _copy(
    connection: psycopg.Connection[object],
    table: str,
    columns: tuple[str, ...],
    rows: Iterator[tuple[object, ...]],
) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def seed(database: str, *, plans: int, audit_events: int, rng_seed: int = 20261124) -> SeedSummary:
    """Migrate `database` (empty) to the newest schema and fill it; the same seed, the same rows."""
    started = time.perf_counter()
    upgrade(sqlalchemy_url(database))
    rng = random.Random(rng_seed)
    made = _plans(rng, plans, datetime.now(UTC))
    with psycopg.connect(conninfo(database)) as connection:
        _copy(connection, "release_plan", PLAN_COLUMNS, (p.row for p in made))
        _copy(connection, "audit_event", AUDIT_COLUMNS, _audit_rows(rng, made, audit_events))
        # The rows came with their ids: move the sequences past them for the bot's own inserts.
        for table in ("release_plan", "audit_event"):
            connection.execute(
                sql.SQL("SELECT setval(pg_get_serial_sequence({}, 'id'), max(id)) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
        connection.commit()
        # The planner must see the real table sizes, as it would on a long-running install.
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE release_plan")
        connection.execute("VACUUM ANALYZE audit_event")
    active = sum(1 for p in made if PlanState(str(p.row[4])) in ACTIVE)
    return SeedSummary(
        plans=plans,
        audit_events=audit_events,
        active_plans=active,
        seconds=time.perf_counter() - started,
    )


def active_plans(database: str) -> int:
    """How many plans `/release list` counts as upcoming or active."""
    with psycopg.connect(conninfo(database)) as connection:
        row = connection.execute(
            "SELECT count(*) FROM release_plan WHERE state = ANY(%s)",
            ([s.value for s in ACTIVE],),
        ).fetchone()
    return row[0] if row else 0
