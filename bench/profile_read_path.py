"""Where a `/release show` or `/release list` ack spends its CPU, in one process, no network.

`python -m bench.profile_read_path --database NAME [--requests 2000] [--top 25]` builds the bot as
`releasebot serve` does (same settings, same routes; background work not started) on an already
seeded PostgreSQL database (bench/read_path.py makes one), and sends signed slash commands through
the ASGI app itself. The Bolt dispatch runs inline instead of in the threadpool so that cProfile
sees it whole. It prints the CPU per request and the top functions by own and cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

from bench import seed
from bench.ack_latency import BOT_TOKEN, SIGNING_SECRET, SlashCommands
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

REPO = Path(__file__).resolve().parent.parent

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: Asgi, body: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """One POST /slack/events straight into the ASGI app; (status, body)."""
    encoded = body.encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/slack/events",
        "raw_path": b"/slack/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        + [(b"content-length", str(len(encoded)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": encoded, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def active_ids(database: str) -> list[int]:
    """The plans whose cards are never stored."""
    from bot.store.plan_cards import KEPT_STATES

    with psycopg.connect(seed.conninfo(database)) as connection:
        rows = connection.execute(
            "SELECT id FROM release_plan WHERE NOT state = ANY(%s)", (sorted(KEPT_STATES),)
        ).fetchall()
    return [row[0] for row in rows]


def main(argv: list[str] | None = None) -> int:
    """Build the bot, warm it, then profile `--requests` of each read."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile_read_path")
    parser.add_argument("--database", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--show-ids",
        type=int,
        default=0,
        help="show only this many random plans (0: any of them), each asked once before",
    )
    parser.add_argument(
        "--active",
        action="store_true",
        help="show only plans still moving (their cards are drawn every time, never stored)",
    )
    parser.add_argument("--only", choices=("show", "list", "help"), default=None)
    args = parser.parse_args(argv)

    import bot.app.http as http
    from bot.app.bootstrap import build, slack_credentials
    from bot.app.settings import Settings

    async def inline(func: Callable[..., Any], *a: Any, **k: Any) -> Any:
        return func(*a, **k)

    http.run_in_threadpool = inline  # type: ignore[assignment]
    ids = list(seed.plan_titles(args.database))
    if args.active:
        ids = active_ids(args.database)
    if args.show_ids:
        ids = random.sample(ids, args.show_ids)
    workspace = Workspace(bot_token=BOT_TOKEN)
    with running_server(create_slack_api_app(workspace)) as api_url:
        commands = SlashCommands(workspace=workspace, base_url=api_url)
        os.environ.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=commands.api_url,
            DATABASE_URL=seed.sqlalchemy_url(args.database),
            RELEASEBOT_CONFIG=str(REPO / "releasebot.toml"),
        )
        settings = Settings()
        bot = build(settings, credentials=slack_credentials(settings))
        asgi = http.releasebot_app(bot)
        runner = asyncio.Runner()  # one loop: the fast reads' connections belong to it
        texts = {
            "show": lambda: f"show R-{random.choice(ids)}",
            "list": lambda: "list",
            "help": lambda: "help",
        }
        for name, text in texts.items():
            if args.only and name != args.only:
                continue

            async def burst(n: int, text: Callable[[], str] = text) -> None:
                for _ in range(n):
                    status, _ = await call(asgi, *commands.signed(text()))
                    assert status == 200, status

            runner.run(burst(max(200, 2 * args.show_ids if name == "show" else 0)))
            profile = cProfile.Profile(time.process_time)
            cpu = time.process_time()
            profile.enable()
            runner.run(burst(args.requests))
            profile.disable()
            per = (time.process_time() - cpu) * 1000 / args.requests
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top * 3)
            print(f"== /release {name}: {per:.2f} ms CPU per request (profiled)")
            print(out.getvalue())
            cpu = time.process_time()
            runner.run(burst(args.requests))
            per = (time.process_time() - cpu) * 1000 / args.requests
            print(f"== /release {name}: {per:.2f} ms CPU per request (not profiled)")
        runner.close()
        bot.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
