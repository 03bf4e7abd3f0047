"""The composition root: real adapters in production, the console's or fakes in tests."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from slack_bolt import App
from slack_sdk import WebClient
from sqlmodel import select

from bot.app.settings import Settings
from bot.app.wiring import wire_defaults
from bot.domain.clock import Clock, SystemClock
from bot.domain.config import ReleasebotConfig, load_config
from bot.domain.context import Directory, DomainContext
from bot.domain.redaction import redactor_for
from bot.notify.outbox import OutboxDispatcher
from bot.notify.outbox_queue import CORE_TEMPLATES
from bot.release.desk import Desk
from bot.rollout.engine import POLL_INTERVAL, RolloutEngine
from bot.store import retention
from bot.store.db import Database, make_engine
from bot.store.models import DeployCallback
from bot.timing import reminders
from bot.timing.kinds import UnknownKind, check_kinds
from bot.timing.scheduler import Scheduler

if TYPE_CHECKING:
    from commands.journal_runner import JournalRunner
    from integrations.deploy.registry import ConfiguredBackends

log = logging.getLogger(__name__)

CONSOLE_TOKEN = "xoxb-console-offline"


@dataclass
class SlackCredentials:
    """The bot token and signing secret, real or made up for the console."""

    bot_token: str
    signing_secret: str
    api_url: str


@dataclass
class Releasebot:
    """Everything one running bot is made of."""

    settings: Settings
    config: ReleasebotConfig
    db: Database
    desk: Desk
    client: WebClient
    app: App
    dispatcher: OutboxDispatcher
    engine: RolloutEngine
    backends: ConfiguredBackends
    credentials: SlackCredentials
    scheduler: Scheduler
    http: httpx.Client
    journal: JournalRunner
    started: bool = field(default=False)

    def start_background(self) -> None:
        """Start message delivery, the rollout engine and the scheduler; in-flight rollouts and
        journalled commands left by a crash are picked up (the journal's pass runs at once)."""
        if not self.started:
            self.dispatcher.start()
            self.engine.start()
            self.scheduler.start()
            self.started = True

    def stop(self) -> None:
        """Stop background work; owed messages and in-flight stages stay in the database."""
        if self.started:
            self.scheduler.stop()
            self.engine.stop()
            self.dispatcher.stop()
            self.started = False

    def close(self) -> None:
        """Stop, and release connections (HTTP pool, database pool)."""
        self.stop()
        self.http.close()
        self.db.engine.dispose()


def console_credentials(settings: Settings, *, base_url: str) -> SlackCredentials:
    """Offline credentials: a fresh signing secret and the console's Web API."""
    return SlackCredentials(
        bot_token=CONSOLE_TOKEN,
        signing_secret=secrets.token_hex(16),
        api_url=base_url.rstrip("/") + "/api/",
    )


def slack_credentials(settings: Settings) -> SlackCredentials:
    """The real workspace's credentials from the environment."""
    assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
    return SlackCredentials(
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        api_url=settings.slack_api_url,
    )


def refuse_unknown_kinds(*, handled: Iterable[str], rendered: Iterable[str]) -> None:
    """Stop with one line unless every reminder kind runs and every owed template is drawn."""
    try:
        check_kinds(
            reminders.KINDS, core_templates=CORE_TEMPLATES, handled=handled, rendered=rendered
        )
    except UnknownKind as problem:
        raise SystemExit(f"releasebot: refusing to start: {problem}") from None


def build(
    settings: Settings,
    *,
    credentials: SlackCredentials,
    config: ReleasebotConfig | None = None,
    clock: Clock | None = None,
    directory: Directory | None = None,
    executor: Executor | None = None,
    http: httpx.Client | None = None,
    poll_interval: timedelta = POLL_INTERVAL,
) -> Releasebot:
    """Wire one bot: config, database, domain, Slack client, Bolt app, delivery, rollouts."""
    from commands.app import build_app
    from commands.journal_runner import RECOVERY_SECONDS, JournalRunner
    from commands.slack_port import SlackDirectory, WebApiSlack, renderer, template_names
    from integrations.changelog import ConfiguredChangelogs
    from integrations.checks.registry import ProbeFactory
    from integrations.deploy.registry import ConfiguredBackends

    wire_defaults()  # the reminders hear plan/freeze events; auto-deploys start rollouts
    config = config or load_config(Path(settings.config_path))
    clock = clock or SystemClock()
    db = Database(make_engine(settings.database_url))
    client = WebClient(token=credentials.bot_token, base_url=credentials.api_url, timeout=10)
    ctx = DomainContext(config=config, clock=clock, directory=directory or SlackDirectory(client))
    http = http or httpx.Client(timeout=httpx.Timeout(15.0, connect=5.0))
    changelogs = ConfiguredChangelogs(config, environ=os.environ, http=http)
    dispatcher = OutboxDispatcher(
        db=db,
        slack=WebApiSlack(client),
        render=renderer(ctx, client, changelogs=changelogs),
        clock=clock,
        owner=settings.lease_owner,
    )

    def callback_lookup(token: str) -> dict[str, object] | None:
        with db.session() as session:
            row = session.exec(select(DeployCallback).where(DeployCallback.token == token)).first()
            return dict(row.payload) if row is not None else None

    redact = redactor_for(
        config,
        os.environ,
        database_url=settings.database_url,
        also=[
            credentials.bot_token,
            credentials.signing_secret,
            settings.slack_app_token.get_secret_value() if settings.slack_app_token else None,
        ],
    )
    backends = ConfiguredBackends(
        config=config,
        http=http,
        state_dir=settings.state_dir,
        public_url=settings.callback_base_url,
        callback_lookup=callback_lookup,
        redact=redact,
    )
    engine = RolloutEngine(
        db=db,
        ctx=ctx,
        backends=backends,
        probes=ProbeFactory(config=config, http=http, clock=clock, redact=redact),
        poll_interval=poll_interval,
        owner=settings.lease_owner,
    )

    def on_change() -> None:
        dispatcher.kick()
        engine.kick()

    desk = Desk(db=db, ctx=ctx, on_change=on_change, changelogs=changelogs)
    journal = JournalRunner(desk=desk)
    app = build_app(
        desk=desk,
        journal=journal,
        client=client,
        signing_secret=credentials.signing_secret,
        executor=executor,
    )
    scheduler = reminders.build_scheduler(
        db, ctx=ctx, on_messages=dispatcher.kick, owner=settings.lease_owner
    )
    refuse_unknown_kinds(handled=scheduler.runner.kinds, rendered=template_names())
    # Commands acked before a crash or during an outage: at start-up, then every few seconds.
    scheduler.add_interval(journal.recover, RECOVERY_SECONDS, name="command-journal")
    scheduler.add_interval(
        retention.pruner(db, clock=ctx.clock.now), retention.EVERY.total_seconds(), name="prune"
    )
    return Releasebot(
        settings=settings,
        config=config,
        db=db,
        desk=desk,
        client=client,
        app=app,
        dispatcher=dispatcher,
        engine=engine,
        backends=backends,
        credentials=credentials,
        scheduler=scheduler,
        http=http,
        journal=journal,
    )
