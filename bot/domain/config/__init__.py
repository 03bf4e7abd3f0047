"""The typed releasebot.toml: models, lookups and `load_config`."""

from bot.domain.config.backends import (
    BACKENDS,
    Backend,
    BackendRegistry,
    BackendSettings,
    UnregisteredBackends,
    anchored_command,
)
from bot.domain.config.checks import (
    Check,
    CheckSchedule,
    CheckType,
    CommandCheck,
    HttpCheck,
    PrometheusCheck,
    validate_condition,
)
from bot.domain.config.environments import (
    ApprovalPolicy,
    ChecklistItem,
    ChecklistPhase,
    Environment,
    Freeze,
    PermissionAction,
    Permissions,
)
from bot.domain.config.loader import load_config, parse_config
from bot.domain.config.model import Channels, ReleasebotConfig, Reminders
from bot.domain.config.problems import ConfigError, ConfigProblem
from bot.domain.config.secrets import (
    NeededSecret,
    needed_secrets,
    problem_lines,
    refusal_lines,
    unset_pass_env,
    unset_secrets,
)
from bot.domain.config.services import BackendName, FeatureFlag, Service
from bot.domain.config.strategies import BUILTIN_STRATEGIES, Step, Strategy, StrategyKind
from bot.domain.config.values import ADMINS, ANYONE, WorkingHours, is_group_handle, is_user_id

__all__ = [
    "ADMINS",
    "ANYONE",
    "BACKENDS",
    "BUILTIN_STRATEGIES",
    "ApprovalPolicy",
    "Backend",
    "BackendName",
    "BackendRegistry",
    "BackendSettings",
    "Channels",
    "Check",
    "CheckSchedule",
    "CheckType",
    "ChecklistItem",
    "ChecklistPhase",
    "CommandCheck",
    "ConfigError",
    "ConfigProblem",
    "Environment",
    "FeatureFlag",
    "Freeze",
    "HttpCheck",
    "NeededSecret",
    "PermissionAction",
    "Permissions",
    "PrometheusCheck",
    "ReleasebotConfig",
    "Reminders",
    "Service",
    "Step",
    "Strategy",
    "StrategyKind",
    "UnregisteredBackends",
    "WorkingHours",
    "anchored_command",
    "is_group_handle",
    "is_user_id",
    "load_config",
    "needed_secrets",
    "parse_config",
    "problem_lines",
    "refusal_lines",
    "unset_pass_env",
    "unset_secrets",
    "validate_condition",
]
