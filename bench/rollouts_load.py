"""Issue 5's benchmark parts: signed writes, the mixed read load, and watching the rollouts."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench import seed
from bench.ack_latency import (
    REQUEST_TIMEOUT_SECONDS,
    SIGNING_SECRET,
    USER_ID,
    Check,
    Samples,
    SlashCommands,
    _one,
)
from bot.domain.lifecycle import IN_FLIGHT
from commands.registry import usage_for
from commands.render import replies
from console import payloads

DB_POLL_SECONDS = 0.5
SAMPLE_SECONDS = 1.0
IN_FLIGHT_STATES = tuple(sorted(s.value for s in IN_FLIGHT))
DEPLOYED_STATES = (*IN_FLIGHT_STATES, "released", "failed", "rolled_back")


# -- what is sent -------------------------------------------------------------------------------


def signed_write(commands: SlashCommands, text: str) -> tuple[str, dict[str, str]]:
    """`/release <text>` with a response_url the stand-in honours, so the bot's answer lands."""
    workspace = commands.workspace
    sender = payloads.Sender(
        user_id=USER_ID,
        user_name="dev001",
        team_id=workspace.team_id,
        team_domain=workspace.team_domain,
        api_app_id=workspace.app_id,
    )
    fields = payloads.slash_command(
        sender,
        channel_id="C0RELEASES",
        channel_name="releases",
        command="/release",
        text=text,
        response_url=workspace.issue_response_url(
            base_url=commands.base_url, channel_id="C0RELEASES", user_id=USER_ID
        ),
        trigger_id=workspace.issue_trigger_id(USER_ID),
    )
    body = payloads.form_body(fields)
    return body, payloads.signed_headers(SIGNING_SECRET, body, datetime.now(UTC))


async def send_writes(url: str, commands: SlashCommands, texts: list[str], rate: float) -> Samples:
    """Send each write at `rate`; an ack must be an empty 200 (the work follows the ack)."""
    samples = Samples()
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS) as client:

        async def one(text: str, due: float) -> None:
            body, headers = signed_write(commands, text)
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as error:
                samples.fail(type(error).__name__)
                return
            if response.status_code != 200 or response.content.strip():
                samples.fail(f"HTTP {response.status_code}: {response.text[:120]}")
                return
            samples.latencies.append(loop.time() - due)

        start = loop.time() + 0.05
        tasks = []
        for index, text in enumerate(texts):
            due = start + index / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(text, due)))
        await asyncio.gather(*tasks)
        samples.elapsed = loop.time() - start
    return samples


def expect_list() -> tuple[Check, list[int]]:
    """A list answer ("Upcoming and active plans: shown of total"); the totals seen."""
    totals: list[int] = []

    def check(_: str, response: httpx.Response) -> str | None:
        text = _text(response)
        prefix = "Upcoming and active plans: "
        if text is None or not text.startswith(prefix):
            return f"HTTP {response.status_code}: {response.text[:120]}"
        shown, _, total = text.removeprefix(prefix).partition(" of ")
        if not (shown.isdigit() and total.isdigit()):
            return f"unexpected list answer: {text[:120]}"
        totals.append(int(total))
        return None

    return check, totals


def expect_help() -> Check:
    """The overview of every sub-command, exactly as the bot renders it."""
    wanted = replies.usage(usage_for(None)).text

    def check(_: str, response: httpx.Response) -> str | None:
        text = _text(response)
        return None if text == wanted else f"HTTP {response.status_code}: {response.text[:120]}"

    return check


def _text(response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None
    text = answer.get("text") if isinstance(answer, dict) else None
    return text if isinstance(text, str) else None


async def mixed_open_loop(
    url: str,
    commands: SlashCommands,
    texts: dict[str, Callable[[], str]],
    checks: dict[str, Check],
    *,
    rate: float,
    seconds: float,
) -> dict[str, Samples]:
    """Round-robin over the commands at a fixed total rate; latency from the planned send time.

    As in bench/ack_latency.py, counting from the plan keeps a stalled server from hiding its
    queue behind a stalled generator (coordinated omission).
    """
    by_name = {name: Samples() for name in texts}
    names = list(texts)
    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        start = loop.time() + 0.05
        tasks: list[asyncio.Task[None]] = []
        for index in range(int(rate * seconds)):
            name = names[index % len(names)]
            due = start + index / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            samples = by_name[name]
            samples.lags.append(loop.time() - due)
            tasks.append(
                asyncio.create_task(
                    _one(client, url, commands, texts[name](), checks[name], samples, since=due)
                )
            )
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    for samples in by_name.values():
        samples.elapsed = elapsed
    return by_name


# -- watching the database and the server ---------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where the rollouts stand, from the database."""

    plans: int
    in_flight: int
    stages_running: int
    released: int
    failed: int
    deployed: int  # plans past `approved`: the deploy command took effect


def progress(database: str) -> Progress:
    """Count plans by state and rollout stages the backend is working on."""
    with psycopg.connect(seed.conninfo(database)) as connection:
        rows = connection.execute(
            "SELECT state, count(*) FROM release_plan GROUP BY state"
        ).fetchall()
        states: dict[str, int] = {str(state): int(n) for state, n in rows}
        row = connection.execute(
            "SELECT count(*) FROM deployment_stage WHERE phase = 'rollout' "
            "AND status IN ('starting', 'running')"
        ).fetchone()
    return Progress(
        plans=sum(states.values()),
        in_flight=sum(n for s, n in states.items() if s in IN_FLIGHT_STATES),
        stages_running=row[0] if row else 0,
        released=states.get("released", 0),
        failed=sum(states.get(s, 0) for s in ("failed", "rolled_back", "rolling_back")),
        deployed=sum(n for s, n in states.items() if s in DEPLOYED_STATES),
    )


def plan_titles(database: str) -> dict[int, str]:
    """Each plan's card title by id (what `/release show` starts with)."""
    return seed.plan_titles(database)


def wait_for(
    database: str, ready: Callable[[Progress], bool], *, deadline_seconds: float
) -> tuple[Progress, float]:
    """Poll the database until `ready`, or the deadline; the last progress and seconds taken."""
    started = time.monotonic()
    while True:
        now = progress(database)
        if ready(now) or time.monotonic() - started > deadline_seconds:
            return now, time.monotonic() - started
        # Polling another process's database: there is nothing to await.
        time.sleep(DB_POLL_SECONDS)


def threads_of(pid: int) -> int:
    """The number of threads a process runs now, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


@dataclass
class Watch:
    """Samples of the rollouts and the server taken every second during the window."""

    in_flight: list[int] = field(default_factory=list)
    stages_running: list[int] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


@contextmanager
def watching(database: str, pid: int) -> Iterator[Watch]:
    """Sample in a background thread until the block ends."""
    watch = Watch()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            now = progress(database)
            watch.in_flight.append(now.in_flight)
            watch.stages_running.append(now.stages_running)
            watch.released.append(now.released)
            watch.threads.append(threads_of(pid))
            stop.wait(SAMPLE_SECONDS)

    thread = threading.Thread(target=sample, name="bench-watch", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join(10)
