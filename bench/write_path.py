"""Writes keep their figures: `/release plan` acked and carried out by `releasebot serve`.

`python -m bench.write_path [--code PATH]` makes a fresh PostgreSQL database with 2,000 plans
(bench/seed.py), serves it with `releasebot serve` from this tree or from the checkout at
`--code` (another commit, to compare: its own `bot`, `commands`, … on PYTHONPATH, this venv),
and sends signed `/release plan checkout 9.<n>.0 to staging` at 25/s for 20 s, open loop. Each ack
must be a 200 that is not "Not done"; afterwards every plan must exist (counted in the database).
Prints the ack latencies and the server's CPU per plan, the plan's work after the ack included
(measured until the last plan is in the database). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench import seed
from bench.ack_latency import (
    BOT_TOKEN,
    SIGNING_SECRET,
    SlashCommands,
    cpu_seconds,
    free_port,
    machine,
    open_loop,
    percentile,
)
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

REPO = Path(__file__).resolve().parent.parent


def _acked(_: str, response: httpx.Response) -> str | None:
    if response.status_code != 200:
        return f"status {response.status_code}"
    if "Not done" in response.text:
        return "not done"
    return None


def _plans(database: str) -> int:
    with psycopg.connect(seed.conninfo(database)) as connection:
        row = connection.execute("SELECT count(*) FROM release_plan").fetchone()
    return int(row[0]) if row else 0


def main(argv: list[str] | None = None) -> int:
    """Seed, serve, load, wait for the work, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.write_path")
    parser.add_argument("--code", type=Path, default=REPO, help="the checkout to serve")
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    code = args.code.resolve()
    database = f"releasebot_write_path_{os.getpid()}"
    seed.create_database(database)
    try:
        seed.seed(database, plans=2000, audit_events=20_000)
        env = {**os.environ, "PYTHONPATH": str(code), "DATABASE_URL": seed.sqlalchemy_url(database)}
        releasebot = str(Path(sys.executable).with_name("releasebot"))
        subprocess.run([releasebot, "migrate"], env=env, cwd=code, check=True, capture_output=True)
        before = _plans(database)
        workspace = Workspace(bot_token=BOT_TOKEN)
        with (
            running_server(create_slack_api_app(workspace)) as api_url,
            tempfile.TemporaryDirectory(prefix="bench-write-") as logs,
        ):
            commands = SlashCommands(workspace=workspace, base_url=api_url)
            port = free_port()
            env |= {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": commands.api_url,
                "RELEASEBOT_CONFIG": str(REPO / "releasebot.toml"),
                "RELEASEBOT_STATE_DIR": logs,
                "PORT": str(port),
                "HOST": "127.0.0.1",
            }
            with (Path(logs) / "serve.log").open("wb") as out:
                process = subprocess.Popen(
                    [releasebot, "serve"], env=env, cwd=code, stdout=out, stderr=subprocess.STDOUT
                )
            try:
                url = f"http://127.0.0.1:{port}"
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.2)
                counter = iter(range(1, 10**6))

                def text() -> str:
                    return f"plan checkout 9.{next(counter)}.0 to staging"

                cpu = cpu_seconds(process.pid)
                samples = asyncio.run(
                    open_loop(
                        url + "/slack/events",
                        commands,
                        text,
                        _acked,
                        rate=args.rate,
                        seconds=args.seconds,
                    )
                )
                sent = samples.answered
                waited = time.monotonic()
                while _plans(database) < before + sent and time.monotonic() - waited < 120:
                    time.sleep(0.2)
                made = _plans(database) - before
                used = cpu_seconds(process.pid) - cpu
            finally:
                process.terminate()
                process.wait(30)
    finally:
        seed.drop_database(database)
    print(f"Machine: {machine()}; code: {code}")
    print(
        f"/release plan at {args.rate:g}/s for {args.seconds:g} s: {sent} acked, "
        f"{samples.failed} failed {dict(samples.failures)}, {made} plans made; "
        f"ack p50 {percentile(samples.latencies, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(samples.latencies, 0.99) * 1000:.1f} ms; "
        f"server CPU {used * 1000 / max(1, made):.1f} ms per plan (after the ack included)"
    )
    return 0 if made == sent and not samples.failed else 1


if __name__ == "__main__":
    sys.exit(main())
