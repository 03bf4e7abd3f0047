"""Small steps many tests share."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from bot.domain.config import ReleasebotConfig, parse_config
from bot.domain.context import DomainContext
from bot.domain.lifecycle import Event
from bot.release import plans
from bot.store.models import ReleasePlan

BASE_CONFIG = Path(__file__).parent / "fixtures" / "releasebot.toml"
WITHOUT_STAGES = (Event.DEPLOY, Event.STAGES_DONE, Event.CHECKS_PASSED)


def walk_to_released(
    session: Session, *, ctx: DomainContext, plan: ReleasePlan, actor: str = "U0REQUESTER"
) -> None:
    """Move `plan` to released through the lifecycle, as the engine does for a rollout without
    stages (deploy, stages done, checks passed), so a later environment may plan its version."""
    for event in WITHOUT_STAGES:
        plans.transition(session, ctx=ctx, plan=plan, event=event, actor=actor)


def config_with(
    extra: str = "", *, replace: tuple[tuple[str, str], ...] = (), base: Path = BASE_CONFIG
) -> ReleasebotConfig:
    """The test config with text replaced and more TOML (e.g. a permissions table) appended."""
    text = base.read_text()
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    return parse_config(text + "\n" + extra, path=base)
