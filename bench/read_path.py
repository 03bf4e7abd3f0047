"""Issue 13's read-path benchmark: `/release show` and `/release list` beside a bare Bolt AsyncApp.

`python -m bench.read_path` seeds (once; the database is kept under its name for the next run)
PostgreSQL with 100,000 plans and 1,000,000 audit events, then runs, one after the other, a bare
Bolt `AsyncApp` on Starlette/uvicorn (`bench/bare_async_bolt.py`) and `releasebot serve` (the real
CLI, documented settings only) as subprocesses against a local Slack Web API stand-in. Each gets
the same signed `/release show R-<random>` and `/release list`: a closed loop at a fixed
concurrency (throughput) and an open loop at 200 req/s (latency). The load generator is this
process (asyncio, keep-alive HTTP/1.1 on raw streams: bench.ack_latency.RawConnection); every
answer's content is checked. It prints a table (req/s, p50/p99, ratio to bare, server CPU per
request, RSS of serve after the load) and rewrites the "Read path (issue 13)" section of
BENCHMARKS.md. Only 127.0.0.1 is contacted; every process it starts is stopped before it returns.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench import report, seed
from bench.ack_latency import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Check,
    Row,
    Samples,
    SlashCommands,
    busy_share,
    closed_loop,
    code_version,
    cpu_seconds,
    expect_bare,
    expect_list,
    expect_show,
    machine,
    machine_jiffies,
    memory_mb,
    open_loop,
    percentile,
    serve,
    wait_for_quiet,
)
from bench.ack_latency import _errors_logged as errors_logged
from bot.app.migrate import upgrade
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

REPO = Path(__file__).resolve().parent.parent
SECTION = "## Read path (issue 13)"
RATIO_TARGET = 0.5
P99_TARGET_MS = 50.0
RSS_TARGET_MB = 150.0
BARE = "bare Bolt AsyncApp"
BOT = "releasebot serve"
COMMANDS = ("/release show", "/release list")


@dataclass
class Settings:
    """The command line."""

    plans: int
    audit_events: int
    database: str | None
    concurrency: int
    closed_seconds: float
    rate: float
    seconds: float
    warmup: float
    record: bool
    wait_quiet: float
    only: str | None
    slices: int


def parse_args(argv: list[str] | None) -> Settings:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.read_path", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument(
        "--database",
        default=None,
        help="PostgreSQL database (default releasebot_read_path_<plans>_<events>, kept)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--closed-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s")
    parser.add_argument("--seconds", type=float, default=20.0, help="open-loop seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds per command")
    parser.add_argument(
        "--no-record", dest="record", action="store_false", help="leave BENCHMARKS.md alone"
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=0.0, help="wait up to this long for a quiet machine"
    )
    parser.add_argument(
        "--slices", type=int, default=5, help="turns each server's load is cut into"
    )
    parser.add_argument(
        "--only", choices=("show", "list"), default=None, help="one command (not recorded)"
    )
    settings = Settings(**vars(parser.parse_args(argv)))
    if settings.only:
        settings.record = False
    return settings


def database_name(settings: Settings) -> str:
    """The named database the data is cached in."""
    return settings.database or f"releasebot_read_path_{settings.plans}_{settings.audit_events}"


def prepare_database(settings: Settings) -> str:
    """Seed the named database unless it already holds exactly this data; bring it to head."""
    name = database_name(settings)
    if seed.database_exists(name):
        counts = seed.count_rows(name)
        if counts == (settings.plans, settings.audit_events):
            # New migrations (an index, a column) apply to the cached data like to a real one.
            upgrade(seed.sqlalchemy_url(name))
            return f"reused {name}: {counts[0]:,} plans, {counts[1]:,} audit events"
        seed.drop_database(name)
    seed.create_database(name)
    summary = seed.seed(name, plans=settings.plans, audit_events=settings.audit_events)
    return (
        f"seeded {name}: {summary.plans:,} plans ({summary.active_plans} active), "
        f"{summary.audit_events:,} audit events in {summary.seconds:.1f} s (COPY)"
    )


def stored_cards(name: str) -> tuple[int, int]:
    """(plans whose card is kept, cards stored) in database `name`."""
    from bot.store.plan_cards import KEPT_STATES

    with psycopg.connect(seed.conninfo(name)) as connection:
        kept = connection.execute(
            "SELECT count(*) FROM release_plan WHERE state = ANY(%s)", (sorted(KEPT_STATES),)
        ).fetchone()
        stored = connection.execute("SELECT count(*) FROM plan_card").fetchone()
    return (kept[0] if kept else 0, stored[0] if stored else 0)


def draw_cards(name: str, *, part: int = 0, parts: int = 1) -> str:
    """Store every settled plan's card, as the first `/release show` of it does.

    A card is stored by the first `show` after the plan's last change and answered from the
    store until the next change; a freshly seeded database has none. The benchmark measures
    the stored answer (every plan asked before); bench/profile_read_path.py measures a first
    `show` too. `part` of `parts`: plans whose id % parts == part (to draw in processes).
    """
    import time

    from bot.app.bootstrap import build, console_credentials
    from bot.app.settings import Settings
    from commands.read_path import _fingerprint, show_card

    settings = Settings(
        DATABASE_URL=seed.sqlalchemy_url(name), RELEASEBOT_CONFIG=str(REPO / "releasebot.toml")
    )
    bot = build(settings, credentials=console_credentials(settings, base_url="http://127.0.0.1:9"))
    # Cards stored by another release of the code or config are misses: draw them again.
    year = bot.desk.ctx.clock.now().astimezone(bot.config.tz).year
    current = f"{_fingerprint(bot.config)}|{year}|%"
    with psycopg.connect(seed.conninfo(name)) as connection:
        connection.execute("DELETE FROM plan_card WHERE token NOT LIKE %s", (current,))
    kept, stored = stored_cards(name)
    if stored >= kept:
        bot.close()
        return f"{stored:,} cards already stored"
    started = time.perf_counter()
    try:
        with psycopg.connect(seed.conninfo(name)) as connection:
            missing = [
                row[0]
                for row in connection.execute(
                    "SELECT id FROM release_plan p WHERE NOT EXISTS "
                    "(SELECT 1 FROM plan_card c WHERE c.plan_id = p.id) AND p.id %% %s = %s "
                    "ORDER BY id",
                    (parts, part),
                ).fetchall()
            ]
        for plan_id in missing:
            show_card(plan_id, desk=bot.desk)
    finally:
        bot.close()
    kept, stored = stored_cards(name)
    return (
        f"{stored:,} cards of {kept:,} settled plans drawn in {time.perf_counter() - started:.0f} s"
    )


@dataclass(frozen=True)
class Measured:
    """One line of the table: a server, a command, a load."""

    server: str
    command: str
    mode: str
    row: Row


@dataclass
class Results:
    """Everything the report shows."""

    lines: list[Measured] = field(default_factory=list)
    rss_idle_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_peak_mb: float = 0.0
    bot_log_errors: list[str] = field(default_factory=list)
    busy_before: float = 0.0

    def find(self, server: str, command: str, mode: str) -> Row | None:
        for line in self.lines:
            if (line.server, line.command, line.mode.split()[0]) == (server, command, mode):
                return line.row
        return None

    def ratio(self, command: str) -> float | None:
        bot, bare = self.find(BOT, command, "closed"), self.find(BARE, command, "closed")
        if bot is None or bare is None or not bare.rate:
            return None
        return bot.rate / bare.rate


def postgres_cpu() -> dict[int, float]:
    """CPU time used so far by each PostgreSQL server process on this machine."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            continue  # ended meanwhile
    return found


def postgres_cpu_since(before: dict[int, float]) -> float:
    """PostgreSQL CPU seconds spent since `before` (processes that ended meanwhile excepted)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in postgres_cpu().items())


def merge(into: Samples, more: Samples) -> None:
    """Add one slice's figures to a server's total."""
    busy = into.machine_busy * into.elapsed + more.machine_busy * more.elapsed
    into.latencies += more.latencies
    into.lags += more.lags
    for why, count in more.failures.items():
        into.failures[why] = into.failures.get(why, 0) + count
    into.elapsed += more.elapsed
    into.client_cpu += more.client_cpu
    into.server_cpu += more.server_cpu
    into.machine_busy = busy / into.elapsed if into.elapsed else 0.0
    into.database_cpu = getattr(into, "database_cpu", 0.0) + getattr(more, "database_cpu", 0.0)  # type: ignore[attr-defined]


async def _slice(
    url: str,
    pid: int,
    commands: SlashCommands,
    text: Callable[[], str],
    check: Check,
    *,
    settings: Settings,
    closed: bool,
    seconds: float,
) -> Samples:
    cpu, database = cpu_seconds(pid), postgres_cpu()
    jiffies = machine_jiffies()
    if closed:
        samples = await closed_loop(
            url, commands, text, check, concurrency=settings.concurrency, seconds=seconds
        )
    else:
        samples = await open_loop(url, commands, text, check, rate=settings.rate, seconds=seconds)
    samples.server_cpu = cpu_seconds(pid) - cpu
    samples.database_cpu = postgres_cpu_since(database)  # type: ignore[attr-defined]
    samples.machine_busy = busy_share(jiffies, machine_jiffies())
    return samples


async def run(settings: Settings, commands: SlashCommands, logs: Path) -> Results:
    """Serve the bare AsyncApp and `releasebot serve` side by side and load them in turns.

    Each load is cut into `--slices` slices, bare app and bot alternating, so that both meet
    the same machine (other work on it comes and goes); only one is loaded at a time.
    """
    name = database_name(settings)
    titles = seed.plan_titles(name)
    ids = list(titles)
    active = seed.active_plans(name)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": commands.api_url,
    }

    def show_text() -> str:
        return f"show R-{random.choice(ids)}"

    def list_text() -> str:
        return "list"

    def anything(_: str, __: httpx.Response) -> None:
        return None

    results = Results()
    bot_env = {
        **env,
        "DATABASE_URL": seed.sqlalchemy_url(name),
        "RELEASEBOT_CONFIG": str(REPO / "releasebot.toml"),
    }
    releasebot = [str(Path(sys.executable).with_name("releasebot")), "serve"]
    with (
        serve(BARE, [sys.executable, "-m", "bench.bare_async_bolt"], env, logs) as bare,
        serve(BOT, releasebot, bot_env, logs) as bot,
    ):
        results.rss_idle_mb, _ = memory_mb(bot.process.pid)
        for command, text, bot_check in (
            ("/release show", show_text, expect_show(titles)),
            ("/release list", list_text, expect_list(active)),
        ):
            if settings.only and command != f"/release {settings.only}":
                continue
            servers = ((BARE, bare, expect_bare), (BOT, bot, bot_check))
            for _, served, _ in servers:
                # Connection pools, Bolt's cached auth.test and PostgreSQL's buffers fill here.
                url = served.url + "/slack/events"
                await open_loop(
                    url, commands, text, anything, rate=settings.rate, seconds=settings.warmup
                )
            for closed in (True, False):
                mode = f"closed x{settings.concurrency}" if closed else f"open {settings.rate:g}/s"
                total = settings.closed_seconds if closed else settings.seconds
                totals = {server: Samples() for server, _, _ in servers}
                for _ in range(settings.slices):
                    for server, served, check in servers:
                        more = await _slice(
                            served.url + "/slack/events",
                            served.process.pid,
                            commands,
                            text,
                            check,
                            settings=settings,
                            closed=closed,
                            seconds=total / settings.slices,
                        )
                        merge(totals[server], more)
                for server, _, _ in servers:
                    row = Row(command, mode, totals[server])
                    results.lines.append(Measured(server, command, mode, row))
        results.rss_after_mb, results.rss_peak_mb = memory_mb(bot.process.pid)
    results.bot_log_errors = errors_logged(bot.log)
    results.lines.sort(key=lambda line: (line.server != BARE, line.command, line.mode))
    return results


HEADER = (
    "| server | command | load | answered | failed | req/s | ratio to bare | p50 ms | p99 ms "
    "| max ms | server CPU ms/req | PostgreSQL CPU ms/req | machine busy |"
)


def table(results: Results) -> list[str]:
    """The side-by-side table as Markdown lines."""
    lines = [HEADER, "| " + " | ".join("---" for _ in range(HEADER.count("|") - 1)) + " |"]
    for line in results.lines:
        row, s = line.row, line.row.samples
        bare = results.find(BARE, line.command, line.mode.split()[0])
        ratio = f"{row.rate / bare.rate:.2f}" if bare is not None and bare.rate else "n/a"
        if line.mode.startswith("open"):
            ratio = "n/a (fixed rate)"
        lines.append(
            f"| {line.server} | {line.command} | {line.mode} | {s.answered:,} | {s.failed:,} "
            f"| {row.rate:.1f} | {ratio} | {row.percentile_ms(0.5):.1f} "
            f"| {row.percentile_ms(0.99):.1f} | {row.percentile_ms(1.0):.1f} "
            f"| {row.server_cpu_ms:.2f} | {_per_request(s, 'database_cpu'):.2f} "
            f"| {s.machine_busy:.0%} |"
        )
    return lines


def _per_request(samples: Samples, what: str) -> float:
    seconds = float(getattr(samples, what, 0.0))
    return seconds * 1000 / samples.answered if samples.answered else 0.0


def verdicts(results: Results, settings: Settings) -> list[tuple[str, str, bool]]:
    """Issue 13's targets: (target, measured, met)."""
    found: list[tuple[str, str, bool]] = []
    for command in COMMANDS:
        bot, bare = results.find(BOT, command, "closed"), results.find(BARE, command, "closed")
        ratio = results.ratio(command)
        if bot is not None and bare is not None and ratio is not None:
            found.append(
                (
                    f"`{command}` ≥ {RATIO_TARGET:g}x the bare AsyncApp's throughput",
                    f"{bot.rate:.0f} / {bare.rate:.0f} req/s = {ratio:.2f}, "
                    f"{bot.samples.failed} failed",
                    ratio >= RATIO_TARGET and bot.samples.failed == 0,
                )
            )
    for command in COMMANDS:
        row = results.find(BOT, command, "open")
        if row is not None:
            p99 = percentile(row.samples.latencies, 0.99) * 1000
            steady = row.rate >= 0.98 * settings.rate and row.samples.failed == 0
            found.append(
                (
                    f"`{command}` p99 < {P99_TARGET_MS:g} ms at {settings.rate:g} req/s open loop",
                    f"p99 {p99:.1f} ms at {row.rate:.1f} req/s, {row.samples.failed} failed",
                    p99 < P99_TARGET_MS and steady,
                )
            )
    found.append(
        (
            f"RSS of `releasebot serve` after the load < {RSS_TARGET_MB:g} MB",
            f"{results.rss_after_mb:.0f} MB (idle {results.rss_idle_mb:.0f} MB, "
            f"peak {results.rss_peak_mb:.0f} MB)",
            results.rss_after_mb < RSS_TARGET_MB,
        )
    )
    return found


def section(results: Results, settings: Settings, dataset: str, command: str) -> str:
    """The generated part of the BENCHMARKS.md section (heading included)."""
    lines = [
        SECTION,
        "",
        "_Written by `bench/read_path.py`; re-run it to refresh the figures (the part-by-part "
        "figures below come from `bench/read_path_parts.py`)._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}. Load generator, servers and PostgreSQL share these CPUs; "
        f"other work kept {results.busy_before:.0%} of them busy just before the load.",
        f"- Code: {code_version()}.",
        f"- Command: `{command}`",
        f"- Data: {dataset} (PostgreSQL on 127.0.0.1).",
        "- Servers, side by side, each a subprocess with one uvicorn worker: the bare Bolt "
        "`AsyncApp` of `bench/bare_async_bolt.py` (one `/release` listener that acks a fixed "
        "ephemeral, awaited on the event loop, one JSON log line per request) and "
        "`releasebot serve` (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, DATABASE_URL, "
        "PORT, RELEASEBOT_CONFIG=releasebot.toml), both against a local Slack Web API stand-in. "
        f"Only one is loaded at a time: each load is cut into {settings.slices} slices, bare app "
        "and bot taking turns, so both meet the same machine (other work on it comes and goes).",
        "- Load: this process (Python asyncio, keep-alive HTTP/1.1 on raw streams, not wrk), "
        "signed `/release show R-<random of all plans>` and `/release list`. Closed loop: "
        f"{settings.concurrency} connections for {settings.closed_seconds:g} s per server "
        f"(throughput). Open loop: a request falls due every 1/{settings.rate:g} s for "
        f"{settings.seconds:g} s per server whatever the answers do; latency counts from when it "
        "fell due. Every answer is checked: 200 and, from the bot, the plan's card title "
        "(`show`) or the list's exact count line (`list`); from the bare app its fixed text. "
        f"Both servers get {settings.warmup:g} s of warm-up at the open-loop rate per command. "
        "PostgreSQL CPU: every `postgres` process on the machine (other work's included).",
        "",
        *table(results),
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
        *(
            f"| {t} | {m} | {'yes' if ok else '**no**'} |"
            for t, m, ok in verdicts(results, settings)
        ),
        "",
    ]
    if results.bot_log_errors:
        lines += [f"The bot logged {len(results.bot_log_errors)} warnings/errors in the run.", ""]
    return "\n".join(lines)


NOTES_MARK = "### Profile"


def record(text: str) -> None:
    """Rewrite the figures of the section; the hand-written notes under it (from
    `### Profile` on) are kept as they are."""
    current = report.BENCHMARKS.read_text() if report.BENCHMARKS.exists() else ""
    lines = current.splitlines()
    notes = ""
    if SECTION in lines:
        start = lines.index(SECTION)
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        body = "\n".join(lines[start:end])
        if NOTES_MARK in body:
            notes = body[body.index(NOTES_MARK) :]
    report.record(SECTION, text.rstrip("\n") + ("\n\n" + notes if notes else "") + "\n")


def main(argv: list[str] | None = None) -> int:
    """Seed (or reuse), serve, load, report."""
    settings = parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.read_path", *map(shlex.quote, shown)])
    dataset = prepare_database(settings)
    print(dataset, flush=True)
    cards = draw_cards(database_name(settings))
    print(cards, flush=True)
    dataset += f"; {cards}"
    busy_before = wait_for_quiet(settings.wait_quiet) if settings.wait_quiet else 0.0
    workspace = Workspace(bot_token=BOT_TOKEN)
    with (
        tempfile.TemporaryDirectory(prefix="bench-read-") as logs,
        running_server(create_slack_api_app(workspace)) as api_url,
    ):
        commands = SlashCommands(workspace=workspace, base_url=api_url)
        results = asyncio.run(run(settings, commands, Path(logs)))
    results.busy_before = busy_before
    text = section(results, settings, dataset, command)
    print(text)
    for line in results.bot_log_errors[:20]:
        print("bot log:", line)
    if settings.record:
        record(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
