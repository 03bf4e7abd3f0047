"""Issue 2's ack benchmark: `/release list` and `/release show` against `releasebot serve`.

`python -m bench.ack_latency [--seconds 30] [--rate 200]` seeds a throwaway PostgreSQL database
(100,000 plans, 1,000,000 audit events), runs `releasebot serve` and a bare Bolt app as real
subprocesses against a local Slack Web API stand-in, fires signed slash commands at them
(open loop at a fixed rate, then closed loop at a fixed concurrency), prints the figures and
rewrites the "Ack latency (issue 2)" section of BENCHMARKS.md. Only 127.0.0.1 is contacted and
every process, thread and database it starts is stopped or dropped before it returns.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import secrets
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import report, seed
from bench.bare_bolt import BARE_ANSWER
from console import payloads
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO / "BENCHMARKS.md"
SECTION = "## Ack latency (issue 2)"
SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
USER_ID = "U0DEV001"
STARTUP_DEADLINE_SECONDS = 60.0
STOP_DEADLINE_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 10.0
P99_TARGET_MS = 50.0
THROUGHPUT_RATIO_TARGET = 0.5
RSS_TARGET_MB = 150.0
# What `releasebot serve` runs: a change here means the figures are not those of the commit.
MEASURED_PATHS = ("bot", "commands", "console", "migrations", "releasebot.toml")
LIST_LIMIT = 25
QUIET_SHARE = 0.15
OPEN_LOOP_CONNECTIONS = 64
QUIET_SAMPLE_SECONDS = (
    3.0  # bot.release.plans.LIST_LIMIT: the list shows the newest 25 active plans
)

Check = Callable[[str, httpx.Response], str | None]


# -- what is sent and what must come back ---------------------------------------------------


@dataclass
class SlashCommands:
    """Signed `/release …` bodies as Slack sends them, from one user of the stand-in team."""

    workspace: Workspace
    base_url: str

    @property
    def api_url(self) -> str:
        """The Web API base the bot's client talks to."""
        return self.base_url + "/api/"

    def signed(self, text: str) -> tuple[str, dict[str, str]]:
        """The form body and headers of `/release <text>`, signed now."""
        sender = payloads.Sender(
            user_id=USER_ID,
            user_name="dev001",
            team_id=self.workspace.team_id,
            team_domain=self.workspace.team_domain,
            api_app_id=self.workspace.app_id,
        )
        fields = payloads.slash_command(
            sender,
            channel_id="C0RELEASES",
            channel_name="releases",
            command="/release",
            text=text,
            # Read commands never use it; a real-looking one keeps the body Slack-sized.
            response_url=f"{self.base_url}/response/{secrets.token_urlsafe(18)}",
            trigger_id=f"{random.randrange(10**12)}.{random.randrange(10**12)}.bench",
        )
        body = payloads.form_body(fields)
        return body, payloads.signed_headers(SIGNING_SECRET, body, datetime.now(UTC))


def _answer_text(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    text = answer.get("text") if isinstance(answer, dict) else None
    return text if isinstance(text, str) else None


def expect_list(active: int) -> Check:
    """A list answer naming how many active plans there are."""
    shown = min(active, LIST_LIMIT)
    wanted = f"Upcoming and active plans: {shown} of {active}"

    def check(_: str, response: httpx.Response) -> str | None:
        text = _answer_text(response)
        return None if text == wanted else f"HTTP {response.status_code}: {response.text[:120]}"

    return check


def expect_show(titles: dict[int, str]) -> Check:
    """A show answer starting with the plan's card title."""

    def check(text_sent: str, response: httpx.Response) -> str | None:
        title = titles[int(text_sent.rsplit("R-", 1)[1])]
        text = _answer_text(response)
        if text is not None and text.startswith(title + ":"):
            return None
        return f"HTTP {response.status_code}: {response.text[:120]}"

    return check


def expect_bare(_: str, response: httpx.Response) -> str | None:
    """The bare app's fixed answer."""
    text = _answer_text(response)
    return None if text == BARE_ANSWER else f"HTTP {response.status_code}: {response.text[:120]}"


# -- load -----------------------------------------------------------------------------------


@dataclass
class Samples:
    """Latencies (seconds) of answered requests, and what went wrong with the others."""

    latencies: list[float] = field(default_factory=list)
    lags: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_busy: float = 0.0

    def fail(self, why: str) -> None:
        self.failures[why] = self.failures.get(why, 0) + 1

    @property
    def answered(self) -> int:
        return len(self.latencies)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


async def _one(
    client: httpx.AsyncClient,
    url: str,
    commands: SlashCommands,
    text: str,
    check: Check,
    samples: Samples,
    since: float,
) -> None:
    loop = asyncio.get_running_loop()
    body, headers = commands.signed(text)
    try:
        response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        samples.fail(type(error).__name__)
        return
    took = loop.time() - since
    problem = check(text, response)
    if problem is not None:
        samples.fail(problem)
        return
    samples.latencies.append(took)


class RawConnection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the leanest client there is.

    httpx spent 2-12 ms of CPU per request here (its pool grows slow with many requests
    waiting), more than the bare server it was measuring, on a machine whose two CPUs the
    servers need; this spends a fraction of a millisecond.
    """

    def __init__(self, url: str) -> None:
        parts = httpx.URL(url)
        self.host, self.port, self.path = parts.host, parts.port or 80, parts.raw_path
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: str, headers: dict[str, str]) -> httpx.Response:
        """POST `body`; a kept-alive connection the server has closed is reopened once."""
        encoded = body.encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {self.path.decode()} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{head}"
            f"Content-Length: {len(encoded)}\r\n\r\n"
        ).encode() + encoded
        reused = self._streams is not None
        try:
            return await self._exchange(request)
        except (asyncio.IncompleteReadError, ConnectionError):
            self.close()
            if not reused:
                raise
            # The server closed an idle keep-alive connection before reading: safe to resend.
            return await self._exchange(request)

    async def _exchange(self, request: bytes) -> httpx.Response:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        )
        content = await reader.readexactly(int(fields.get("content-length", "0")))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return httpx.Response(status, content=content)

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


async def _send(
    connection: RawConnection,
    commands: SlashCommands,
    text: str,
    check: Check,
    samples: Samples,
    since: float,
) -> None:
    loop = asyncio.get_running_loop()
    body, headers = commands.signed(text)
    try:
        response = await asyncio.wait_for(
            connection.post(body, headers), timeout=REQUEST_TIMEOUT_SECONDS
        )
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
        connection.close()
        samples.fail(type(error).__name__)
        return
    took = loop.time() - since
    problem = check(text, response)
    if problem is not None:
        samples.fail(problem)
        return
    samples.latencies.append(took)


async def open_loop(
    url: str,
    commands: SlashCommands,
    next_text: Callable[[], str],
    check: Check,
    *,
    rate: float,
    seconds: float,
    connections: int = OPEN_LOOP_CONNECTIONS,
) -> Samples:
    """Requests fall due at a fixed rate whatever the answers do; latency counts from when
    each fell due (wrk2's model), so a server that falls behind shows its whole queue.

    Requests wait for one of `connections` keep-alive connections, as Slack's would for a
    server that stopped answering; those still waiting when the run ends plus the request
    timeout count as failures, so the run is bounded however slow the server is.
    """
    samples = Samples()
    loop = asyncio.get_running_loop()
    due: asyncio.Queue[float | None] = asyncio.Queue()
    cpu = time.process_time()
    start = loop.time() + 0.05
    give_up = start + seconds + REQUEST_TIMEOUT_SECONDS

    async def sender() -> None:
        connection = RawConnection(url)
        try:
            while (when := await due.get()) is not None:
                if loop.time() > give_up:
                    samples.fail("still waiting for a connection when the run ended")
                    continue
                await _send(connection, commands, next_text(), check, samples, since=when)
        finally:
            connection.close()

    senders = [asyncio.create_task(sender()) for _ in range(connections)]
    for index in range(int(rate * seconds)):
        when = start + index / rate
        delay = when - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        samples.lags.append(loop.time() - when)
        due.put_nowait(when)
    for _ in senders:
        due.put_nowait(None)
    await asyncio.gather(*senders)
    samples.elapsed = loop.time() - start
    samples.client_cpu = time.process_time() - cpu
    return samples


async def closed_loop(
    url: str,
    commands: SlashCommands,
    next_text: Callable[[], str],
    check: Check,
    *,
    concurrency: int,
    seconds: float,
) -> Samples:
    """`concurrency` senders, each sending its next request as soon as the last is answered."""
    samples = Samples()
    loop = asyncio.get_running_loop()
    cpu = time.process_time()
    start = loop.time()
    end = start + seconds

    async def sender() -> None:
        connection = RawConnection(url)
        try:
            while loop.time() < end:
                await _send(connection, commands, next_text(), check, samples, since=loop.time())
        finally:
            connection.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    samples.elapsed = loop.time() - start
    samples.client_cpu = time.process_time() - cpu
    return samples


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat, in clock ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    total = sum(fields[:8])
    return total - fields[3] - fields[4], total


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How much of the machine's CPU was busy between two machine_jiffies() readings."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total else 0.0


def wait_for_quiet(limit_seconds: float, threshold: float = QUIET_SHARE) -> float:
    """Wait (at most `limit_seconds`) for the machine to be mostly idle; its busy share then."""
    deadline = time.monotonic() + limit_seconds
    while True:
        before = machine_jiffies()
        # Sampling the machine's idleness: there is nothing to await but time.
        time.sleep(QUIET_SAMPLE_SECONDS)
        share = busy_share(before, machine_jiffies())
        if share <= threshold or time.monotonic() >= deadline:
            return share


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, resident peak) of a process in MB, from /proc/<pid>/status."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


@dataclass
class Served:
    """A server under test: its process and where it answers."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path


@contextmanager
def serve(name: str, argv: list[str], env: dict[str, str], logs: Path) -> Iterator[Served]:
    """Run `argv` until it answers /healthz; stop it (TERM, then KILL) on the way out."""
    port = free_port()
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=REPO,
            # PYTHONPATH: serve the tree this benchmark sits in, whatever is pip-installed.
            env={
                **os.environ,
                **env,
                "PORT": str(port),
                "HOST": "127.0.0.1",
                "PYTHONPATH": str(REPO),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(name=name, process=process, url=f"http://127.0.0.1:{port}", log=log)
    try:
        _wait_healthy(served)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(STOP_DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_DEADLINE_SECONDS)


def _wait_healthy(served: Served) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            break
        try:
            if httpx.get(served.url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        # Polling a starting process: there is nothing to await but its port.
        time.sleep(0.2)
    tail = served.log.read_text(errors="replace")[-3000:]
    raise SystemExit(f"{served.name} did not become healthy; its log ends with:\n{tail}")


# -- phases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    mode: str
    samples: Samples

    def percentile_ms(self, share: float) -> float:
        return percentile(self.samples.latencies, share) * 1000

    @property
    def rate(self) -> float:
        return self.samples.answered / self.samples.elapsed if self.samples.elapsed else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU per answered request."""
        done = self.samples.answered
        return self.samples.server_cpu * 1000 / done if done else 0.0

    @property
    def client_cpu_ms(self) -> float:
        """The load generator's CPU per answered request (is the generator the limit?)."""
        done = self.samples.answered
        return self.samples.client_cpu * 1000 / done if done else 0.0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    # ceil(share * n), forgiving float noise: 0.99 * 100 must be rank 99, not 100.
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered) - 1e-9)))
    return ordered[rank - 1]


@dataclass
class Settings:
    """The command line."""

    seconds: float
    rate: float
    warmup: float
    closed_seconds: float
    concurrency: int
    plans: int
    audit_events: int
    database: str
    keep: bool
    reuse: bool
    record: bool
    wait_quiet: float


def parse_args(argv: list[str] | None) -> Settings:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.ack_latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="open-loop seconds per run")
    parser.add_argument("--rate", type=float, default=200.0, help="open-loop requests/s")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds per server")
    parser.add_argument("--closed-seconds", type=float, default=15.0, help="closed-loop seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="closed-loop senders")
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--audit-events", type=int, default=1_000_000)
    parser.add_argument(
        "--database", default=f"releasebot_bench_{os.getpid()}", help="PostgreSQL database name"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse", action="store_true", help="use --database as it is when it is already seeded"
    )
    parser.add_argument(
        "--no-record", dest="record", action="store_false", help="do not touch BENCHMARKS.md"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=300.0,
        help="seconds to wait at most for other work on the machine to calm down first",
    )
    args = parser.parse_args(argv)
    return Settings(**vars(args))


def _prepare_database(settings: Settings) -> str:
    name = settings.database
    if settings.reuse and seed.database_exists(name):
        plans, events = seed.count_rows(name)
        if (plans, events) == (settings.plans, settings.audit_events):
            return f"reused {name}: {plans:,} plans, {events:,} audit events"
        raise SystemExit(f"{name} holds {plans:,} plans and {events:,} events; drop it or rename")
    seed.create_database(name)
    summary = seed.seed(name, plans=settings.plans, audit_events=settings.audit_events)
    return (
        f"seeded {name}: {summary.plans:,} plans ({summary.active_plans} active), "
        f"{summary.audit_events:,} audit events in {summary.seconds:.1f} s"
    )


async def _measure(
    served: Served,
    commands: SlashCommands,
    next_text: Callable[[], str],
    check: Check,
    *,
    settings: Settings,
    closed: bool,
) -> Samples:
    url = served.url + "/slack/events"
    cpu = cpu_seconds(served.process.pid)
    machine = machine_jiffies()
    if closed:
        samples = await closed_loop(
            url,
            commands,
            next_text,
            check,
            concurrency=settings.concurrency,
            seconds=settings.closed_seconds,
        )
    else:
        samples = await open_loop(
            url, commands, next_text, check, rate=settings.rate, seconds=settings.seconds
        )
    samples.server_cpu = cpu_seconds(served.process.pid) - cpu
    samples.machine_busy = busy_share(machine, machine_jiffies())
    return samples


async def _warm(
    served: Served, commands: SlashCommands, next_text: Callable[[], str], settings: Settings
) -> None:
    # Connection pools, Bolt's cached auth.test and PostgreSQL's buffers fill here, not in a run.
    def anything(_: str, __: httpx.Response) -> None:
        return None

    url = served.url + "/slack/events"
    await open_loop(url, commands, next_text, anything, rate=settings.rate, seconds=settings.warmup)


@dataclass
class Results:
    """Everything the report shows."""

    rows: list[Row]
    rss_idle_mb: float
    rss_after_mb: float
    rss_peak_mb: float
    bot_log_errors: list[str]
    busy_before: float = 0.0


async def run(settings: Settings, commands: SlashCommands, logs: Path) -> Results:
    """Load `releasebot serve`, then the bare app; collect every figure."""
    titles = seed.plan_titles(settings.database)
    ids = list(titles)
    active = seed.active_plans(settings.database)
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": commands.api_url,
    }

    def list_text() -> str:
        return "list"

    def show_text() -> str:
        return f"show R-{random.choice(ids)}"

    rows: list[Row] = []
    bot_env = {
        **env,
        "DATABASE_URL": seed.sqlalchemy_url(settings.database),
        "RELEASEBOT_CONFIG": str(REPO / "releasebot.toml"),
    }
    releasebot = str(Path(sys.executable).with_name("releasebot"))
    with serve("releasebot serve", [releasebot, "serve"], bot_env, logs) as bot:
        rss_idle, _ = memory_mb(bot.process.pid)
        await _warm(bot, commands, show_text, settings)
        await _warm(bot, commands, list_text, settings)
        for name, text, check in (
            ("/release list", list_text, expect_list(active)),
            ("/release show", show_text, expect_show(titles)),
        ):
            samples = await _measure(bot, commands, text, check, settings=settings, closed=False)
            rows.append(Row(name, f"open {settings.rate:g}/s", samples))
        samples = await _measure(
            bot, commands, show_text, expect_show(titles), settings=settings, closed=True
        )
        rows.append(Row("/release show", f"closed x{settings.concurrency}", samples))
        rss_after, rss_peak = memory_mb(bot.process.pid)
    bare_argv = [sys.executable, "-m", "bench.bare_bolt"]
    with serve("bare bolt", bare_argv, env, logs) as bare:
        await _warm(bare, commands, show_text, settings)
        for closed in (False, True):
            samples = await _measure(
                bare, commands, show_text, expect_bare, settings=settings, closed=closed
            )
            mode = f"closed x{settings.concurrency}" if closed else f"open {settings.rate:g}/s"
            rows.append(Row("bare Bolt app", mode, samples))
    return Results(
        rows=rows,
        rss_idle_mb=rss_idle,
        rss_after_mb=rss_after,
        rss_peak_mb=rss_peak,
        bot_log_errors=_errors_logged(bot.log),
    )


def _errors_logged(log: Path) -> list[str]:
    """The bot's error and warning lines: a fast answer that logged a failure is no answer."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            found.append(line)
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            found.append(line)
    return found


# -- report ---------------------------------------------------------------------------------


def code_version() -> str:
    """The commit being measured, marked when the bot's code differs from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", *MEASURED_PATHS],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"commit {commit}" + (" with uncommitted changes to the bot" if changed else "")


def machine() -> str:
    """CPU count and model, Python, and what uvicorn runs on."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return (
        f"{os.cpu_count()} CPUs, {model}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


HEADER = (
    "| server | load | answered | failed | rate req/s | p50 ms | p95 ms | p99 ms | max ms "
    "| server CPU ms/req | generator CPU ms/req | machine busy | generator lag p99 ms |"
)


def table(rows: list[Row]) -> list[str]:
    """The results as Markdown table lines."""
    lines = [HEADER, "| " + " | ".join("---" for _ in range(HEADER.count("|") - 1)) + " |"]
    for row in rows:
        s = row.samples
        lag = f"{percentile(s.lags, 0.99) * 1000:.1f}" if s.lags else "n/a"
        lines.append(
            f"| {row.name} | {row.mode} | {s.answered:,} | {s.failed:,} | {row.rate:.1f} "
            f"| {row.percentile_ms(0.50):.1f} | {row.percentile_ms(0.95):.1f} "
            f"| {row.percentile_ms(0.99):.1f} | {row.percentile_ms(1.0):.1f} "
            f"| {row.server_cpu_ms:.2f} | {row.client_cpu_ms:.2f} | {s.machine_busy:.0%} | {lag} |"
        )
    return lines


@dataclass(frozen=True)
class Verdict:
    """One of issue 2's targets against what was measured."""

    target: str
    measured: str
    met: bool


def verdicts(results: Results, settings: Settings) -> list[Verdict]:
    """Issue 2's targets, each met or not."""
    found: list[Verdict] = []
    by_key = {(r.name, r.mode.split()[0]): r for r in results.rows}
    for name in ("/release list", "/release show"):
        row = by_key[(name, "open")]
        p99 = row.percentile_ms(0.99)
        steady = row.rate >= 0.98 * settings.rate and row.samples.failed == 0
        found.append(
            Verdict(
                f"`{name}` ack p99 < {P99_TARGET_MS:g} ms at {settings.rate:g} req/s",
                f"p99 {p99:.1f} ms at {row.rate:.1f} req/s, {row.samples.failed} failed",
                p99 < P99_TARGET_MS and steady,
            )
        )
    show, bare = by_key[("/release show", "closed")], by_key[("bare Bolt app", "closed")]
    ratio = show.rate / bare.rate if bare.rate else 0.0
    found.append(
        Verdict(
            f"`/release show` throughput ≥ {THROUGHPUT_RATIO_TARGET:g}x the bare Bolt app",
            f"{show.rate:.0f} / {bare.rate:.0f} req/s = {ratio:.2f}",
            ratio >= THROUGHPUT_RATIO_TARGET and show.samples.failed == 0,
        )
    )
    found.append(
        Verdict(
            f"`releasebot serve` RSS after the load < {RSS_TARGET_MB:g} MB",
            f"{results.rss_after_mb:.0f} MB (idle before load {results.rss_idle_mb:.0f} MB, "
            f"peak {results.rss_peak_mb:.0f} MB)",
            results.rss_after_mb < RSS_TARGET_MB,
        )
    )
    return found


def section(results: Results, settings: Settings, dataset: str, command: str) -> str:
    """The BENCHMARKS.md section, heading included."""
    lines = [
        SECTION,
        "",
        "_Written by `bench/ack_latency.py`; re-run it to refresh this section._",
        "",
        f"- Date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}. Load generator, servers and PostgreSQL share these CPUs; "
        f"other work kept {results.busy_before:.0%} of them busy just before the load "
        '("machine busy" below is everything, the load included).',
        f"- Code: {code_version()}.",
        f"- Command: `{command}`",
        f"- Data: {dataset} (PostgreSQL on 127.0.0.1).",
        "- Servers: `releasebot serve` (uvicorn, one worker, the repo's `releasebot.toml`) and a "
        "bare `slack_bolt.App` (`bench/bare_bolt.py`: same signing secret, "
        "`process_before_response=True`, the same Starlette route and threadpool dispatch), "
        "each a subprocess, one after the other, against a local Slack Web API stand-in.",
        "- Load: signed slash commands over keep-alive HTTP/1.1 connections (asyncio "
        f"streams, `RawConnection`). Open loop: a request falls due every 1/{settings.rate:g} s "
        f"for {settings.seconds:g} s whatever the answers do and waits for one of "
        f"{OPEN_LOOP_CONNECTIONS} connections; latency counts from when it fell due. Closed "
        f"loop: {settings.concurrency} senders for {settings.closed_seconds:g} s. `show` asks "
        "for a random plan of all of them. Every answer is checked (200, the plan's card "
        f"title, the list's count). Each server is warmed for {settings.warmup:g} s first.",
        "",
        *table(results.rows),
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
    ]
    for verdict in verdicts(results, settings):
        lines.append(
            f"| {verdict.target} | {verdict.measured} | {'yes' if verdict.met else '**no**'} |"
        )
    lines.append("")
    if results.bot_log_errors:
        lines.append(
            f"The bot logged {len(results.bot_log_errors)} warnings/errors during the run."
        )
        lines.append("")
    return "\n".join(lines)


def rewrite_section(document: str, new_section: str) -> str:
    """`document` with its "Ack latency (issue 2)" section replaced (or appended)."""
    return report.rewrite_section(document, SECTION, new_section)


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, load, report; exit 0 when the run completed (targets met or not)."""
    settings = parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    command = " ".join([".venv/bin/python -m bench.ack_latency", *map(shlex.quote, shown)])
    created = not (settings.reuse and seed.database_exists(settings.database))
    try:
        dataset = _prepare_database(settings)
        print(dataset, flush=True)
        busy_before = wait_for_quiet(settings.wait_quiet)
        print(f"machine busy before the load: {busy_before:.0%}", flush=True)
        workspace = Workspace(bot_token=BOT_TOKEN)
        with (
            tempfile.TemporaryDirectory(prefix="bench-ack-") as logs,
            running_server(create_slack_api_app(workspace)) as api_url,
        ):
            commands = SlashCommands(workspace=workspace, base_url=api_url)
            results = asyncio.run(run(settings, commands, Path(logs)))
            results.busy_before = busy_before
    finally:
        if created and not settings.keep:
            seed.drop_database(settings.database)
    text = section(results, settings, dataset, command)
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
