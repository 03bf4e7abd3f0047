"""`releasebot serve` SIGKILLed in the middle of a command it acked: the next process does it once.

The command is `/release plan … to production`; carrying it out asks Slack who is in `@sre`,
and the Slack stand-in holds that call, so the first process is killed with the plan written
but not committed. The second process's recovery pass plans it once and answers "Done late".
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import httpx
from sqlalchemy import make_url, text
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.clock import SystemClock
from bot.domain.config import ReleasebotConfig
from bot.domain.context import DomainContext, StaticDirectory
from bot.release import plans
from bot.store.db import Database
from bot.store.models import ReleasePlan
from console import payloads
from console.slack_api import Workspace, create_slack_api_app
from console.testing import running_server
from tests.conftest import FIXTURES, GROUPS
from tests.helpers import walk_to_released

SIGNING_SECRET = "kill-test-signing-secret"
DEADLINE_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _eventually(found: Callable[[], object], seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@contextmanager
def _serve(env: dict[str, str], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`releasebot serve` as operators run it, until it is healthy; stopped (or killed) after."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli", "serve"], env=env, cwd=cwd, stderr=output
        )
    url = f"http://127.0.0.1:{env['PORT']}/healthz"

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _eventually(healthy)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_serve_process_killed_after_its_ack_leaves_the_command_to_the_next_one(
    database_url: str, db: Database, config: ReleasebotConfig, tmp_path: Path
) -> None:
    ctx = DomainContext(config=config, clock=SystemClock(), directory=StaticDirectory(GROUPS))
    with db.session() as session:  # 1.4.2 is live in staging, so production may be planned
        staging = plans.create_plan(
            session,
            ctx=ctx,
            actor="U0REQUESTER",
            new=plans.NewPlan(service="checkout", version="1.4.2", environment="staging"),
        )
        walk_to_released(session, ctx=ctx, plan=staging)

    workspace = Workspace(clock=SystemClock(), bot_token="xoxb-kill-test")
    for channel_id, name in (("C0RELEASES", "releases"), ("C0ANNOUNCE", "announcements")):
        workspace.add_channel(channel_id, name)
    for user_id in ("U0REQUESTER", "U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0APPROVER4"):
        workspace.add_user(user_id, user_id.lower())
    workspace.add_user("U0ADMIN", "admin", is_admin=True)
    workspace.add_usergroup("S0SRE", "sre", ["U0APPROVER4", "U0ADMIN"])
    workspace.fault_timeout_seconds = DEADLINE_SECONDS
    workspace.fail_next("usergroups.list", "timeout")  # held until the asker goes away
    log = tmp_path / "serve.log"

    with running_server(create_slack_api_app(workspace)) as slack_url:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "RELEASEBOT_"))},
            "SLACK_BOT_TOKEN": workspace.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack_url + "/api/",
            "DATABASE_URL": database_url,
            "RELEASEBOT_CONFIG": str(FIXTURES / "releasebot.toml"),
            "HOST": "127.0.0.1",
            "PORT": str(_free_port()),
        }
        sender = payloads.Sender(
            user_id="U0REQUESTER",
            user_name="u0requester",
            team_id=workspace.team_id,
            team_domain=workspace.team_domain,
            api_app_id=workspace.app_id,
        )
        body = payloads.form_body(
            payloads.slash_command(
                sender,
                channel_id="C0RELEASES",
                channel_name="releases",
                command="/release",
                text="plan checkout 1.4.2 to production",
                response_url=workspace.issue_response_url(
                    base_url=slack_url, channel_id="C0RELEASES", user_id="U0REQUESTER"
                ),
                trigger_id=workspace.issue_trigger_id("U0REQUESTER"),
            )
        )

        with _serve(env, tmp_path, log) as first:
            ack = httpx.post(
                f"http://127.0.0.1:{env['PORT']}/slack/events",
                content=body,
                headers=payloads.signed_headers(SIGNING_SECRET, body, SystemClock().now()),
            )
            assert (ack.status_code, ack.text) == (200, "")

            def carrying_out() -> bool:
                return _journal_attempts(database_url, db) > 0

            _eventually(carrying_out)  # claimed, and waiting on Slack inside its transaction
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=20)

        with db.session() as session:
            assert [p.environment for p in session.exec(_all_plans())] == ["staging"]
            # The killed process's 30 s lease, run out (as a restart a little later finds it).
            session.connection().execute(text("UPDATE command_journal SET lease_until = NULL"))

        with _serve({**env, "PORT": str(_free_port())}, tmp_path, log):
            _eventually(lambda: workspace.ephemerals_for("U0REQUESTER"))
            _eventually(lambda: _cards(workspace, "production"))

    with db.session() as session:
        planned = [(p.environment, p.ref) for p in session.exec(_all_plans())]
    # PostgreSQL does not hand out again the plan id the killed transaction had taken.
    assert [environment for environment, _ in planned] == ["staging", "production"]
    ref = planned[1][1]
    [answer] = [e.text for e in workspace.ephemerals_for("U0REQUESTER")]
    assert answer == (
        f"Done late: :memo: Planned *{ref}*: checkout `1.4.2` → production (awaiting approval). "
        "The card is in <#C0RELEASES>."
    )
    assert _cards(workspace, "production") == [
        f"{ref} · checkout 1.4.2 → production: Awaiting approval"
    ]


def _journal_attempts(database_url: str, db: Database) -> int:
    """Read without waiting for the writer (the bot's SQLite transactions take the write lock
    as they begin, so a read through its engine would wait for the killed transaction)."""
    query = "SELECT attempts FROM command_journal"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(str(url.database))) as connection:
            row = connection.execute(query).fetchone()
    else:
        with db.engine.connect() as connection:
            row = connection.execute(text(query)).fetchone()
    return int(row[0]) if row is not None else 0


def _all_plans() -> SelectOfScalar[ReleasePlan]:
    return select(ReleasePlan).order_by(col(ReleasePlan.id))


def _cards(workspace: Workspace, environment: str) -> list[str]:
    return [m.text for m in workspace.history("C0RELEASES") if f"→ {environment}:" in m.text]
