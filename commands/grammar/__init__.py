"""The `/release` command grammar: text -> typed command or UsageError; pure, no Slack.

Which sub-commands exist is declared in `commands/registry.py`, which builds the `Grammar`.
"""

from .arguments import Arguments
from .errors import ArgumentError, UsageError
from .model import (
    Approve,
    Audit,
    Cancel,
    Checks,
    Command,
    Deploy,
    Edit,
    Freeze,
    Freezes,
    Help,
    History,
    ListPlans,
    New,
    Notes,
    Plan,
    Reject,
    Rollback,
    RolloutAction,
    RolloutVerb,
    Show,
    Tick,
    Unfreeze,
    Unlock,
)
from .parser import INPUT_LIMIT, Grammar, Syntax
from .usage import TIMES
from .values import NAME_LIMIT, TEXT_LIMIT, VERSION_LIMIT

__all__ = [
    "INPUT_LIMIT",
    "NAME_LIMIT",
    "TEXT_LIMIT",
    "TIMES",
    "VERSION_LIMIT",
    "Approve",
    "ArgumentError",
    "Arguments",
    "Audit",
    "Cancel",
    "Checks",
    "Command",
    "Deploy",
    "Edit",
    "Freeze",
    "Freezes",
    "Grammar",
    "Help",
    "History",
    "ListPlans",
    "New",
    "Notes",
    "Plan",
    "Reject",
    "Rollback",
    "RolloutAction",
    "RolloutVerb",
    "Show",
    "Syntax",
    "Tick",
    "Unfreeze",
    "Unlock",
    "UsageError",
]
