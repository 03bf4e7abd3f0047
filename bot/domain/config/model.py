"""The whole releasebot.toml as one typed, validated value, with the lookups the domain uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from bot.domain.config.backends import BackendSettings, anchored_command
from bot.domain.config.base import ConfigModel, Loc, raise_problems
from bot.domain.config.checks import Check
from bot.domain.config.environments import Environment
from bot.domain.config.freeze_windows import overlap_problems
from bot.domain.config.problems import humanize
from bot.domain.config.references import prepare, reference_problems, secret_problems
from bot.domain.config.services import Service
from bot.domain.config.strategies import BUILTIN_STRATEGIES, Strategy
from bot.domain.config.values import (
    WEEKDAYS,
    ChannelId,
    Cron,
    Name,
    PositiveDuration,
    Principal,
    TimeZoneName,
    Weekday,
    WorkingHours,
    WorkingHoursSpan,
    unknown_name,
)
from bot.domain.errors import InvalidInput, NotFound


class Channels(ConfigModel):
    """Where releasebot posts."""

    releases: ChannelId = Field(
        description='the channel id for cards, threads and rollback alerts, e.g. "C0RELEASES"'
    )
    announcements: ChannelId | None = None
    oncall: ChannelId | None = None


class Reminders(ConfigModel):
    """When releasebot nudges people; times are read in the top-level timezone."""

    before_window: list[PositiveDuration] = Field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=1), timedelta(minutes=15)]
    )
    approval_every: PositiveDuration = timedelta(hours=4)
    working_hours: WorkingHoursSpan = WorkingHours(time(9), time(18))
    working_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    digest: Cron = "0 9 * * MON"
    # A rollout waiting at a manual gate this long has its thread told who can Promote it.
    gate_nudge_after: PositiveDuration = timedelta(minutes=30)

    @property
    def working_weekdays(self) -> frozenset[int]:
        """Working days as datetime.weekday() numbers (Monday is 0)."""
        return frozenset(WEEKDAYS.index(day) for day in self.working_days)


class ReleasebotConfig(ConfigModel):
    """A validated releasebot.toml. Build it with `load_config`, which also sets `base_dir`."""

    timezone: TimeZoneName = "UTC"
    admins: list[Principal] = Field(default_factory=list)
    channels: Channels = Field(description='needs at least releases = "C…"')
    reminders: Reminders = Field(default_factory=Reminders)
    environments: dict[Name, Environment] = Field(
        min_length=1, description="define at least one [environments.<name>] table"
    )
    services: dict[Name, Service] = Field(
        min_length=1, description="define at least one [services.<name>] table"
    )
    strategies: dict[Name, Strategy] = Field(default_factory=dict)
    checks: dict[Name, Check] = Field(default_factory=dict)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @model_validator(mode="wrap")
    @classmethod
    def _report_every_problem(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        # Field errors, cross-table references and secrets are gathered together so that one
        # run shows the admin everything that is wrong, each at its own key.
        if not isinstance(data, Mapping):
            return handler(data)
        prepared = prepare(data)
        secrets = secret_problems(prepared)
        problems: list[tuple[Loc, str]] = list(secrets)
        config: Self | None = None
        try:
            config = handler(prepared)
        except ValidationError as error:
            for detail in error.errors():
                loc, message = humanize(cls, detail)
                # A literal secret is already reported; its "unknown key" or type error is noise.
                if not any(loc[: len(secret)] == secret for secret, _ in secrets):
                    problems.append((loc, message))
        problems += reference_problems(prepared)
        problems += overlap_problems(prepared)
        # The same rule can fire from a table's own validator and from the raw cross-check.
        problems = list(dict.fromkeys(problems))
        problems.sort(key=lambda problem: _position(prepared, problem[0]))
        raise_problems(cls.__name__, problems)
        assert config is not None  # no problems means the handler returned
        base_dir = (info.context or {}).get("base_dir")
        if base_dir is not None:
            config._base_dir = Path(base_dir)
        return config

    @property
    def tz(self) -> ZoneInfo:
        """The team's time zone: times typed without an offset and cron freezes use it."""
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        """The folder of the config file; relative paths in it are relative to this."""
        return self._base_dir

    def resolve_path(self, path: str) -> Path:
        """A path from the file, made absolute against `base_dir`."""
        return (self._base_dir / Path(path).expanduser()).resolve()

    def resolve_command(self, command: Sequence[str]) -> list[str]:
        """The argument list with a `./` or `../` program resolved against `base_dir`."""
        return anchored_command(self._base_dir, command)

    def environment(self, name: str) -> Environment:
        """The environment called `name`, or NotFound listing the known ones."""
        if name not in self.environments:
            raise NotFound(unknown_name("environment", name, list(self.environments)))
        return self.environments[name]

    def ordered_environments(self) -> list[tuple[str, Environment]]:
        """Environments by `order`, then in file order."""
        return sorted(self.environments.items(), key=lambda item: item[1].order)

    def service(self, name: str) -> Service:
        """The service called `name`, or NotFound listing the known ones."""
        if name not in self.services:
            raise NotFound(unknown_name("service", name, list(self.services)))
        return self.services[name]

    def check(self, name: str) -> Check:
        """The check called `name`, or NotFound listing the known ones."""
        if name not in self.checks:
            raise NotFound(unknown_name("check", name, list(self.checks)))
        return self.checks[name]

    def strategy(self, name: str) -> Strategy:
        """A `[strategies.<name>]` table or a built-in (all_at_once, blue_green)."""
        known = {**BUILTIN_STRATEGIES, **self.strategies}
        if name not in known:
            raise NotFound(
                unknown_name(
                    "strategy", name, list(dict.fromkeys([*self.strategies, *BUILTIN_STRATEGIES]))
                )
            )
        return known[name]

    def strategy_for(self, service_name: str, override: str | None = None) -> Strategy:
        """The strategy a plan of this service uses: the plan's override, else the service's."""
        service = self.service(service_name)
        name = override or service.strategy
        strategy = self.strategy(name)
        if strategy.kind == "feature_flag" and service.flag is None:
            raise InvalidInput(
                f"strategy '{name}' turns on a feature flag, but service '{service_name}' "
                "has no flag configured"
            )
        return strategy

    def auto_deploys(self, service_name: str, environment_name: str) -> bool:
        """Whether approved plans start by themselves when their window opens."""
        service = self.service(service_name)
        if service.auto_deploy is not None:
            return service.auto_deploy
        return self.environment(environment_name).auto_deploy

    def backend_settings(self, service_name: str) -> BackendSettings:
        """The service's backend settings, defaults filled and the command path resolved."""
        return self.service(service_name).backend_settings().anchored(self._base_dir)

    def repo_path(self, service_name: str) -> Path | None:
        """The service's local git repository (for the changelog), resolved."""
        path = self.service(service_name).repo_path
        return self.resolve_path(path) if path else None


def _position(data: Mapping[str, Any], loc: Loc) -> tuple[int, ...]:
    """Where a key sits in the file, so problems are listed top to bottom."""
    position: list[int] = []
    node: object = data
    for part in loc:
        if isinstance(node, Mapping):
            keys = list(node)
            position.append(keys.index(part) if part in node else len(keys))
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int):
            position.append(part)
            node = node[part] if part < len(node) else None
        else:
            position.append(0)
            node = None
    return tuple(position)
