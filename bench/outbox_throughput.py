"""Issue 6's outbox benchmark: 1,000 messages over 50 channels at Slack's 1 message/s/channel.

`python -m bench.outbox_throughput [--channels 50] [--per-channel 20]` makes a fresh database
(PostgreSQL on 127.0.0.1, then a temporary SQLite file), owes the messages with
`bot.notify.outbox.owe_message` "
        f"in one transaction, and lets the real `OutboxDispatcher` (its own
delivery thread, the system clock) deliver them through the real Slack adapter
(`commands.slack_port.WebApiSlack` over a slack_sdk `WebClient`) to the local Slack Web API
stand-in, which answers 429 whenever a channel gets more than one message a second. It measures
the wall time until the last message arrived, counts the 429s, checks every message arrived
exactly once and in order per channel, prints the figures and rewrites the "Outbox throughput
(issue 6)" section of BENCHMARKS.md. Only 127.0.0.1 is contacted; the server, the thread and the
database it starts are stopped or dropped before it returns.

A second run per database measures issue 9's alert latency under backlog: two channels each
owe `--alert-backlog` ordinary messages; while they drain at 1/s, one urgent message (the
priority of a rollback alert) is owed to the first and one ordinary message to the second in
the same transaction, and the time each takes to reach the stand-in is reported.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from slack_sdk import WebClient
from sqlmodel import Session, col, select

from bench import seed
from bench.ack_latency import machine, percentile
from bench.report import record
from bench.scheduler_latency import code_version
from bot.app.migrate import upgrade
from bot.domain.clock import SystemClock
from bot.notify.outbox import OutboxDispatcher, Priority, Rendered, owe_message
from bot.store.db import Database, make_engine
from bot.store.models import OutboxMessage
from commands.slack_port import WebApiSlack
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server, wait_until

SECTION = "## Outbox throughput (issue 6)"
BOT_TOKEN = "xoxb-bench-outbox"
SLACK_RATE_PER_CHANNEL = 1.0
OVER_IDEAL_TARGET = 0.10
# An alert owed behind a backlog goes out with its channel's next second (+ one send).
ALERT_TARGET_SECONDS = 2.0
# Messages each backlog channel has delivered before the two probes are owed.
ALERT_OWED_AFTER = 3
# The ideal: each channel's first message at once, then one a second, plus one send's overhead.
SEND_ALLOWANCE_SECONDS = 1.0
MEASURED_PATHS = ("bot", "commands", "console", "bench/outbox_throughput.py")
HISTORY = (
    "Before commit 26a9ab4 the delivery loop slept until the soonest *future* pacing slot even "
    "when another channel was free already, so each message waited ~0.1 s past its second: "
    "22.03 s (+10.2%) on PostgreSQL, 21.89 s (+9.4%) on SQLite, 0 429s, gaps p50 1.07-1.10 s, "
    "max 1.59-1.79 s. It now wakes for the first channel whose head is due and whose second "
    "has passed (`OutboxDispatcher.next_due_in`). Before issue 9's priorities (commit 55e1dfa) "
    "a channel sent strictly oldest first, so an alert owed behind 40 messages waited for all "
    "of them: 42 s in tests/integration/timing/test_outbox_priority.py "
    "on a fake clock, as the issue "
    "measured in a workspace. The priorities cost no throughput: run back to back at load 2.5, "
    "commit 55e1dfa took 21.59 s (PostgreSQL) and 20.72 s (SQLite) with 8.8 and 8.4 s of "
    "process CPU, the priority queue 21.49 s and 20.98 s with 8.2 and 8.3 s. A first version "
    "with its own queue index cost ~15% more CPU per message on PostgreSQL (every claim and "
    "delivery rewrote one more index); it was dropped."
)


@dataclass(frozen=True)
class Settings:
    """What one run does."""

    channels: int
    per_channel: int
    deadline: float
    databases: tuple[str, ...]
    record: bool
    alert_backlog: int = 40

    @property
    def messages(self) -> int:
        """Messages owed in all."""
        return self.channels * self.per_channel

    @property
    def ideal_seconds(self) -> float:
        """Slack's pacing floor for one channel's messages, plus one send's overhead."""
        return (self.per_channel - 1) / SLACK_RATE_PER_CHANNEL + SEND_ALLOWANCE_SECONDS


@dataclass(frozen=True)
class Result:
    """One database's figures."""

    database: str
    messages: int
    arrived: int
    seconds: float  # from the dispatcher's start to the last message's arrival
    rejected_429: int
    calls: int
    duplicates: int
    out_of_order_channels: int
    missing: int
    undelivered_rows: int
    gaps: list[float]  # seconds between consecutive messages of a channel, at the stand-in
    cpu_seconds: float  # this process: dispatcher and stand-in together

    @property
    def correct(self) -> bool:
        """Every message arrived once, in order, and the outbox knows it."""
        return (
            self.arrived == self.messages
            and not self.duplicates
            and not self.out_of_order_channels
            and not self.missing
            and not self.undelivered_rows
        )


@dataclass(frozen=True)
class AlertLatency:
    """One database's alert-under-backlog figures."""

    database: str
    backlog: int
    ahead: int  # ordinary messages still owed to each channel when the probes were owed
    urgent_seconds: float | None  # from the commit that owed it to its arrival; None: never
    normal_seconds: float | None
    rejected_429: int

    @property
    def met(self) -> bool:
        """The alert went out within the target, nothing was refused."""
        return (
            self.urgent_seconds is not None
            and self.urgent_seconds <= ALERT_TARGET_SECONDS
            and self.rejected_429 == 0
        )


def _ready_messages_only(session: Session, row: OutboxMessage) -> Rendered:
    # The benchmark owes ready-made text, which the dispatcher never renders.
    raise RuntimeError(f"outbox message {row.id} asked for a template the benchmark never owes")


def channel_ids(count: int) -> list[str]:
    """The benchmark's channels."""
    return [f"C0BENCH{index:03d}" for index in range(count)]


def expected_text(channel: str, index: int, per_channel: int) -> str:
    """What the `index`-th message owed to `channel` says."""
    return f"{channel}: message {index + 1} of {per_channel}"


def owe_all(db: Database, channels: list[str], per_channel: int) -> None:
    """Owe every message in one transaction, channels interleaved as a busy bot would."""
    now = SystemClock().now()
    with db.session() as session:
        for index in range(per_channel):
            for channel in channels:
                owe_message(
                    session,
                    channel=channel,
                    message=Rendered(expected_text(channel, index, per_channel)),
                    now=now,
                )


def measure(url: str, label: str, settings: Settings) -> Result:
    """Owe, deliver through the stand-in, and check what arrived."""
    channels = channel_ids(settings.channels)
    workspace = Workspace(
        bot_token=BOT_TOKEN, rate_limit_per_channel_per_second=SLACK_RATE_PER_CHANNEL
    )
    for channel in channels:
        workspace.add_channel(channel, channel.lower())
    db = Database(make_engine(url))
    owe_all(db, channels, settings.per_channel)
    try:
        with running_server(create_slack_api_app(workspace)) as api_url:
            client = WebClient(token=BOT_TOKEN, base_url=api_url + "/api/", timeout=10)
            dispatcher = OutboxDispatcher(
                db=db, slack=WebApiSlack(client), render=_ready_messages_only, clock=SystemClock()
            )

            def arrived() -> int:
                return sum(len(workspace.messages[channel]) for channel in channels)

            print(f"{label}: delivering {settings.messages:,} messages ...", flush=True)
            started, cpu_before = datetime.now(UTC), time.process_time()
            dispatcher.start()
            try:
                wait_until(
                    workspace, lambda: arrived() >= settings.messages, timeout=settings.deadline
                )
            except AssertionError:
                print(f"{label}: {arrived()} arrived before the deadline", flush=True)
            finally:
                dispatcher.stop()
            cpu = time.process_time() - cpu_before
        with db.session() as session:
            undelivered = len(
                session.exec(
                    select(OutboxMessage.id).where(col(OutboxMessage.delivered_at).is_(None))
                ).all()
            )
    finally:
        db.engine.dispose()
    return _result(label, workspace, channels, settings, started, undelivered, cpu)


def _result(
    label: str,
    workspace: Workspace,
    channels: list[str],
    settings: Settings,
    started: datetime,
    undelivered: int,
    cpu: float,
) -> Result:
    posts = [c for c in workspace.calls if c.method == "chat.postMessage"]
    delivered = [c for c in posts if c.status == 200 and c.ok]
    last = max((c.at for c in delivered), default=started)
    duplicates = out_of_order = missing = 0
    gaps: list[float] = []
    for channel in channels:
        texts = [m.text for m in workspace.messages[channel]]
        wanted = [
            expected_text(channel, i, settings.per_channel) for i in range(settings.per_channel)
        ]
        duplicates += len(texts) - len(set(texts))
        missing += len(set(wanted) - set(texts))
        out_of_order += texts != wanted and sorted(set(texts)) == sorted(wanted)
        times = sorted(c.at for c in delivered if c.args.get("channel") == channel)
        gaps.extend((b - a).total_seconds() for a, b in pairwise(times))
    return Result(
        database=label,
        messages=settings.messages,
        arrived=len(delivered),
        seconds=(last - started).total_seconds(),
        rejected_429=sum(1 for c in workspace.calls if c.status == 429),
        calls=len(workspace.calls),
        duplicates=duplicates,
        out_of_order_channels=out_of_order,
        missing=missing,
        undelivered_rows=undelivered,
        gaps=gaps,
        cpu_seconds=cpu,
    )


URGENT_PROBE = "probe: rollback alert"
NORMAL_PROBE = "probe: ordinary message"


def measure_alert_latency(url: str, label: str, settings: Settings) -> AlertLatency:
    """Two channels with a backlog; an urgent and an ordinary message owed mid-way; timed."""
    channels = ["C0ALERTS", "C0NORMAL"]
    workspace = Workspace(
        bot_token=BOT_TOKEN, rate_limit_per_channel_per_second=SLACK_RATE_PER_CHANNEL
    )
    for channel in channels:
        workspace.add_channel(channel, channel.lower())
    db = Database(make_engine(url))
    owe_all(db, channels, settings.alert_backlog)
    owed_at: datetime | None = None
    try:
        with running_server(create_slack_api_app(workspace)) as api_url:
            client = WebClient(token=BOT_TOKEN, base_url=api_url + "/api/", timeout=10)
            dispatcher = OutboxDispatcher(
                db=db, slack=WebApiSlack(client), render=_ready_messages_only, clock=SystemClock()
            )

            def landed(text: str) -> bool:
                return any(m.text == text for c in channels for m in workspace.messages[c])

            print(f"{label}: alert behind {settings.alert_backlog} messages ...", flush=True)
            dispatcher.start()
            try:
                wait_until(
                    workspace,
                    lambda: all(len(workspace.messages[c]) >= ALERT_OWED_AFTER for c in channels),
                    timeout=settings.deadline,
                )
                owed_at = owe_probes(db, channels)
                dispatcher.kick()  # as the app does after a transaction that owed messages
                wait_until(
                    workspace,
                    lambda: landed(URGENT_PROBE) and landed(NORMAL_PROBE),
                    timeout=settings.deadline,
                )
            except AssertionError:
                print(f"{label}: a probe did not arrive before the deadline", flush=True)
            finally:
                dispatcher.stop()
    finally:
        db.engine.dispose()
    return _latency(label, workspace, settings, owed_at)


def owe_probes(db: Database, channels: list[str]) -> datetime:
    """Owe the urgent and the ordinary probe in one transaction; return when it committed."""
    urgent, normal = channels
    now = SystemClock().now()
    with db.session() as session:
        owe_message(
            session,
            channel=urgent,
            message=Rendered(URGENT_PROBE),
            now=now,
            priority=Priority.URGENT,
        )
        owe_message(session, channel=normal, message=Rendered(NORMAL_PROBE), now=now)
    return datetime.now(UTC)


def _latency(
    label: str, workspace: Workspace, settings: Settings, owed_at: datetime | None
) -> AlertLatency:
    arrivals = {
        str(c.args.get("text")): c.at
        for c in workspace.calls
        if c.method == "chat.postMessage" and c.ok
    }

    def seconds(text: str) -> float | None:
        arrived = arrivals.get(text)
        if arrived is None or owed_at is None:
            return None
        return (arrived - owed_at).total_seconds()

    ahead = settings.alert_backlog - ALERT_OWED_AFTER
    if owed_at is not None:
        sent_before = sum(
            1
            for c in workspace.calls
            if c.method == "chat.postMessage"
            and c.ok
            and c.args.get("channel") == "C0NORMAL"
            and c.at < owed_at
        )
        ahead = settings.alert_backlog - sent_before
    return AlertLatency(
        database=label,
        backlog=settings.alert_backlog,
        ahead=ahead,
        urgent_seconds=seconds(URGENT_PROBE),
        normal_seconds=seconds(NORMAL_PROBE),
        rejected_429=sum(1 for c in workspace.calls if c.status == 429),
    )


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"bench_outbox_{secrets.token_hex(4)}"
    seed.create_database(name)
    try:
        url = seed.sqlalchemy_url(name)
        upgrade(url)
        yield url
    finally:
        seed.drop_database(name)


@contextmanager
def sqlite_url() -> Iterator[str]:
    """A migrated temporary SQLite file, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as folder:
        url = f"sqlite:///{Path(folder) / 'releasebot.db'}"
        upgrade(url)
        yield url


# -- report ---------------------------------------------------------------------------------


def _shown(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.2f}"


def alert_lines(latencies: list[AlertLatency], settings: Settings) -> list[str]:
    """The alert-latency part of the section."""
    lines = [
        "",
        "### Alert latency under backlog (issue 9)",
        "",
        f"- Load: two channels each owe {settings.alert_backlog} ordinary messages (the issue's "
        "40 plans by one user); once each has received "
        f"{ALERT_OWED_AFTER}, one transaction owes an urgent message (a rollback alert's "
        "priority) to the first and an ordinary one to the second. Time is from that commit to "
        "the stand-in's arrival stamp; Slack's 1 message/s per channel still holds.",
        "",
        "| database | ordinary messages still owed per channel | alert s | ordinary message s "
        "| 429s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for a in latencies:
        lines.append(
            f"| {a.database} | {a.ahead} | {_shown(a.urgent_seconds)} "
            f"| {_shown(a.normal_seconds)} | {a.rejected_429} |"
        )
    lines += ["", "| target | database | measured | met |", "| --- | --- | --- | --- |"]
    for a in latencies:
        lines.append(
            f"| an alert owed behind {a.ahead} messages reaches Slack within "
            f"{ALERT_TARGET_SECONDS:g} s, zero 429s | {a.database} | "
            f"{_shown(a.urgent_seconds)} s, {a.rejected_429} 429s | "
            f"{'yes' if a.met else '**no**'} |"
        )
    return lines


def section(
    results: list[Result],
    settings: Settings,
    command: str,
    load: str,
    latencies: list[AlertLatency] | None = None,
) -> str:
    """The BENCHMARKS.md section, heading included."""
    ideal = settings.ideal_seconds
    lines = [
        SECTION,
        "",
        "_Written by `bench/outbox_throughput.py`; re-run it to refresh this section._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}; PostgreSQL on 127.0.0.1 shares these CPUs. Load average "
        f"when the run began: {load} (other work on the machine included).",
        f"- Code: {code_version(MEASURED_PATHS)}.",
        f"- Command: `{command}`",
        f"- Load: {settings.messages:,} messages ({settings.per_channel} to each of "
        f"{settings.channels} channels) owed with `bot.notify.outbox.owe_message` "
        f"in one transaction, "
        "delivered by the real `OutboxDispatcher` thread through `commands.slack_port.WebApiSlack` "
        "(slack_sdk `WebClient`) to the Slack Web API stand-in under uvicorn, which answers 429 "
        "to a second write to a channel within a second (sliding window).",
        f"- Ideal: {settings.per_channel - 1} s of Slack pacing (each channel's first message at "
        f"once, then one a second) + {SEND_ALLOWANCE_SECONDS:g} s for a send = {ideal:g} s. "
        "Time is from `start()` to the stand-in's arrival stamp of the last message.",
        f"- {HISTORY}",
        "",
        "| database | messages | arrived | wall s | vs ideal | 429s | Web API calls "
        "| duplicates | missing | channels out of order | gap p50 s | gap min s | gap max s "
        "| process CPU s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.database} | {r.messages:,} | {r.arrived:,} | {r.seconds:.2f} "
            f"| {r.seconds / ideal - 1:+.1%} | {r.rejected_429} | {r.calls:,} | {r.duplicates} "
            f"| {r.missing} | {r.out_of_order_channels} | {percentile(r.gaps, 0.5):.3f} "
            f"| {min(r.gaps, default=0.0):.3f} | {max(r.gaps, default=0.0):.3f} "
            f"| {r.cpu_seconds:.1f} |"
        )
    lines += ["", "| target | database | measured | met |", "| --- | --- | --- | --- |"]
    for r in results:
        within = r.seconds <= ideal * (1 + OVER_IDEAL_TARGET)
        met = within and r.rejected_429 == 0 and r.correct
        lines.append(
            f"| {settings.messages:,} messages over {settings.channels} channels: zero 429s, "
            f"within {OVER_IDEAL_TARGET:.0%} of {ideal:g} s, each once and in order "
            f"| {r.database} | {r.seconds:.2f} s ({r.seconds / ideal - 1:+.1%}), "
            f"{r.rejected_429} 429s, {r.arrived:,} arrived, {r.duplicates} twice, "
            f"{r.out_of_order_channels} channels out of order | {'yes' if met else '**no**'} |"
        )
    if latencies:
        lines += alert_lines(latencies, settings)
    lines.append("")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> Settings:
    """Command-line settings, bounded so a run always ends."""
    parser = argparse.ArgumentParser(prog="python -m bench.outbox_throughput")
    parser.add_argument("--channels", type=int, default=50, help="channels (at most 500)")
    parser.add_argument("--per-channel", type=int, default=20, help="messages each (at most 200)")
    parser.add_argument(
        "--deadline", type=float, default=180.0, help="seconds before a run is called incomplete"
    )
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
    parser.add_argument(
        "--alert-backlog",
        type=int,
        default=40,
        help="ordinary messages an alert is owed behind (10-200)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.channels <= 500 or not 1 <= args.per_channel <= 200:
        parser.error("--channels must be 1-500 and --per-channel 1-200")
    if not 10 <= args.alert_backlog <= 200:
        parser.error("--alert-backlog must be 10-200")
    if not 1 <= args.deadline <= 900:
        parser.error("--deadline must be between 1 and 900 seconds")
    return Settings(
        channels=args.channels,
        per_channel=args.per_channel,
        deadline=args.deadline,
        databases=tuple(args.databases or ("postgresql", "sqlite")),
        record=args.record,
        alert_backlog=args.alert_backlog,
    )


def main(argv: list[str] | None = None) -> int:
    """Measure on each database, report; exit 0 when the run completed (targets met or not)."""
    settings = parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.outbox_throughput", *map(shlex.quote, shown)])
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    databases = {"postgresql": postgres_url, "sqlite": sqlite_url}
    results = []
    latencies = []
    for name in settings.databases:
        with databases[name]() as url:
            results.append(measure(url, name, settings))
        with databases[name]() as url:
            latencies.append(measure_alert_latency(url, name, settings))
    report = section(results, settings, command, load, latencies)
    print(report)
    if settings.record:
        record(SECTION, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
