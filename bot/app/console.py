"""`releasebot console`: the whole bot offline, with the Slack console, on one local port.

One ASGI app serves the bot's routes (`/slack/events`, `/healthz`, `/metrics`) and the
console's (the page, the Web API stand-in at `/api/`, `response_url`s, the demo health
endpoint). The bot is the production build: it reaches "Slack" through `SLACK_API_URL`
(the console's `/api/`), and the console sends it signed requests with a fresh secret.
"""

from __future__ import annotations

import logging
import socket
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool

from bot.app.bootstrap import Releasebot, build, console_credentials
from bot.app.http import releasebot_app
from bot.app.settings import Settings
from bot.domain.config import (
    ADMINS,
    ANYONE,
    HttpCheck,
    PermissionAction,
    ReleasebotConfig,
    is_user_id,
    load_config,
)
from console.app import CLOSING, create_console_app
from console.demo import DemoRepoError, build_demo_repo, is_demo_repo_path
from console.persistence import keep_on_disk, workspace_file
from console.settings import ConsoleSettings, ConsoleUser
from console.workspace import Workspace

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
REQUESTER = "U0REQUESTER"
STRANGER = "U0STRANGER"
# Open event streams would otherwise hold a Ctrl-C for their whole lifetime.
GRACEFUL_SHUTDOWN_SECONDS = 2
# Their start-up chatter would bury the one line a person needs: the URL to open.
CHATTY_LOGGERS = ("alembic", "apscheduler", "uvicorn.error")

# Readable names for the example config's people; anyone else is named after their id.
DEMO_PEOPLE: dict[str, tuple[str, str]] = {
    REQUESTER: ("rita", "Engineer"),
    "U0APPROVER1": ("alice", "Release manager"),
    "U0APPROVER2": ("bob", "SRE"),
    "U0APPROVER3": ("carol", "Checkout service owner"),
    "U0ADMIN": ("ada", "Admin"),
    "U0QA": ("quinn", "QA"),
    STRANGER: ("sam", "Visitor from sales"),
}
ACTIONS: tuple[PermissionAction, ...] = ("plan", "deploy", "rollback", "freeze", "override")
CHANNEL_NAMES = {"releases": "releases", "announcements": "announcements", "oncall": "oncall"}


def people_in(config: ReleasebotConfig) -> tuple[list[str], list[str]]:
    """The user ids and the `@group` handles the config names, each once, in file order."""
    principals: list[str] = list(config.admins)
    for environment in config.environments.values():
        principals += environment.approvals.approvers
        principals += [item.assignee for item in environment.checklist]
        for action in ACTIONS:
            principals += environment.permissions.granted(action)
    users: list[str] = []
    groups: list[str] = []
    for principal in dict.fromkeys(principals):
        if principal in (ANYONE, ADMINS):
            continue
        if is_user_id(principal):
            users.append(principal)
        else:
            groups.append(principal.lstrip("@"))
    return users, groups


def demo_people(config: ReleasebotConfig) -> list[ConsoleUser]:
    """Who the switcher offers: the requester first, the config's people, a stranger last."""
    users, _ = people_in(config)
    admins = set(config.admins)
    ordered = [REQUESTER, *(u for u in users if u not in (REQUESTER, STRANGER)), STRANGER]
    people = []
    for user_id in ordered:
        name, title = DEMO_PEOPLE.get(user_id, (user_id.lower(), ""))
        people.append(ConsoleUser(user_id, name, title, is_admin=user_id in admins))
    return people


def demo_usergroups(config: ReleasebotConfig) -> list[tuple[str, str, list[str]]]:
    """Every `@handle` in the config, with one approver and the first admin as members."""
    _, groups = people_in(config)
    approvers = [
        a
        for environment in config.environments.values()
        for a in environment.approvals.approvers
        if is_user_id(a)
    ]
    admins = [a for a in config.admins if is_user_id(a)]
    # @sre is bob (an SRE who is also a listed approver) and the admin in the example config.
    on_rota = ["U0APPROVER2"] if "U0APPROVER2" in approvers else approvers[-1:]
    members = list(dict.fromkeys([*on_rota, *admins[:1]]))
    return [(f"S0{handle.upper().replace('-', '')}", handle, members) for handle in groups]


def demo_channels(config: ReleasebotConfig) -> list[tuple[str, str]]:
    """The configured channels, named after their role (#releases, #announcements, #oncall)."""
    found = []
    for role, name in CHANNEL_NAMES.items():
        channel_id = getattr(config.channels, role, None)
        if channel_id:
            found.append((str(channel_id), name))
    return found


def ensure_demo_repos(config: ReleasebotConfig) -> list[Path]:
    """Build the demo changelog repository where the config expects it and it is missing."""
    built = []
    for service in config.services.values():
        if service.repo_path is None:
            continue
        path = config.resolve_path(service.repo_path)
        if path.exists() or not is_demo_repo_path(path):
            continue
        try:
            built.append(build_demo_repo(path))
        except DemoRepoError as problem:
            # The bot works without it; announcements just say the changelog is unavailable.
            print(f"releasebot: no demo changelog: {problem.message}", file=sys.stderr)
    return built


def demo_check_urls(config: ReleasebotConfig, *, port: int) -> dict[str, str]:
    """Checks aimed at a console demo endpoint on another port, with the console's own URL.

    The example config names port 3000; a console started with `PORT=3150` serves the demo
    endpoint there, so its checks follow the console instead of reading whatever else listens
    on 3000 (or nothing).
    """
    moved = {}
    for name, check in config.checks.items():
        if not isinstance(check, HttpCheck):
            continue
        url = urlsplit(str(check.url))
        local = url.hostname in ("127.0.0.1", "localhost")
        if local and url.path.startswith("/demo/") and url.port not in (port, None):
            moved[name] = url._replace(netloc=f"{url.hostname}:{port}").geturl()
    return moved


def follow_console_port(config: ReleasebotConfig, *, port: int) -> ReleasebotConfig:
    """The config with its demo checks pointed at the console on `port`."""
    moved = demo_check_urls(config, port=port)
    if not moved:
        return config
    checks = dict(config.checks)
    for name, url in moved.items():
        checks[name] = checks[name].model_copy(update={"url": url})
    return config.model_copy(update={"checks": checks})


def build_console_stack(
    settings: Settings, *, config: ReleasebotConfig | None = None, port: int
) -> tuple[Starlette, Releasebot]:
    """The bot and the console in one ASGI app for 127.0.0.1:`port` (not yet serving)."""
    config = follow_console_port(config or load_config(Path(settings.config_path)), port=port)
    ensure_demo_repos(config)
    base_url = f"http://{HOST}:{port}"
    credentials = console_credentials(settings, base_url=base_url)
    console_settings = ConsoleSettings(
        signing_secret=credentials.signing_secret,
        bot_events_url=base_url + "/slack/events",
        bot_token=credentials.bot_token,
        channels=demo_channels(config),
        users=demo_people(config),
        usergroups=demo_usergroups(config),
        permalink_base=base_url,
    )
    console = create_console_app(console_settings)
    bot = build(settings, credentials=credentials, config=config)

    async def stop() -> None:
        # Stopping joins the delivery and rollout threads: keep the event loop free.
        # Closing releases the HTTP pool (the health check keeps a connection to us).
        await run_in_threadpool(bot.close)

    app = releasebot_app(
        bot, extra_routes=console.routes, on_start=bot.start_background, on_stop=stop
    )
    # The conversation outlives a restart, as the plans in the database do.
    keep_on_disk(
        console.state.workspace, workspace_file(settings.database_url, Path(settings.state_dir))
    )
    app.state.workspace = console.state.workspace
    app.state.health = console.state.health
    return app, bot


def quiet_startup_logs() -> None:
    """Keep warnings and errors of the migration, scheduler and server; drop their INFO lines."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def bind(port: int) -> socket.socket:
    """Listen on 127.0.0.1:`port` (0: any free port); OSError when it is taken."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError:
        listener.close()
        raise
    return listener


class ConsoleServer(uvicorn.Server):
    """uvicorn, ending the console's open event streams as soon as it is told to stop.

    A browser tab holds `/console/events` open; without this, Ctrl-C waits out the graceful
    shutdown and uvicorn cancels the stream with an error and a traceback.
    """

    def __init__(self, config: uvicorn.Config, workspace: Workspace) -> None:
        super().__init__(config)
        self.workspace = workspace

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.workspace.touch(CLOSING)
        super().handle_exit(sig, frame)


def server_for(app: Starlette) -> uvicorn.Server:
    """A uvicorn server for the console stack: quiet access log, short graceful shutdown."""
    return ConsoleServer(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="on",
            ws="none",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        ),
        app.state.workspace,
    )


def run_console(settings: Settings) -> int:
    """Serve the bot and the console on 127.0.0.1:$PORT until Ctrl-C."""
    port = settings.port
    try:
        listener = bind(port)
    except OSError as taken:
        print(
            f"releasebot: cannot listen on {HOST}:{port} ({taken.strerror}); "
            "is another console running? Set PORT to use another port.",
            file=sys.stderr,
        )
        return 1
    app, bot = build_console_stack(settings, port=port)
    print(
        f"Releasebot console: open http://{HOST}:{port} — type /release help "
        f"(config {settings.config_path}, database {settings.database_url}; Ctrl-C stops)",
        flush=True,
    )
    try:
        server_for(app).run(sockets=[listener])
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl-C it already handled (after a clean shutdown).
        print("releasebot: console stopped", flush=True)
    finally:
        listener.close()
        bot.db.engine.dispose()
    return 0
