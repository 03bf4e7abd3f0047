"""Issue 6's multi-process benchmark: three runner processes on one PostgreSQL, 1,000 due jobs.

`python -m bench.jobs_three_processes [--jobs 1000] [--processes 3]` makes a fresh, migrated
PostgreSQL database on 127.0.0.1, owes `--jobs` jobs already due, starts `--processes` copies of
itself as job runner processes (the real `JobRunner`; the job's effect is one audit row written
in the job's own transaction, as in tests/integration/timing/test_exactly_once.py), releases them at
once when all are connected, and reports the wall time, each process's share, and how many jobs
ran twice or never. It does this once with the runner's default claim size and once with small
claims that make the processes fight over the same rows, prints the figures and rewrites the
"Jobs on three processes (issue 6)" section of BENCHMARKS.md. Every process and database it
starts is stopped or dropped before it returns.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session, col, select

from bench import seed
from bench.ack_latency import machine
from bench.report import record
from bench.scheduler_latency import code_version
from bot.app.migrate import upgrade
from bot.domain.clock import SystemClock
from bot.store import audit
from bot.store.db import Database, make_engine
from bot.store.models import AuditEvent, ScheduledJob
from bot.timing.scheduler import JobResult, JobRunner, done

SECTION = "## Jobs on three processes (issue 6)"
KIND = "bench.count"
RAN = "bench.job_ran"
REPO = Path(__file__).resolve().parent.parent
WORKER_DEADLINE_SECONDS = 120.0
READY = "ready"
MEASURED_PATHS = ("bot", "bench/jobs_three_processes.py")


# -- the worker process ---------------------------------------------------------------------


def count(session: Session, job: ScheduledJob, now: datetime) -> JobResult:
    """The job's effect: one audit row naming it, committed with the job's `done_at`."""
    audit.record(session, at=now, actor_id="releasebot", action=RAN, detail={"job": job.id})
    return done("ran")


def worker(url: str, owner: str, batch: int) -> int:
    """Run due jobs until none is left, starting when the parent writes a line to stdin."""
    db = Database(make_engine(url))
    runner = JobRunner(db=db, clock=SystemClock(), owner=owner, batch=batch)
    runner.register(KIND, count)
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    with db.session() as session:  # connect before the start, so the race is fair
        session.exec(select(ScheduledJob.id).limit(1)).first()
    print(READY, flush=True)
    sys.stdin.readline()
    finished = 0
    while time.monotonic() < deadline:
        finished += runner.run_due()
        with db.session() as session:
            left = session.exec(
                select(ScheduledJob.id).where(col(ScheduledJob.done_at).is_(None)).limit(1)
            ).first()
        if left is None:
            break
    db.engine.dispose()
    print(finished, flush=True)
    return 0


# -- the parent -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """One run's figures."""

    batch: int
    jobs: int
    processes: int
    seconds: float  # from the start line to the last process's exit
    shares: dict[str, int]  # lease owner -> jobs it finished
    duplicates: int  # jobs whose effect was committed more than once
    missing: int  # jobs never run
    exit_codes: list[int]

    @property
    def rate(self) -> float:
        """Jobs finished per second."""
        return (self.jobs - self.missing) / self.seconds if self.seconds else 0.0


def owe_due_jobs(db: Database, jobs: int) -> None:
    """`jobs` jobs, all already due, in one bulk insert."""
    due = datetime.now(UTC) - timedelta(seconds=5)
    rows = [
        {"kind": KIND, "subject": f"bench:{index}", "due_at": due, "payload": {}}
        for index in range(jobs)
    ]
    with db.session() as session:
        session.execute(insert(ScheduledJob), rows)


def run_once(jobs: int, processes: int, batch: int) -> Result:
    """A fresh database, `processes` runners racing for `jobs` due jobs; then count."""
    name = f"bench_jobs_{secrets.token_hex(4)}"
    seed.create_database(name)
    workers: list[subprocess.Popen[str]] = []
    try:
        url = seed.sqlalchemy_url(name)
        upgrade(url)
        db = Database(make_engine(url))
        owe_due_jobs(db, jobs)
        for index in range(processes):
            argv = [sys.executable, "-m", "bench.jobs_three_processes", "--worker", url]
            workers.append(
                subprocess.Popen(
                    [*argv, f"p{index + 1}", str(batch)],
                    cwd=REPO,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for process in workers:
            assert process.stdout is not None
            if process.stdout.readline().strip() != READY:
                raise SystemExit("a worker process did not start")
        began = time.monotonic()
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        codes = [process.wait(timeout=WORKER_DEADLINE_SECONDS + 30) for process in workers]
        seconds = time.monotonic() - began
        with db.session() as session:
            ran = Counter(
                int(event.detail["job"])
                for event in session.exec(select(AuditEvent).where(AuditEvent.action == RAN))
            )
            rows = session.exec(select(ScheduledJob)).all()
        db.engine.dispose()
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
        seed.drop_database(name)
    shares = Counter(row.lease_owner or "nobody" for row in rows if row.done_at is not None)
    return Result(
        batch=batch,
        jobs=jobs,
        processes=processes,
        seconds=seconds,
        shares=dict(sorted(shares.items())),
        duplicates=sum(1 for times in ran.values() if times > 1),
        missing=sum(1 for row in rows if row.id not in ran or row.done_at is None),
        exit_codes=codes,
    )


def section(results: list[Result], command: str, load: str) -> str:
    """The BENCHMARKS.md section, heading included."""
    lines = [
        SECTION,
        "",
        "_Written by `bench/jobs_three_processes.py`; re-run it to refresh this section._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}; PostgreSQL on 127.0.0.1 shares these CPUs. Load average "
        f"when the run began: {load} (other work on the machine included).",
        f"- Code: {code_version(MEASURED_PATHS)}.",
        f"- Command: `{command}`",
        "- Load: a fresh PostgreSQL database with every job already due; each process is the "
        "real `JobRunner` (claims with `FOR UPDATE SKIP LOCKED` and a lease, then one "
        "transaction per job that re-locks the row and commits `done_at` with the job's effect: "
        "one audit row). The processes connect first and are released together; time runs from "
        "that moment to the last exit. Duplicates = jobs with more than one audit row; missing = "
        "jobs without one or not marked done. `tests/integration/timing/test_exactly_once.py` "
        "asserts "
        "the same on every test run.",
        "",
        "| claim size | jobs | processes | wall s | jobs/s | share per process | ran twice "
        "| never ran | exit codes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        shares = ", ".join(f"{owner} {n}" for owner, n in r.shares.items())
        lines.append(
            f"| {r.batch} | {r.jobs:,} | {r.processes} | {r.seconds:.2f} | {r.rate:,.0f} "
            f"| {shares} | {r.duplicates} | {r.missing} | {r.exit_codes} |"
        )
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    for r in results:
        met = r.duplicates == 0 and r.missing == 0 and set(r.exit_codes) == {0}
        lines.append(
            f"| {r.processes} processes run {r.jobs:,} due jobs, each exactly once (claims of "
            f"{r.batch}) | {r.duplicates} twice, {r.missing} never | {'yes' if met else '**no**'} |"
        )
    lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line settings, bounded so a run always ends."""
    parser = argparse.ArgumentParser(prog="python -m bench.jobs_three_processes")
    parser.add_argument("--jobs", type=int, default=1000, help="due jobs (at most 50,000)")
    parser.add_argument("--processes", type=int, default=3, help="runner processes (at most 8)")
    parser.add_argument(
        "--batch",
        type=int,
        action="append",
        help="claim size (repeatable: one run each; default 200, the runner's, and 7)",
    )
    parser.add_argument(
        "--no-record", dest="record", action="store_false", help="do not touch BENCHMARKS.md"
    )
    args = parser.parse_args(argv)
    args.batch = args.batch or [200, 7]
    if not 1 <= args.jobs <= 50_000 or not 1 <= args.processes <= 8:
        parser.error("--jobs must be 1-50,000 and --processes 1-8")
    if not all(1 <= batch <= 1000 for batch in args.batch):
        parser.error("--batch must be 1-1,000")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run each claim size, report; exit 0 when the runs completed (targets met or not)."""
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["--worker"]:
        logging.basicConfig(level=logging.WARNING)
        url, owner, batch = arguments[1:4]
        return worker(url, owner, int(batch))
    args = parse_args(arguments)
    command = " ".join(
        [".venv/bin/python -m bench.jobs_three_processes", *map(shlex.quote, arguments)]
    )
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    results = []
    for batch in args.batch:
        print(f"{args.processes} processes, {args.jobs:,} jobs, claims of {batch} ...", flush=True)
        results.append(run_once(args.jobs, args.processes, batch))
    report = section(results, command, load)
    print(report)
    if args.record:
        record(SECTION, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
