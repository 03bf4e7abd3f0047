"""The typed releasebot.toml: models, lookups and `load_config`."""

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
from bot.domain.config.services import (
    ArgoCdSettings,
    BackendName,
    BackendSettings,
    CommandSettings,
    FeatureFlag,
    GithubActionsSettings,
    JenkinsSettings,
    Service,
    WebhookSettings,
)
from bot.domain.config.strategies import BUILTIN_STRATEGIES, Step, Strategy, StrategyKind
from bot.domain.config.values import ADMINS, ANYONE, WorkingHours, is_group_handle, is_user_id

__all__ = [
    "ADMINS",
    "ANYONE",
    "BUILTIN_STRATEGIES",
    "ApprovalPolicy",
    "ArgoCdSettings",
    "BackendName",
    "BackendSettings",
    "Channels",
    "Check",
    "CheckSchedule",
    "CheckType",
    "ChecklistItem",
    "ChecklistPhase",
    "CommandCheck",
    "CommandSettings",
    "ConfigError",
    "ConfigProblem",
    "Environment",
    "FeatureFlag",
    "Freeze",
    "GithubActionsSettings",
    "HttpCheck",
    "JenkinsSettings",
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
    "WebhookSettings",
    "WorkingHours",
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
