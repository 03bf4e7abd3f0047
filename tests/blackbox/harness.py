"""The black-box tier's harness: the installed `releasebot` run as an operator runs it.

The bot is the console script next to the running interpreter (installed by `./test` with
`pip install -e .[dev]`), started as a subprocess from a fresh deployment directory with
only the documented environment variables. Everything it talks to is a real local server:
the Slack Web API stand-in (`console.slack_api`), an HTTP check target the test flips, and
the deploy command (a shell script that records its argv and environment). The tests see
only what Slack or a user would see: messages in the fake workspace, ack bodies, ephemeral
posts to response URLs, HTTP statuses, the deploy command's calls, the process's stderr.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from console import payloads
from console.models import Message
from console.slack_api import Workspace, create_slack_api_app
from console.testing import click_payload, running_server, sender_in

T = TypeVar("T")

SIGNING_SECRET = "blackbox-signing-secret-0123456789"
BOT_TOKEN = "xoxb-blackbox-0000-token"
CHANNELS = {"C0RELEASES": "releases", "C0ANNOUNCE": "announcements", "C0ONCALL": "oncall"}
PEOPLE = ("U0REQUESTER", "U0APPROVER1", "U0APPROVER2", "U0APPROVER3", "U0ADMIN", "U0STRANGER")
START_DEADLINE = 30.0


def releasebot_executable() -> Path:
    """The console script `pip install -e .[dev]` put next to this interpreter."""
    script = Path(sys.executable).parent / "releasebot"
    if not script.exists():
        # The tier tests the product as installed: a missing script is a broken install.
        pytest.fail(
            f"{script} is missing: install the package as the README says "
            "(`./test` runs scripts/bootstrap.sh, which runs `pip install -e .[dev]`)"
        )
    return script


def eventually(
    predicate: Callable[[], T | None], *, timeout: float = 20.0, what: str = "", poll: float = 0.05
) -> T:
    """Poll `predicate` until it is truthy (its value) or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what or predicate}")
        time.sleep(poll)


# Each pytest-xdist worker hands out ports from its own block below Linux's ephemeral range
# (32768+), in order. A port from `bind(0)` is free only until the bot binds it a second or
# two later; another worker's bot could take it meanwhile, and this worker's health check
# would then be answered by that other bot. Blocks of their own rule that out.
_PORT_BLOCK = 1000
_PORT_BASE = 20000
_ports = itertools.count()


def free_port() -> int:
    """A port nothing listens on right now (the bot binds it itself), this worker's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    base = _PORT_BASE + (index % 12) * _PORT_BLOCK
    for _ in range(_PORT_BLOCK):
        port = base + next(_ports) % _PORT_BLOCK
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {base} to {base + _PORT_BLOCK - 1}")


# -- the far side: Slack ---------------------------------------------------------------------


class ArrivalLog:
    """ASGI wrapper that notes each request path as it arrives (before it is answered)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.paths: list[str] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self._lock:
                self.paths.append(str(scope["path"]))
        await self.app(scope, receive, send)

    def count(self, path: str) -> int:
        """How many requests to `path` have arrived so far."""
        with self._lock:
            return self.paths.count(path)


@dataclass
class FakeSlack:
    """The Slack Web API stand-in on a local port, and the workspace behind it."""

    workspace: Workspace
    url: str
    arrivals: ArrivalLog

    @property
    def api_url(self) -> str:
        """What the bot gets as SLACK_API_URL."""
        return self.url + "/api/"

    def sender(self, user_id: str) -> payloads.Sender:
        """Who a request comes from, as Slack names them."""
        return sender_in(self.workspace, user_id)

    def history(self, channel: str) -> list[Message]:
        """Top-level messages in a channel, oldest first."""
        return self.workspace.history(channel)

    def texts(self, channel: str) -> list[str]:
        """The text of every top-level message in a channel."""
        return [m.text for m in self.history(channel)]

    def card(self, ref: str) -> Message | None:
        """The plan's card in #releases (its text starts with the plan id)."""
        found = [m for m in self.history("C0RELEASES") if m.text.startswith(f"{ref} ·")]
        return found[0] if len(found) == 1 else None

    def card_when(self, ref: str, *states: str, timeout: float = 60.0) -> Message:
        """The card once its text shows one of `states` (e.g. "Released"); its thread on failure."""
        deadline = time.monotonic() + timeout
        while True:
            card = self.card(ref)
            if card is not None and any(card.text.endswith(state) for state in states):
                return card
            if time.monotonic() > deadline:
                thread = "\n".join(self.thread(card)) if card is not None else ""
                shown = card.text if card is not None else "no card"
                raise AssertionError(f"{ref} never reached {states}: {shown}\n{thread}")
            time.sleep(0.05)

    def quiet(self, *, quiet_for: float = 2.0, timeout: float = 15.0) -> None:
        """Wait until the bot has made no Web API call for `quiet_for` seconds."""
        deadline = time.monotonic() + timeout
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = len(self.workspace.calls)
            if count != seen:
                seen, since = count, time.monotonic()
            elif time.monotonic() - since > quiet_for:
                return
            time.sleep(0.05)
        raise AssertionError(f"the bot was still calling Slack after {timeout} s")

    def story(self, ref: str) -> str:
        """The card and its thread once the bot stopped posting (for failure messages)."""
        self.quiet()
        card = self.card(ref)
        if card is None:
            return f"no card for {ref}"
        return "\n".join([card.text, *self.thread(card)])

    def thread(self, message: Message) -> list[str]:
        """The texts of the replies in a message's thread."""
        return [m.text for m in self.workspace.replies(message.channel, message.ts)]

    def ephemerals(self, user_id: str) -> list[str]:
        """Texts shown to `user_id` only (chat.postEphemeral and response_url posts)."""
        return [e.text for e in self.workspace.ephemerals_for(user_id)]

    def dm(self, user_id: str) -> list[Message]:
        """The bot's DM conversation with `user_id`."""
        return self.workspace.history(self.workspace.dm_channel(user_id).id)


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    """A workspace with the channels and people of the tier's config, served over HTTP."""
    workspace = Workspace(bot_token=BOT_TOKEN)
    for channel_id, name in CHANNELS.items():
        workspace.add_channel(channel_id, name)
    for user_id in PEOPLE:
        workspace.add_user(user_id, user_id.lower(), is_admin=user_id == "U0ADMIN")
    workspace.add_usergroup("S0SRE", "sre", ["U0APPROVER3"])
    arrivals = ArrivalLog(create_slack_api_app(workspace))
    with running_server(arrivals) as url:
        yield FakeSlack(workspace=workspace, url=url, arrivals=arrivals)


class RefusingSlack:
    """Slack's Web API as a bad token meets it: `auth.test` and `apps.connections.open` answer
    `invalid_auth` (HTTP 200, ok false, Slack's documented shape) unless the token is valid."""

    def __init__(self, *, bot_token: str | None, app_token: str | None) -> None:
        self.valid = {"auth.test": bot_token, "apps.connections.open": app_token}
        self.calls: list[str] = []

    async def _method(self, request: Request) -> Response:
        from starlette.responses import JSONResponse

        method = str(request.path_params["method"])
        self.calls.append(method)
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() or None
        if method not in self.valid:
            return JSONResponse({"ok": False, "error": "unknown_method"}, 404)
        if token is None:
            return JSONResponse({"ok": False, "error": "not_authed"})
        if token != self.valid[method]:
            return JSONResponse({"ok": False, "error": "invalid_auth"})
        if method == "auth.test":
            return JSONResponse(
                {
                    "ok": True,
                    "url": "https://releasebot-console.slack.com/",
                    "team": "Releasebot",
                    "user": "releasebot",
                    "team_id": "T0CONSOLE",
                    "user_id": "U0RELEASEBOT",
                    "bot_id": "B0RELEASEBOT",
                }
            )
        # A socket URL nothing listens on: the tests never get this far.
        return JSONResponse({"ok": True, "url": f"wss://127.0.0.1:{free_port()}/link"})

    def app(self) -> Starlette:
        """The ASGI app serving `/api/<method>`."""
        return Starlette(routes=[Route("/api/{method}", self._method, methods=["GET", "POST"])])


# -- the far side: the service the HTTP check measures -------------------------------------


class CheckTarget:
    """`GET /healthz` of the released service: healthy (200), unhealthy (503) or hanging."""

    def __init__(self) -> None:
        self.healthy = True
        self.hanging = threading.Event()
        self.requests = 0
        self._lock = threading.Lock()
        self.url = ""

    async def _healthz(self, request: Request) -> Response:
        import asyncio

        with self._lock:
            self.requests += 1
        while self.hanging.is_set():
            if await request.is_disconnected():
                return Response(status_code=499)
            await asyncio.sleep(0.05)
        return Response("ok" if self.healthy else "down", status_code=200 if self.healthy else 503)

    def app(self) -> Starlette:
        """The ASGI app serving the target."""
        return Starlette(routes=[Route("/healthz", self._healthz)])

    def seen(self) -> int:
        """How many measurements have arrived."""
        with self._lock:
            return self.requests


@contextmanager
def check_target() -> Iterator[CheckTarget]:
    """The check target on a free local port (`target.url` is its /healthz)."""
    target = CheckTarget()
    with running_server(target.app()) as url:
        target.url = url + "/healthz"
        try:
            yield target
        finally:
            target.hanging.clear()


# -- the deployment directory ----------------------------------------------------------------

DEPLOY_SH = """#!/bin/sh
# The tier's deploy command: records its argv and environment, one directory per call.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
call="$here/calls/$(date +%s%N)-$$"
mkdir -p "$call.tmp"
for arg in "$@"; do printf '%s\\n' "$arg"; done > "$call.tmp/argv"
env -0 > "$call.tmp/env"
pwd > "$call.tmp/cwd"
mv "$call.tmp" "$call"
echo "deploying $RELEASE_SERVICE $RELEASE_VERSION to $RELEASE_ENVIRONMENT at $RELEASE_WEIGHT%"
case "$RELEASE_VERSION" in
  *bad*) echo "error: image $RELEASE_VERSION crash-loops" >&2; exit 1 ;;
esac
"""

CONFIG = """\
# The shipped example's shape, with second-long waits so the tier is fast.
timezone = "UTC"
admins = ["U0ADMIN"]

[channels]
releases = "C0RELEASES"
announcements = "C0ANNOUNCE"
oncall = "C0ONCALL"

[environments.staging]
order = 1
approvals = {{ required = 0 }}

[environments.production]
order = 2
approvals = {{ required = 2, approvers = ["U0APPROVER1", "U0APPROVER2", "@sre"] }}

[services.checkout]
repo_path = "./checkout.git"
backend = "command"
command = ["./deploy.sh", "{{service}}", "{{version}}", "{{environment}}", "{{weight}}"]
strategy = "canary"
checks = ["checkout-health"]
on_failure = "rollback"

[strategies.canary]
steps = [
  {{ weight = 10, pause = "{pause}", analysis = ["checkout-health"] }},
  {{ weight = 100 }},
]

[checks.checkout-health]
type = "http"
url = "{check_url}"
expect_status = 200
interval = "1s"
count = 1
failure_limit = 0
"""

# The changelog repository: (subject, author, tag).
HISTORY = (
    ("Checkout service skeleton", "Priya Patel", "1.4.1"),
    ("Retry payment provider timeouts", "Marco Rossi", None),
    ("Fix rounding of discounted totals", "Priya Patel", "1.4.2"),
)


@dataclass(frozen=True)
class DeployCall:
    """One run of deploy.sh: its arguments, environment and working directory."""

    argv: list[str]
    env: dict[str, str]
    cwd: str

    @property
    def action(self) -> str:
        """deploy or rollback."""
        return self.env.get("RELEASE_ACTION", "")


@dataclass
class Deployment:
    """A deployment directory outside the repository: config, deploy script, changelog."""

    root: Path

    @property
    def calls_dir(self) -> Path:
        """Where deploy.sh records its calls."""
        return self.root / "calls"

    def write(self, *, check_url: str, pause: str = "1s", extra: str = "") -> None:
        """Write releasebot.toml (with `extra` TOML appended), deploy.sh and the changelog."""
        (self.root / "releasebot.toml").write_text(
            CONFIG.format(check_url=check_url, pause=pause) + extra
        )
        script = self.root / "deploy.sh"
        script.write_text(DEPLOY_SH)
        script.chmod(0o755)
        self.calls_dir.mkdir(exist_ok=True)
        _build_changelog(self.root / "checkout.git")

    def deploy_calls(self) -> list[DeployCall]:
        """Every finished deploy.sh call, in the order they ran."""
        calls = []
        for path in sorted(self.calls_dir.iterdir(), key=lambda p: p.name):
            if path.name.endswith(".tmp"):
                continue
            env = dict(
                entry.split("=", 1)
                for entry in (path / "env").read_text().split("\0")
                if "=" in entry
            )
            argv = (path / "argv").read_text().splitlines()
            calls.append(DeployCall(argv=argv, env=env, cwd=(path / "cwd").read_text().strip()))
        return calls


def _build_changelog(target: Path) -> None:
    """A small git repository with tagged versions (git run with argument lists only)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(target.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }

    def git(*args: str, extra: dict[str, str] | None = None) -> None:
        merged = {**env, **(extra or {})}
        subprocess.run(["git", *args], cwd=target, env=merged, check=True, capture_output=True)

    target.mkdir()
    git("init", "--quiet", "--initial-branch=main")
    for number, (subject, author, tag) in enumerate(HISTORY):
        (target / "CHANGES.md").write_text(f"{subject}\n")
        who = {
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": "dev@checkout.example",
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": "dev@checkout.example",
            "GIT_AUTHOR_DATE": f"2026-11-0{number + 1}T10:00:00+00:00",
            "GIT_COMMITTER_DATE": f"2026-11-0{number + 1}T10:00:00+00:00",
        }
        git("add", "CHANGES.md", extra=who)
        git("commit", "--quiet", "--no-verify", "-m", subject, extra=who)
        if tag:
            git("tag", tag, extra=who)


# -- a database that cannot be written -------------------------------------------------------


@contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make `path` read-only for every process, root included, until the block ends.

    Permission bits do not bind root, so as root the file is made immutable instead.
    """
    root = os.geteuid() == 0
    if root:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.fail(f"cannot make {path} immutable as root: {made.stderr.strip()}")
    else:
        mode = path.stat().st_mode
        path.chmod(0o444)
    try:
        with pytest.raises(PermissionError):
            open(path, "r+b").close()
        yield
    finally:
        if root:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(mode)


@contextmanager
def read_only_postgres(url: str) -> Iterator[None]:
    """New sessions of the database at `url` are read-only until the block ends."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()


# -- the bot as a process --------------------------------------------------------------------


def clean_environment(home: Path, **documented: str) -> dict[str, str]:
    """PATH, HOME and LANG, plus the documented variables given (nothing of the runner's)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **documented,
    }


@dataclass
class Finished:
    """A finished `releasebot` command: exit code and what it printed."""

    code: int
    stdout: str
    stderr: str


@dataclass
class ShippedBot:
    """`releasebot <command>` run from a deployment directory with a clean environment."""

    cwd: Path
    env: dict[str, str]
    port: int
    process: subprocess.Popen[bytes] | None = None
    _stderr_files: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Where the bot listens."""
        return f"http://127.0.0.1:{self.port}"

    def run(
        self,
        *args: str,
        timeout: float = 60,
        unset: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> Finished:
        """Run a sub-command to its end (`migrate`, or one expected to refuse to start);
        `unset` leaves variables out (no SLACK_* for the offline console), `env` adds or
        replaces documented ones (another RELEASEBOT_CONFIG)."""
        done = subprocess.run(
            [str(releasebot_executable()), *args],
            cwd=self.cwd,
            env={k: v for k, v in {**self.env, **(env or {})}.items() if k not in unset},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Finished(done.returncode, done.stdout, done.stderr)

    def start(self, *args: str) -> None:
        """Start a long-running sub-command (`serve`, the bare console) in the background."""
        assert self.process is None or self.process.poll() is not None, "already running"
        stderr = self.cwd / f"releasebot-stderr-{len(self._stderr_files)}.log"
        self._stderr_files.append(stderr)
        with open(stderr, "wb") as sink:
            self.process = subprocess.Popen(
                [str(releasebot_executable()), *args],
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, *, timeout: float = START_DEADLINE) -> None:
        """Poll `/healthz` until it answers 200; fail with the process's output otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"releasebot exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"releasebot did not become healthy:\n{self.output()}")

    def serve(self) -> None:
        """`releasebot serve`, healthy."""
        self.start("serve")
        self.wait_healthy()

    def kill(self) -> None:
        """SIGKILL the process (no clean shutdown), as a crash or an OOM kill would."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM and wait (what a platform does on deploy); kill if it hangs."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def output(self, run: int | None = None) -> str:
        """What the process wrote on stdout/stderr (the last run, or run number `run`)."""
        if not self._stderr_files:
            return ""
        path = self._stderr_files[-1 if run is None else run]
        return path.read_text(errors="replace") if path.exists() else ""

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines of the last run (lines that are not JSON are kept as text)."""
        records: list[dict[str, Any]] = []
        for line in self.output().splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                parsed = {"text": line}
            records.append(parsed if isinstance(parsed, dict) else {"text": line})
        return records

    # -- what Slack sends ---------------------------------------------------------------------

    def post_signed(
        self, body: str | bytes, *, secret: str = SIGNING_SECRET, at: datetime | None = None
    ) -> httpx.Response:
        """POST a body to /slack/events signed the way Slack signs it."""
        text = body.decode() if isinstance(body, bytes) else body
        headers = payloads.signed_headers(secret, text, at or datetime.now(UTC))
        return httpx.post(self.url + "/slack/events", content=body, headers=headers, timeout=15)

    def command(self, slack: FakeSlack, user_id: str, text: str) -> httpx.Response:
        """Type `/release <text>` in #releases as `user_id`; the HTTP answer is the ack."""
        fields = payloads.slash_command(
            slack.sender(user_id),
            channel_id="C0RELEASES",
            channel_name="releases",
            command="/release",
            text=text,
            response_url=slack.workspace.issue_response_url(
                base_url=slack.url, channel_id="C0RELEASES", user_id=user_id
            ),
            trigger_id=slack.workspace.issue_trigger_id(user_id),
        )
        return self.post_signed(payloads.form_body(fields))

    def click(
        self, slack: FakeSlack, user_id: str, message: Message, action_id: str
    ) -> httpx.Response:
        """Click the button `action_id` on a message as `user_id` (after its confirm dialog)."""
        found = [
            (block_id, element)
            for block_id, element in payloads.iter_elements(message.blocks)
            if element.get("action_id") == action_id
        ]
        if not found:
            raise AssertionError(f"no {action_id} button on: {message.text}")
        block_id, element = found[0]
        return self.send_action(
            slack,
            user_id,
            message,
            payloads.clicked_action(
                element, block_id=block_id or "", action_ts=f"{time.time():.6f}"
            ),
        )

    def send_action(
        self, slack: FakeSlack, user_id: str, message: Message, action: dict[str, Any]
    ) -> httpx.Response:
        """Send a block_actions payload for `action` on `message`."""
        payload = click_payload(
            slack.workspace, user_id=user_id, message=message, action=action, api_url=slack.url
        )
        return self.post_signed(payloads.interaction_body(payload))


@contextmanager
def shipped_bot(
    root: Path, slack: FakeSlack, *, database_url: str | None = None, **extra: str
) -> Iterator[ShippedBot]:
    """A ShippedBot for `root` wired to `slack`; stopped (and reaped) at the end.

    `database_url=None` keeps the default: the embedded SQLite file next to the config.
    """
    home = root / "home"
    home.mkdir(exist_ok=True)
    documented = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(extra.pop("PORT", free_port())),
        **extra,
    }
    if database_url is not None:
        documented["DATABASE_URL"] = database_url
    port = int(documented["PORT"])
    bot = ShippedBot(cwd=root, env=clean_environment(home, **documented), port=port)
    with ExitStack() as cleanup:
        cleanup.callback(bot.stop)
        yield bot
