"""Issue 5's benchmark: `/release` acks while 50 rollouts are in flight on a slow backend.

`python -m bench.rollouts_in_flight [--seconds 30] [--rate 50]` starts a slow webhook deploy
service in this process (every answer after 2-5 s), writes a config whose `bench` service
deploys through it, runs `releasebot serve` as a subprocess on a fresh PostgreSQL database
against the local Slack Web API stand-in, puts 50 plans in flight over the real wire (signed
`/release plan` then `/release deploy`), and then fires signed `/release list`, `show` and
`help` at a steady rate while measuring each ack. It prints the figures and rewrites the
"Rollouts in flight (issue 5)" section of BENCHMARKS.md. Only 127.0.0.1 is contacted; every
process, thread and database it starts is stopped or dropped before it returns.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import random
import shlex
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import report, seed
from bench.ack_latency import (
    BENCHMARKS,
    REPO,
    REQUEST_TIMEOUT_SECONDS,
    SIGNING_SECRET,
    USER_ID,
    Samples,
    Served,
    SlashCommands,
    _errors_logged,
    code_version,
    cpu_seconds,
    expect_show,
    machine,
    percentile,
    serve,
)
from bench.rollouts_load import (
    SAMPLE_SECONDS,
    Progress,
    Watch,
    expect_help,
    expect_list,
    mixed_open_loop,
    plan_titles,
    send_writes,
    threads_of,
    wait_for,
    watching,
)
from bench.slow_deployer import FIND, POLL, START, SlowDeployer, deploy_url, status_url
from bot.app.migrate import upgrade
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

SECTION = "## Rollouts in flight (issue 5)"
BOT_TOKEN = "xoxb-bench-token"
WEBHOOK_SECRET = "bench-webhook-secret"
P99_TARGET_MS = 100.0
IN_FLIGHT_DEADLINE_SECONDS = 30.0
WRITE_RATE = 25.0
# Rollouts may finish during the window; "stays ~50" means at most a tenth of them did.
IN_FLIGHT_SHARE = 0.9
BASELINE = "0 (baseline)"
LOADED = "in flight"
ENGINE_WORKERS = (
    8  # bot.rollout.engine.RolloutEngine's default pool, as `releasebot serve` builds it
)
STAGE_STEPS = (34, 67, 100)
COMMANDS = ("list", "show", "help")

CONFIG = """\
# Written by bench/rollouts_in_flight.py: slow webhook services, staging without approvals.
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[strategies.bench-phased]
kind = "phased"
steps = [{steps}]
"""
# One service per rollout: a service has one rollout at a time in an environment (its lane),
# so 50 rollouts in flight at once are 50 services' releases, as in a team with many services.
SERVICE = """
[services.{name}]
backend = "webhook"
url = "{url}"
status_url = "{status_url}"
secret_env = "RELEASEBOT_WEBHOOK_SECRET"
strategy = "bench-phased"
"""


def service_name(index: int) -> str:
    """The service of the index-th rollout."""
    return f"bench-{index:02d}"


def write_config(folder: Path, deployer_url: str, services: int) -> Path:
    """The benchmark's releasebot.toml: `services` services, each deploying through the slow
    deployer."""
    path = folder / "releasebot.toml"
    steps = ", ".join(f"{{ weight = {weight} }}" for weight in STAGE_STEPS)
    text = CONFIG.format(steps=steps) + "".join(
        SERVICE.format(
            name=service_name(index),
            url=deploy_url(deployer_url),
            status_url=status_url(deployer_url),
        )
        for index in range(services)
    )
    path.write_text(text)
    return path


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Settings:
    """The command line."""

    seconds: float
    rate: float
    rollouts: int
    warmup: float
    baseline: bool
    database: str
    keep: bool
    record: bool


def parse_args(argv: list[str] | None) -> Settings:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.rollouts_in_flight", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per window")
    parser.add_argument("--rate", type=float, default=50.0, help="reads per second (all kinds)")
    parser.add_argument("--rollouts", type=int, default=50, help="plans put in flight")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds of reads")
    parser.add_argument(
        "--no-baseline",
        dest="baseline",
        action="store_false",
        help="skip the same load with the plans approved but not deploying",
    )
    parser.add_argument(
        "--database", default=f"releasebot_rollouts_{os.getpid()}", help="PostgreSQL database"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-record", dest="record", action="store_false", help="do not touch BENCHMARKS.md"
    )
    return Settings(**vars(parser.parse_args(argv)))


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return float(sum(fields) - idle), float(sum(fields))


def acks_within(metrics_text: str, bound: str = "0.1") -> tuple[float, float]:
    """(commands acked within `bound` s, all commands) from the bot's own ack histogram."""
    within = total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "releasebot_slack_ack_seconds":
            continue
        for sample in family.samples:
            if sample.labels.get("kind") != "command":
                continue
            if sample.name.endswith("_bucket") and sample.labels.get("le") == bound:
                within = sample.value
            elif sample.name.endswith("_count"):
                total = sample.value
    return within, total


@dataclass
class Window:
    """One measured stretch of reads and what the rollouts, engine and machine did meanwhile."""

    name: str
    reads: dict[str, Samples]
    watch: Watch
    list_totals: list[int]
    calls: Counter[str]
    seconds: float
    server_cpu: float  # CPU seconds of `releasebot serve`
    bench_cpu: float  # CPU seconds of this process (load generator, deploy service, stand-in)
    machine_busy: float  # share of all CPUs busy, whoever used them
    server_within: float  # share of commands the bot itself timed at ≤ 100 ms
    followed: int  # rollouts whose deploy service was called during the window
    longest_gap: float  # the longest any rollout went without a call (window edges count)

    def cpu_line(self) -> str:
        """Who used the CPUs during the window."""
        cpus = os.cpu_count() or 1
        return (
            f"machine {self.machine_busy * 100:.0f}% busy over {cpus} CPUs; "
            f"`releasebot serve` {self.server_cpu / self.seconds * 100:.0f}% of one CPU, "
            f"benchmark process {self.bench_cpu / self.seconds * 100:.0f}%"
        )


async def measure_reads(
    name: str, served: Served, commands: SlashCommands, deployer: SlowDeployer, settings: Settings
) -> Window:
    """Warm up, then load the server with reads for `seconds` while watching everything."""
    titles = plan_titles(settings.database)
    ids = list(titles)
    list_check, list_totals = expect_list()
    texts: dict[str, Callable[[], str]] = {
        "/release list": lambda: "list",
        "/release show": lambda: f"show R-{random.choice(ids)}",
        "/release help": lambda: "help",
    }
    checks = {
        "/release list": list_check,
        "/release show": expect_show(titles),
        "/release help": expect_help(),
    }
    url = served.url + "/slack/events"
    pid = served.process.pid
    if settings.warmup > 0:
        await mixed_open_loop(
            url, commands, texts, checks, rate=settings.rate, seconds=settings.warmup
        )
        list_totals.clear()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        metrics_before = (await client.get(served.url + "/metrics")).text
        calls_before, busy_before = deployer.snapshot(), machine_busy()
        server_before, bench_before = cpu_seconds(pid), time.process_time()
        started = time.monotonic()
        with watching(settings.database, pid) as watch:
            reads = await mixed_open_loop(
                url, commands, texts, checks, rate=settings.rate, seconds=settings.seconds
            )
        ended = time.monotonic()
        seconds = ended - started
        busy_after = machine_busy()
        server_cpu, bench_cpu = cpu_seconds(pid) - server_before, time.process_time() - bench_before
        calls = deployer.snapshot() - calls_before
        metrics_after = (await client.get(served.url + "/metrics")).text
    within_before, count_before = acks_within(metrics_before)
    within_after, count_after = acks_within(metrics_after)
    acked = count_after - count_before
    calls_of = deployer.followed(started, ended)
    gaps = [
        max(b - a for a, b in itertools.pairwise([started, *times, ended]))
        for times in calls_of.values()
    ]
    return Window(
        name=name,
        reads=reads,
        watch=watch,
        list_totals=list_totals,
        calls=calls,
        seconds=seconds,
        server_cpu=server_cpu,
        bench_cpu=bench_cpu,
        machine_busy=(busy_after[0] - busy_before[0]) / max(1.0, busy_after[1] - busy_before[1]),
        server_within=(within_after - within_before) / acked if acked else 0.0,
        followed=len(calls_of),
        longest_gap=max(gaps, default=seconds),
    )


async def plan_all(served: Served, commands: SlashCommands, settings: Settings) -> Samples:
    """`/release plan` every release over the wire; wait until every plan exists."""
    count = settings.rollouts
    texts = [f"plan {service_name(i)} 1.0.{i} to staging" for i in range(count)]
    samples = await send_writes(served.url + "/slack/events", commands, texts, rate=WRITE_RATE)
    planned, _ = await asyncio.to_thread(
        wait_for, settings.database, lambda p: p.plans >= count, deadline_seconds=60
    )
    if planned.plans < count:
        raise SystemExit(
            f"only {planned.plans} of {count} plans were created: {_answers(commands)}"
        )
    return samples


async def deploy_all(
    served: Served, commands: SlashCommands, settings: Settings
) -> tuple[Samples, Progress, float]:
    """`/release deploy` every plan; wait until the engine has each rollout at the backend."""
    count = settings.rollouts
    texts = [f"deploy R-{plan_id}" for plan_id in sorted(plan_titles(settings.database))]
    samples = await send_writes(served.url + "/slack/events", commands, texts, rate=WRITE_RATE)
    started = time.monotonic()
    deployed, _ = await asyncio.to_thread(
        wait_for, settings.database, lambda p: p.deployed >= count, deadline_seconds=60
    )
    if deployed.deployed < count:
        raise SystemExit(
            f"only {deployed.deployed} of {count} plans deployed: {_answers(commands)}"
        )
    # The engine should soon have every rollout's stage at the backend; if it never does,
    # that is a finding, so the load goes ahead after the deadline and the report says so.
    reached, _ = await asyncio.to_thread(
        wait_for,
        settings.database,
        lambda p: p.stages_running >= count,
        deadline_seconds=IN_FLIGHT_DEADLINE_SECONDS,
    )
    return samples, reached, time.monotonic() - started


def _answers(commands: SlashCommands) -> str:
    """The bot's latest answers to the user, to explain a refused write."""
    texts = [e.text for e in commands.workspace.ephemerals_for(USER_ID)]
    return "; ".join(texts[-5:]) or "no answer"


@dataclass
class Results:
    """Everything the report shows."""

    writes: dict[str, Samples]
    windows: list[Window]
    setup: Progress
    setup_seconds: float
    calls_total: Counter[str]
    threads_idle: int
    peak_backend_concurrency: int
    bot_log_errors: list[str]

    @property
    def loaded(self) -> Window:
        """The window with the rollouts in flight."""
        return self.windows[-1]


async def run(
    settings: Settings, commands: SlashCommands, deployer: SlowDeployer, config: Path, logs: Path
) -> Results:
    """Serve; plan; measure reads (baseline); deploy; measure reads with rollouts in flight."""
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": commands.api_url,
        "DATABASE_URL": seed.sqlalchemy_url(settings.database),
        "RELEASEBOT_CONFIG": str(config),
        "RELEASEBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RELEASEBOT_STATE_DIR": str(logs / "state"),
    }
    releasebot = str(Path(sys.executable).with_name("releasebot"))
    windows: list[Window] = []
    with serve("releasebot serve", [releasebot, "serve"], env, logs) as bot:
        threads_idle = threads_of(bot.process.pid)
        writes = {"/release plan": await plan_all(bot, commands, settings)}
        if settings.baseline:
            windows.append(await measure_reads(BASELINE, bot, commands, deployer, settings))
        writes["/release deploy"], setup, setup_seconds = await deploy_all(bot, commands, settings)
        windows.append(await measure_reads(LOADED, bot, commands, deployer, settings))
    return Results(
        writes=writes,
        windows=windows,
        setup=setup,
        setup_seconds=setup_seconds,
        calls_total=deployer.snapshot(),
        threads_idle=threads_idle,
        peak_backend_concurrency=deployer.peak_in_progress,
        bot_log_errors=_errors_logged(bot.log),
    )


# -- report -------------------------------------------------------------------------------------

HEADER = "| rollouts | command | answered | failed | p50 ms | p95 ms | p99 ms | max ms |"


def _row(window: str, name: str, samples: Samples) -> str:
    def ms(share: float) -> str:
        return f"{percentile(samples.latencies, share) * 1000:.1f}"

    return (
        f"| {window} | {name} | {samples.answered:,} | {samples.failed:,} | {ms(0.50)} "
        f"| {ms(0.95)} | {ms(0.99)} | {ms(1.0)} |"
    )


def overall(reads: dict[str, Samples]) -> Samples:
    """Every read command's samples together."""
    merged = Samples()
    for samples in reads.values():
        merged.latencies += samples.latencies
        merged.lags += samples.lags
        for why, n in samples.failures.items():
            merged.failures[why] = merged.failures.get(why, 0) + n
        merged.elapsed = samples.elapsed
    return merged


def table(results: Results) -> list[str]:
    """Ack latencies as Markdown table lines: each window's reads, then the setup writes."""
    lines = [HEADER, "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for window in results.windows:
        for name, samples in window.reads.items():
            lines.append(_row(window.name, name, samples))
        lines.append(_row(window.name, "**all reads**", overall(window.reads)))
    for name, samples in results.writes.items():
        lines.append(_row("setup", f"{name} ({WRITE_RATE:g}/s)", samples))
    return lines


def _span(values: list[int]) -> str:
    return f"{min(values)}-{max(values)}" if values else "n/a"


def figures(results: Results, settings: Settings) -> list[str]:
    """The rollouts, the engine, the server and the machine, as bullet lines."""
    loaded = results.loaded
    watch, calls, seconds = loaded.watch, loaded.calls, loaded.seconds
    total_calls = sum(calls[k] for k in (FIND, START, POLL))
    released = (watch.released[-1] - watch.released[0]) if watch.released else 0
    lines = [
        f"- Rollouts in flight during the loaded window (plans deploying/verifying, sampled "
        f"every {SAMPLE_SECONDS:g} s): {_span(watch.in_flight)}; `/release list` counted "
        f"{_span(loaded.list_totals)} active plans; released during the window: {released}.",
        f"- Rollouts with a stage at the deploy service (starting/running) during the window: "
        f"{_span(watch.stages_running)} of {settings.rollouts}. After the last deploy was "
        f"acked, {results.setup.stages_running} had one within {results.setup_seconds:.0f} s.",
        f"- Engine → deploy service calls in the window: {total_calls} in {seconds:.1f} s = "
        f"{total_calls / seconds:.2f} calls/s ({calls[START]} stage starts, {calls[POLL]} status "
        f"polls, {calls[FIND]} `find` lookups before a start); at most "
        f"{results.peak_backend_concurrency} calls open at once (whole run; the engine has "
        f"{ENGINE_WORKERS} workers).",
        f"- `releasebot serve` threads: {results.threads_idle} idle before any load, "
        f"{_span(watch.threads)} during the loaded window.",
    ]
    for window in results.windows:
        lines.append(
            f"- CPU, {window.name} window: {window.cpu_line()}. The bot's own ack histogram "
            f"(`releasebot_slack_ack_seconds`, inside the server) has "
            f"{window.server_within * 100:.1f}% of commands ≤ 100 ms."
        )
    return lines


def verdicts(results: Results, settings: Settings) -> list[tuple[str, str, bool]]:
    """Issue 5's targets, each met or not."""
    loaded = results.loaded
    merged = overall(loaded.reads)
    p99 = percentile(merged.latencies, 0.99) * 1000
    answered_all = merged.failed == 0 and merged.answered >= 0.98 * settings.rate * settings.seconds
    in_flight = min(loaded.watch.in_flight, default=0)
    threads = max(loaded.watch.threads, default=0)
    return [
        (
            f"`/release` acks p99 < {P99_TARGET_MS:g} ms with {settings.rollouts} rollouts "
            f"in flight",
            f"p99 {p99:.1f} ms over {merged.answered:,} answers, {merged.failed} failed",
            p99 < P99_TARGET_MS and answered_all,
        ),
        (
            f"{settings.rollouts} rollouts stay in flight during the window",
            f"at least {in_flight} in flight",
            in_flight >= IN_FLIGHT_SHARE * settings.rollouts,
        ),
        (
            "polling is not one thread per rollout",
            f"at most {threads} threads in the server for {settings.rollouts} rollouts",
            threads < settings.rollouts,
        ),
        (
            "polling is scheduled: every rollout in flight is followed",
            f"{loaded.followed} of {settings.rollouts} rollouts had their deploy service "
            f"called in the window; the longest any went without a call: "
            f"{loaded.longest_gap:.1f} s",
            loaded.followed >= min(loaded.watch.in_flight, default=settings.rollouts),
        ),
    ]


def section(results: Results, settings: Settings, command: str) -> str:
    """The BENCHMARKS.md section, heading included."""
    steps = ", ".join(f"{w}%" for w in STAGE_STEPS)
    baseline = (
        f"first with the {settings.rollouts} plans approved but not deployed (baseline), then "
        if settings.baseline
        else ""
    )
    lines = [
        SECTION,
        "",
        "_Written by `bench/rollouts_in_flight.py`; re-run it to refresh this section._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}. Load generator, deploy service, server and PostgreSQL "
        "share these CPUs (so does whatever else runs on the machine: see the CPU lines).",
        f"- Code: {code_version()}.",
        f"- Command: `{command}`",
        "- Setup: `releasebot serve` (subprocess, uvicorn, one worker, engine and outbox in "
        "the same process) on a fresh migrated PostgreSQL database, a local Slack Web API "
        "stand-in, and a slow webhook deploy service in the benchmark process "
        "(`bench/slow_deployer.py`): every `POST /deploy` and `GET /status/…` answers after "
        "a uniform 2-5 s delay; a stage succeeds on its 3rd status poll. "
        f"{settings.rollouts} services (`bench-00`, `bench-01`, …: a service has one rollout at "
        "a time per environment) each deploy through it with a phased strategy "
        f"({steps}, no pauses, no analysis) into `staging` (no approvals); one plan each is "
        "planned and deployed with signed `/release plan` and `/release deploy` over HTTP.",
        f"- Load: signed `/release list`, `/release show R-<random>` and `/release help` in "
        f"turn, open loop at {settings.rate:g} req/s in total for {settings.seconds:g} s, "
        f"{baseline}with the rollouts in flight; each window after {settings.warmup:g} s "
        "unmeasured. Latency is from the planned send time to the ack. Every answer is "
        "checked (200; the list's heading and count; the plan's card title; the help "
        "overview verbatim).",
        "",
        *table(results),
        "",
        *figures(results, settings),
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for target, measured, met in verdicts(results, settings):
        lines.append(f"| {target} | {measured} | {'yes' if met else '**no**'} |")
    lines.append("")
    if results.bot_log_errors:
        lines.append(f"The bot logged {len(results.bot_log_errors)} warnings/errors in the run.")
        lines.append("")
    return "\n".join(lines)


def rewrite_section(document: str, new_section: str) -> str:
    """`document` with its "Rollouts in flight (issue 5)" section replaced (or appended)."""
    return report.rewrite_section(document, SECTION, new_section)


def main(argv: list[str] | None = None) -> int:
    """Serve, put rollouts in flight, load, report; exit 0 when the run completed."""
    settings = parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.rollouts_in_flight", *map(shlex.quote, shown)])
    deployer = SlowDeployer(secret=WEBHOOK_SECRET)
    workspace = Workspace(bot_token=BOT_TOKEN)
    workspace.add_user(USER_ID, "dev001")
    workspace.add_channel("C0RELEASES", "releases")
    workspace.add_channel("C0ANNOUNCE", "announcements")
    seed.create_database(settings.database)
    try:
        upgrade(seed.sqlalchemy_url(settings.database))
        with (
            tempfile.TemporaryDirectory(prefix="bench-rollouts-") as folder,
            running_server(deployer.app()) as deployer_url,
            running_server(create_slack_api_app(workspace)) as api_url,
        ):
            config = write_config(Path(folder), deployer_url, settings.rollouts)
            commands = SlashCommands(workspace=workspace, base_url=api_url)
            results = asyncio.run(run(settings, commands, deployer, config, Path(folder)))
            # The stopped bot leaves calls to the deploy service open; their handlers are
            # cancelled at shutdown, which uvicorn would log as errors of this benchmark.
            logging.getLogger("uvicorn.error").setLevel(logging.CRITICAL)
    finally:
        if not settings.keep:
            seed.drop_database(settings.database)
    text = section(results, settings, command)
    print(text)
    for line in results.bot_log_errors[:20]:
        print("bot log:", line)
    if settings.record:
        current = BENCHMARKS.read_text() if BENCHMARKS.exists() else ""
        BENCHMARKS.write_text(rewrite_section(current, text))
        print(f"wrote {BENCHMARKS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
