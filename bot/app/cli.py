"""`releasebot` and its sub-commands (SPEC §8): console, serve, socket, migrate, check-config."""

from __future__ import annotations

import argparse
import logging
import os
import socket as net
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.app import logs
from bot.app.settings import Settings

log = logging.getLogger("releasebot")


def _load_config_or_exit(settings: Settings) -> None:
    from bot.domain.config import ConfigError, load_config

    path = Path(settings.config_path)
    if not path.is_file():
        # A newcomer in an empty directory: say what to write, not that it is "invalid".
        print(
            f"releasebot: refusing to start: {path}: file not found; write one there (the "
            "repository's releasebot.toml is a commented example) or set RELEASEBOT_CONFIG",
            file=sys.stderr,
        )
        raise SystemExit(2)
    try:
        load_config(path)
    except ConfigError as problem:
        print(f"releasebot: refusing to start, {settings.config_path} is invalid:", file=sys.stderr)
        print(str(problem), file=sys.stderr)
        raise SystemExit(2) from problem


def _refuse_missing_secrets(settings: Settings) -> None:
    from bot.domain.config import load_config, refusal_lines, unset_secrets

    missing = unset_secrets(load_config(Path(settings.config_path)), os.environ)
    if missing:
        print("releasebot: refusing to start, secrets are not set:", file=sys.stderr)
        for line in refusal_lines(missing):
            print(f"releasebot: {line}", file=sys.stderr)
        raise SystemExit(2)


def check_config(settings: Settings) -> int:
    """Validate the config file and the secrets it names; print each problem with its location."""
    from bot.domain.config import (
        ConfigError,
        load_config,
        problem_lines,
        unset_pass_env,
        unset_secrets,
    )

    try:
        config = load_config(Path(settings.config_path))
    except ConfigError as problem:
        print(str(problem))
        return 1
    # A listed pass_env variable may be optional for its script: named, but not a failure.
    for line in unset_pass_env(config, os.environ):
        print(f"{settings.config_path}: warning: {line}")
    missing = unset_secrets(config, os.environ)
    if missing:
        for line in problem_lines(missing):
            print(f"{settings.config_path}: {line}")
        return 1
    print(
        f"{settings.config_path}: ok — {len(config.services)} services, "
        f"{len(config.environments)} environments, {len(config.checks)} checks"
    )
    return 0


def migrate(settings: Settings, *, quiet: bool = False) -> int:
    """Upgrade the database to the newest schema."""
    from bot.app.migrate import upgrade

    if not quiet:
        # `releasebot migrate` names each migration it applies; nothing else logs alembic.
        logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
    with _database_problems(settings):
        upgrade(settings.database_url)
    print("releasebot: database is at the newest schema")
    return 0


@contextmanager
def _database_problems(settings: Settings) -> Iterator[None]:
    """Turn a database that cannot be used into one line that says what to check."""
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from bot.store.health import DatabaseUnusable, describe_failure

    try:
        yield
    except (SQLAlchemyError, ArgumentError, DatabaseUnusable) as failure:
        raise SystemExit(
            f"releasebot: {describe_failure(settings.database_url, failure)}"
        ) from None


def _refuse_unusable_database(settings: Settings) -> None:
    """Start only on a reachable, migrated database that takes writes."""
    from bot.app.migrate import is_current
    from bot.store.db import Database, make_engine
    from bot.store.health import WriteCheck

    with _database_problems(settings):
        engine = make_engine(settings.database_url)
        try:
            if not is_current(engine, settings.database_url):
                raise SystemExit(
                    "releasebot: the database schema is not current; run `releasebot migrate`"
                )
            check = WriteCheck(Database(engine))
            try:
                check.check(datetime.now(UTC))
            finally:
                check.close()
        finally:
            engine.dispose()


def serve(settings: Settings) -> int:
    """HTTP mode against a real workspace."""
    import uvicorn

    from bot.app.bootstrap import build, slack_credentials
    from bot.app.http import releasebot_app

    settings.require_slack()
    _load_config_or_exit(settings)
    _refuse_missing_secrets(settings)
    _refuse_unusable_database(settings)
    # The port first: holding it is what makes this process the only one of its slot, so
    # only then may it take back the leases its predecessor left (bot.store.leases).
    listener = _listen(settings.host, settings.port)
    bot = build(settings, credentials=slack_credentials(settings))
    bot.start_background()
    try:
        server = uvicorn.Server(
            uvicorn.Config(releasebot_app(bot), log_config=None, access_log=False)
        )
        server.run(sockets=[listener])
    finally:
        bot.stop()
        listener.close()
    return 0


def _listen(host: str, port: int) -> net.socket:
    """A socket bound to host:port, or one line saying the port is taken."""
    family = net.AF_INET6 if ":" in host else net.AF_INET
    listener = net.socket(family, net.SOCK_STREAM)
    listener.setsockopt(net.SOL_SOCKET, net.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as taken:
        listener.close()
        raise SystemExit(
            f"releasebot: cannot listen on {host}:{port} ({taken.strerror}); "
            "is another releasebot running? Set PORT to use another port."
        ) from None
    return listener


def socket(settings: Settings) -> int:
    """Socket Mode against a real workspace (no public URL needed)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app.bootstrap import SlackCredentials, build

    settings.require_slack(socket=True)
    _load_config_or_exit(settings)
    _refuse_missing_secrets(settings)
    _refuse_unusable_database(settings)
    assert settings.slack_bot_token is not None and settings.slack_app_token is not None
    credentials = SlackCredentials(
        bot_token=settings.slack_bot_token.get_secret_value(),
        # Socket Mode requests are not signed; Bolt skips verification for them.
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else "socket-mode"
        ),
        api_url=settings.slack_api_url,
    )
    app_token = settings.slack_app_token.get_secret_value()
    _refuse_unusable_slack(settings.slack_api_url, credentials.bot_token, app_token)
    bot = build(settings, credentials=credentials)
    bot.start_background()
    try:
        with _slack_problems(settings.slack_api_url, "SLACK_APP_TOKEN"):
            SocketModeHandler(bot.app, app_token).start()  # type: ignore[no-untyped-call]
    finally:
        bot.stop()
    return 0


TOKEN_HINTS = {
    "SLACK_BOT_TOKEN": "check it is the bot token (xoxb-…) of the app installed in this workspace",
    "SLACK_APP_TOKEN": "check it is an app-level token (xapp-…) with connections:write and that "
    "Socket Mode is on for the app",
}


def _refuse_unusable_slack(api_url: str, bot_token: str, app_token: str) -> None:
    """Ask Slack about both tokens before starting; one line when it refuses or is away."""
    from slack_sdk import WebClient

    # Its own error line per attempt would bury ours: the failure is reported once, below.
    quiet = logging.getLogger("releasebot.startup.slack")
    quiet.disabled = True
    client = WebClient(base_url=api_url, timeout=10, logger=quiet)
    with _slack_problems(api_url, "SLACK_BOT_TOKEN"):
        client.auth_test(token=bot_token)
    with _slack_problems(api_url, "SLACK_APP_TOKEN"):
        # The URL it hands out is simply left unused (Slack lets it expire).
        client.apps_connections_open(app_token=app_token)


@contextmanager
def _slack_problems(api_url: str, token_name: str) -> Iterator[None]:
    """Turn Slack refusing `token_name`, or being out of reach, into one line."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        yield
    except SlackApiError as refused:
        error = refused.response.get("error") if refused.response is not None else None
        raise SystemExit(
            f"releasebot: Slack refused {token_name} ({error or refused}); "
            f"{TOKEN_HINTS[token_name]}"
        ) from None
    except (OSError, SlackClientError) as away:
        reason = " ".join(str(getattr(away, "reason", None) or away).split())[:200]
        raise SystemExit(
            f"releasebot: cannot reach Slack at {api_url} ({reason}); check SLACK_API_URL and "
            "this host's network (proxy, firewall, DNS)"
        ) from None


def _demo_config_if_none(settings: Settings) -> Settings:
    """No `releasebot.toml` here and none named: the console runs the bundled demo config.

    The bundled copy (the repository's commented example and its demo deploy script) is
    written under the state directory, so its relative paths work and a person can read it;
    `serve` never does this, it needs a real config.
    """
    path = Path(settings.config_path)
    if path.is_file() or "RELEASEBOT_CONFIG" in os.environ:
        return settings
    from console.demo import copy_demo_kit

    copied = copy_demo_kit(settings.state_dir / "demo-config")
    here = path.absolute()
    print(
        f"releasebot: no {path} in {here.parent}; the console runs the bundled demo "
        f"configuration ({copied}). To write your own, copy it to {here} and edit it, or set "
        f"RELEASEBOT_CONFIG; `releasebot serve` needs a real one.",
        file=sys.stderr,
    )
    return settings.model_copy(update={"config_path": copied})


def console(settings: Settings) -> int:
    """The whole bot offline with the local Slack console."""
    from bot.app.console import quiet_startup_logs, run_console

    # A person watches this terminal: one readable line per event, not JSON (serve keeps JSON).
    logs.configure(readable=True)
    quiet_startup_logs()
    settings = _demo_config_if_none(settings)
    _load_config_or_exit(settings)
    migrate(settings, quiet=True)
    _refuse_unusable_database(settings)
    return run_console(settings)


COMMANDS = {
    "console": console,
    "serve": serve,
    "socket": socket,
    "migrate": migrate,
    "check-config": check_config,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `releasebot` console script."""
    parser = argparse.ArgumentParser(prog="releasebot", description="Slack chat-ops for releases.")
    parser.add_argument(
        "command",
        nargs="?",
        default="console",
        choices=sorted(COMMANDS),
        help="what to run (default: console, the whole bot offline)",
    )
    args = parser.parse_args(argv)
    logs.configure()
    return COMMANDS[args.command](Settings())


if __name__ == "__main__":
    sys.exit(main())
