"""A rollout engine in its own process, for the kill-and-restart test: run until killed."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx

from bot.domain.clock import SystemClock
from bot.domain.config import load_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.rollout.engine import RolloutEngine
from bot.store.db import Database, make_engine
from integrations.checks.registry import ProbeFactory
from integrations.deploy.registry import ConfiguredBackends


def build(database_url: str, config_path: Path, state_dir: Path) -> tuple[RolloutEngine, Database]:
    """The same engine the bot runs, on the real clock (and its database, to dispose of)."""
    config = load_config(config_path)
    clock = SystemClock()
    http = httpx.Client()
    db = Database(make_engine(database_url))
    engine = RolloutEngine(
        db=db,
        ctx=DomainContext(config=config, clock=clock, directory=StaticDirectory()),
        backends=ConfiguredBackends(
            config=config,
            http=http,
            state_dir=state_dir,
            public_url="http://127.0.0.1:3000",
            callback_lookup=lambda token: None,
        ),
        probes=ProbeFactory(config=config, http=http, clock=clock),
        poll_interval=timedelta(milliseconds=100),
    )
    return engine, db


if __name__ == "__main__":
    engine, _ = build(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    while True:  # runs until the test kills it
        engine.run_due()
        time.sleep(0.05)
