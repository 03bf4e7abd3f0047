"""Where a fast read's time goes: `releasebot serve` with one part taken out at a time.

`python -m bench.read_path_parts --database releasebot_read_path` (the database
bench/read_path.py seeded, its cards drawn) serves, one after the other, the bare Bolt AsyncApp,
`releasebot serve`, and `releasebot serve` without its database round trips and without its read
(bench/serve_without.py), and loads each with the same closed loop of signed `/release show
R-<random>` or `/release list`. The differences between the lines are what each part costs: the
server's CPU per request, and the throughput on this machine. Only the shipped server's and the
bare app's answers are checked (the others answer wrong on purpose). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
from pathlib import Path

import httpx

from bench import seed
from bench.ack_latency import (
    BOT_TOKEN,
    SIGNING_SECRET,
    Check,
    SlashCommands,
    busy_share,
    closed_loop,
    cpu_seconds,
    expect_bare,
    expect_list,
    expect_show,
    machine,
    machine_jiffies,
    serve,
)
from bench.read_path import postgres_cpu, postgres_cpu_since
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server

REPO = Path(__file__).resolve().parent.parent
SERVERS = (
    ("bare Bolt AsyncApp", None),
    ("releasebot serve", "nothing"),
    ("  without its database round trips", "database"),
    ("  without its read (route only)", "read"),
)


def _unchecked(_: str, __: httpx.Response) -> None:
    return None


async def _load(
    url: str, pid: int, commands: SlashCommands, text: object, check: Check, seconds: float
) -> tuple[float, float, float, float, int]:
    """(req/s, server CPU ms/req, PostgreSQL CPU ms/req, machine busy, failed)."""
    await closed_loop(url, commands, text, check, concurrency=32, seconds=2)  # type: ignore[arg-type]
    cpu, database, jiffies = cpu_seconds(pid), postgres_cpu(), machine_jiffies()
    samples = await closed_loop(url, commands, text, check, concurrency=32, seconds=seconds)  # type: ignore[arg-type]
    done = max(1, samples.answered)
    return (
        samples.answered / samples.elapsed,
        (cpu_seconds(pid) - cpu) * 1000 / done,
        postgres_cpu_since(database) * 1000 / done,
        busy_share(jiffies, machine_jiffies()),
        samples.failed,
    )


def main(argv: list[str] | None = None) -> int:
    """Serve each, load each, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.read_path_parts")
    parser.add_argument("--database", default="releasebot_read_path")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    titles = seed.plan_titles(args.database)
    ids = list(titles)
    active = seed.active_plans(args.database)
    workspace = Workspace(bot_token=BOT_TOKEN)
    lines = [
        f"Machine: {machine()}; closed loop x32, {args.seconds:g} s per line.",
        "",
        "| server | command | req/s | server CPU ms/req | PostgreSQL CPU ms/req | machine busy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    with (
        running_server(create_slack_api_app(workspace)) as api_url,
        tempfile.TemporaryDirectory(prefix="bench-parts-") as logs,
    ):
        commands = SlashCommands(workspace=workspace, base_url=api_url)
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": commands.api_url,
            "DATABASE_URL": seed.sqlalchemy_url(args.database),
            "RELEASEBOT_CONFIG": str(REPO / "releasebot.toml"),
        }
        for command in ("show", "list"):
            for name, part in SERVERS:
                argv_ = [sys.executable, "-m", "bench.bare_async_bolt"]
                if part is not None:
                    argv_ = [sys.executable, "-m", "bench.serve_without", part]
                check: Check = _unchecked
                if part is None:
                    check = expect_bare
                elif part == "nothing":
                    check = expect_show(titles) if command == "show" else expect_list(active)

                def text(command: str = command) -> str:
                    return f"show R-{random.choice(ids)}" if command == "show" else "list"

                with serve(name.strip(), argv_, env, Path(logs)) as served:
                    rate, server, database, busy, failed = asyncio.run(
                        _load(
                            served.url + "/slack/events",
                            served.process.pid,
                            commands,
                            text,
                            check,
                            args.seconds,
                        )
                    )
                lines.append(
                    f"| {name} | /release {command} | {rate:,.0f} | {server:.3f} | "
                    f"{database:.3f} | {busy:.0%} |" + (f" {failed} failed" if failed else "")
                )
                print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
