"""Issue 6's scheduler benchmark: 10,000 due jobs on one process, then the idle scheduler's CPU.

`python -m bench.scheduler_latency [--jobs 10000] [--spread 20 --spread 60] [--idle 30]` makes a
fresh database (PostgreSQL on 127.0.0.1, then a temporary SQLite file), migrates it, and for each
`--spread` owes `--jobs` ScheduledJob rows due evenly over that many seconds, starting `--lead`
seconds from now. The real `JobRunner`, woken by the real `Scheduler` (APScheduler) on the system
clock, runs them. The benchmark's job kind only notes when it fired, so what is measured is the
scheduler, not Slack. Lateness is the handler's wall time minus the job's due time. Then, with
nothing due, the process's CPU time over `--idle` seconds gives the idle share of a core. It
prints the figures and rewrites the "Scheduler latency (issue 6)" section of BENCHMARKS.md;
every database it makes is dropped or deleted before it returns.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from bench import seed
from bench.ack_latency import REPO, machine, percentile
from bench.report import record
from bot.app.migrate import upgrade
from bot.domain.clock import SystemClock
from bot.store.db import Database, make_engine
from bot.store.models import ScheduledJob
from bot.timing.scheduler import JobResult, JobRunner, Scheduler, done

SECTION = "## Scheduler latency (issue 6)"
KIND = "bench.fire"
LATE_BOUND_SECONDS = 2.0
IDLE_TARGET_SHARE = 0.02
# Past the last due time, how long the run may take before it is called incomplete.
DRAIN_DEADLINE_SECONDS = 120.0
# What runs the jobs: a change here means the figures are not those of the commit.
MEASURED_PATHS = ("bot", "bench/scheduler_latency.py")


@dataclass(frozen=True)
class Settings:
    """What one run does."""

    jobs: int
    spreads: tuple[float, ...]
    lead: float
    idle: float
    poll: float
    databases: tuple[str, ...]
    record: bool


@dataclass
class Firings:
    """(job id, due, fired) of every job the handler ran; wakes a waiter when all have."""

    expected: int
    seen: list[tuple[int, datetime, datetime]] = field(default_factory=list)
    all_fired: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self, session: Session, job: ScheduledJob, now: datetime) -> JobResult:
        """The benchmark's job kind: note the wall time it ran at (nothing else)."""
        fired = datetime.now(UTC)
        assert job.id is not None
        with self._lock:
            self.seen.append((job.id, job.due_at, fired))
            if len(self.seen) >= self.expected:
                self.all_fired.set()
        return done("fired")


@dataclass(frozen=True)
class Latency:
    """How late the jobs of one load ran on one database."""

    database: str
    jobs: int
    spread: float
    fired: int
    distinct: int
    lateness: list[float]  # seconds, one per firing
    drain_seconds: float  # from the first due time to the last firing

    def late(self, bound: float) -> int:
        """How many fired more than `bound` seconds after their due time."""
        return sum(1 for late in self.lateness if late > bound)

    @property
    def rate(self) -> float:
        """Jobs falling due per second."""
        return self.jobs / self.spread


@dataclass(frozen=True)
class Idle:
    """The process's CPU time while the scheduler polled with nothing due."""

    database: str
    cpu_seconds: float
    seconds: float

    @property
    def share(self) -> float:
        """CPU share of one core."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def owe_jobs(db: Database, *, count: int, first: datetime, spread: float, tag: str) -> None:
    """`count` jobs due evenly from `first` over `spread` seconds, in one bulk insert."""
    step = spread / max(count - 1, 1)
    rows = [
        {
            "kind": KIND,
            "subject": f"bench:{tag}:{index}",
            "due_at": first + timedelta(seconds=index * step),
            "payload": {},
        }
        for index in range(count)
    ]
    with db.session() as session:
        session.execute(insert(ScheduledJob), rows)


def fire(db: Database, runner: JobRunner, label: str, spread: float, settings: Settings) -> Latency:
    """Owe `settings.jobs` jobs over `spread` seconds and wait until the scheduler ran them."""
    firings = Firings(expected=settings.jobs)
    runner.register(KIND, firings.handler)  # this load's own record of firings
    began = time.monotonic()
    first = datetime.now(UTC) + timedelta(seconds=settings.lead)
    owe_jobs(db, count=settings.jobs, first=first, spread=spread, tag=f"{spread:g}")
    inserted = time.monotonic() - began
    if inserted >= settings.lead:
        raise SystemExit(f"inserting took {inserted:.1f} s, past the first due time")
    firings.all_fired.wait(settings.lead + spread + DRAIN_DEADLINE_SECONDS)
    # The last handler ran just before its transaction committed: give that commit a moment.
    settle_by = time.monotonic() + 10.0
    while (pending := _pending(db)) and time.monotonic() < settle_by:
        threading.Event().wait(0.05)
    if pending:
        print(f"{label}: {pending} jobs still pending at the deadline", flush=True)
    seen = list(firings.seen)
    last = max((fired for _, _, fired in seen), default=first)
    return Latency(
        database=label,
        jobs=settings.jobs,
        spread=spread,
        fired=len(seen),
        distinct=len({job_id for job_id, _, _ in seen}),
        lateness=[(fired - due).total_seconds() for _, due, fired in seen],
        drain_seconds=(last - first).total_seconds(),
    )


def _pending(db: Database) -> int:
    with db.session() as session:
        return session.exec(
            select(func.count())
            .select_from(ScheduledJob)
            .where(col(ScheduledJob.done_at).is_(None))
        ).one()


def measure(url: str, label: str, settings: Settings) -> tuple[list[Latency], Idle]:
    """Each load in turn with the background scheduler running, then the scheduler idling."""
    db = Database(make_engine(url))
    runner = JobRunner(db=db, clock=SystemClock(), owner=f"bench-{label}")
    runner.register(KIND, Firings(expected=0).handler)
    background = Scheduler(runner=runner, poll_seconds=settings.poll)
    background.start()
    try:
        loads = []
        for spread in settings.spreads:
            print(f"{label}: {settings.jobs:,} jobs over {spread:g} s ...", flush=True)
            loads.append(fire(db, runner, label, spread, settings))
        # Nothing is due any more: the scheduler keeps polling, and that is what is measured.
        cpu_before, wall_before = time.process_time(), time.monotonic()
        threading.Event().wait(settings.idle)
        idle = Idle(label, time.process_time() - cpu_before, time.monotonic() - wall_before)
    finally:
        background.stop()
        db.engine.dispose()
    return loads, idle


def run_postgres(settings: Settings) -> tuple[list[Latency], Idle]:
    """The measurement on a fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"bench_scheduler_{secrets.token_hex(4)}"
    seed.create_database(name)
    try:
        url = seed.sqlalchemy_url(name)
        upgrade(url)
        return measure(url, "PostgreSQL", settings)
    finally:
        seed.drop_database(name)


def run_sqlite(settings: Settings) -> tuple[list[Latency], Idle]:
    """The measurement on a temporary SQLite file (WAL, as the bot configures it)."""
    with tempfile.TemporaryDirectory(prefix="bench-scheduler-") as folder:
        url = f"sqlite:///{Path(folder) / 'releasebot.db'}"
        upgrade(url)
        return measure(url, "SQLite", settings)


# -- report ---------------------------------------------------------------------------------


Measured = list[tuple[list[Latency], Idle]]


def latency_table(measured: Measured) -> list[str]:
    """Lateness per database and load, as Markdown table lines."""
    lines = [
        "| database | jobs | due over | due per s | fired | fired twice | lateness p50 s "
        f"| p99 s | max s | late > {LATE_BOUND_SECONDS:g} s | first due → last fired |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for loads, _ in measured:
        for r in loads:
            lines.append(
                f"| {r.database} | {r.jobs:,} | {r.spread:g} s | {r.rate:,.0f} | {r.fired:,} "
                f"| {r.fired - r.distinct} | {percentile(r.lateness, 0.50):.3f} "
                f"| {percentile(r.lateness, 0.99):.3f} | {percentile(r.lateness, 1.0):.3f} "
                f"| {r.late(LATE_BOUND_SECONDS):,} | {r.drain_seconds:.1f} s |"
            )
    return lines


def verdicts(measured: Measured) -> list[str]:
    """Issue 6's two scheduler targets, per database and load."""
    lines = ["| target | database | measured | met |", "| --- | --- | --- | --- |"]
    for loads, idle in measured:
        for r in loads:
            late = r.late(LATE_BOUND_SECONDS)
            met = late == 0 and r.fired == r.distinct == r.jobs
            lines.append(
                f"| each of {r.jobs:,} jobs fires within {LATE_BOUND_SECONDS:g} s of its due time "
                f"({r.rate:,.0f} due per s) | {r.database} | {late:,} late, max "
                f"{percentile(r.lateness, 1.0):.2f} s, {r.fired:,} of {r.jobs:,} fired "
                f"| {'yes' if met else '**no**'} |"
            )
        lines.append(
            f"| idle scheduler CPU < {IDLE_TARGET_SHARE:.0%} of a core | {idle.database} "
            f"| {idle.cpu_seconds:.2f} s CPU in {idle.seconds:.0f} s = {idle.share:.2%} "
            f"| {'yes' if idle.share < IDLE_TARGET_SHARE else '**no**'} |"
        )
    return lines


def section(measured: Measured, settings: Settings, command: str, load: str) -> str:
    """The BENCHMARKS.md section, heading included."""
    spreads = " and ".join(f"{spread:g} s" for spread in settings.spreads)
    lines = [
        SECTION,
        "",
        "_Written by `bench/scheduler_latency.py`; re-run it to refresh this section._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}; PostgreSQL on 127.0.0.1 shares these CPUs. Load average "
        f"when the run began: {load} (other work on the machine included).",
        f"- Code: {code_version()}.",
        f"- Command: `{command}`",
        f"- Load: {settings.jobs:,} `ScheduledJob` rows due evenly over {spreads} (one load "
        f"after the other), the first {settings.lead:g} s after they were inserted, run by one "
        "process: the real `JobRunner` (claims of 200 rows, then one transaction per job that "
        "re-locks the row and sets `done_at` with the handler's effects; on PostgreSQL 4 jobs "
        "run side by side, on SQLite one at a time) woken every "
        f"{settings.poll:g} s by the real `Scheduler` (APScheduler `BackgroundScheduler`) on the "
        "system clock. The benchmark's job kind only notes the wall time it ran at. Lateness = "
        "that time minus the due time (a job is only claimed once due).",
        "- Idle: then, with nothing due and the scheduler still polling, the process's CPU time "
        f"(`time.process_time`, every thread) over {settings.idle:g} s. The database server's "
        "own CPU is not included.",
        "",
        *latency_table(measured),
        "",
        *verdicts(measured),
        "",
    ]
    return "\n".join(lines)


def code_version(paths: tuple[str, ...] = MEASURED_PATHS) -> str:
    """The commit being measured, marked when `paths` differ from it."""
    try:
        commit = _git("rev-parse", "--short", "HEAD").strip()
        changed = _git("status", "--porcelain", "--", *paths).strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"commit {commit}" + (
        f" with uncommitted changes under {', '.join(paths)}" if changed else ""
    )


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout


def parse_args(argv: list[str] | None) -> Settings:
    """Command-line settings, bounded so a run always ends."""
    parser = argparse.ArgumentParser(prog="python -m bench.scheduler_latency")
    parser.add_argument("--jobs", type=int, default=10_000, help="due jobs (at most 100,000)")
    parser.add_argument(
        "--spread",
        dest="spreads",
        type=float,
        action="append",
        help="seconds the due times span (repeatable: one load each; default 20 and 60)",
    )
    parser.add_argument("--lead", type=float, default=5.0, help="seconds before the first is due")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    parser.add_argument("--poll", type=float, default=0.5, help="the scheduler's poll interval")
    parser.add_argument(
        "--database",
        dest="databases",
        action="append",
        choices=("postgresql", "sqlite"),
        help="run on this database only (repeatable; default both)",
    )
    parser.add_argument(
        "--no-record", dest="record", action="store_false", help="do not touch BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= 100_000:
        parser.error("--jobs must be between 1 and 100,000")
    spreads = tuple(args.spreads or (20.0, 60.0))
    for name, value in [
        *(("spread", v) for v in spreads),
        *((n, getattr(args, n)) for n in ("lead", "idle", "poll")),
    ]:
        if not 0 < value <= 600:
            parser.error(f"--{name} must be between 0 and 600 seconds")
    return Settings(
        jobs=args.jobs,
        spreads=spreads,
        lead=args.lead,
        idle=args.idle,
        poll=args.poll,
        databases=tuple(args.databases or ("postgresql", "sqlite")),
        record=args.record,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure on each database, report; exit 0 when the run completed (targets met or not)."""
    settings = parse_args(argv)
    # A pass longer than the poll makes APScheduler warn once a second that it skipped a wake-up.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    shown = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.scheduler_latency", *map(shlex.quote, shown)])
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    runs = {"postgresql": run_postgres, "sqlite": run_sqlite}
    measured = [runs[name](settings) for name in settings.databases]
    report = section(measured, settings, command, load)
    print(report)
    if settings.record:
        record(SECTION, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
