"""Rules that span tables (references between names, secrets anywhere), read from raw TOML.

They read the raw document rather than the validated model so that they are reported even
when some other table fails validation: the admin sees every problem in one run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain.config.base import Loc
from bot.domain.config.services import backend_key_problems
from bot.domain.config.strategies import STRATEGY_KINDS
from bot.domain.config.values import is_name, toml_repr, unknown_name

BUILTIN_STRATEGY_NAMES = ("all_at_once", "blue_green")

_SECRET_KEY = re.compile(
    r"token|secret|password|passwd|passphrase|api[_-]?key|private[_-]?key|credential",
    re.IGNORECASE,
)


def prepare(data: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the document with each strategy's `kind` inferred from its table name."""
    prepared = dict(data)
    strategies = data.get("strategies")
    if isinstance(strategies, Mapping):
        prepared["strategies"] = {
            name: (
                {"kind": name, **table}
                if isinstance(table, Mapping) and name in STRATEGY_KINDS and "kind" not in table
                else table
            )
            for name, table in strategies.items()
        }
    return prepared


def secret_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Every key that looks like it holds a literal secret (token_env-style names are fine)."""
    problems: list[tuple[Loc, str]] = []
    for loc, key, value in _walk(data, ()):
        if key.lower().endswith("_env") or not _SECRET_KEY.search(key):
            continue
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            name, example = (
                ("secret_env", "WEBHOOK_SECRET")
                if "secret" in key.lower()
                else ("token_env", "DEPLOY_TOKEN")
            )
            problems.append(
                (
                    loc,
                    "a literal secret must not be written in this file; put it in an environment "
                    f'variable and name it with {name}, e.g. {name} = "{example}"',
                )
            )
    return problems


def _walk(node: object, loc: Loc) -> list[tuple[Loc, str, object]]:
    found: list[tuple[Loc, str, object]] = []
    if isinstance(node, Mapping):
        for key, value in node.items():
            found.append(((*loc, key), str(key), value))
            found += _walk(value, (*loc, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _walk(item, (*loc, index))
    return found


def reference_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Names used in one table that another table must define (and `requires` cycles)."""
    return [
        *_requires_problems(_table(data, "environments")),
        *_service_problems(data),
        *_strategy_problems(data),
    ]


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def _strings(value: object) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, str)]


def _requires_problems(environments: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    known = list(environments)
    requires = {
        name: table["requires"]
        for name, table in environments.items()
        if isinstance(table, Mapping) and isinstance(table.get("requires"), str)
    }
    problems: list[tuple[Loc, str]] = []
    reported: set[str] = set()
    for name in known:
        if name not in requires:
            continue
        if requires[name] not in environments:
            problems.append(
                (
                    ("environments", name, "requires"),
                    unknown_name("environment", requires[name], known),
                )
            )
            continue
        path = [name]
        while (following := requires.get(path[-1])) is not None and following in environments:
            if following in path:
                cycle = path[path.index(following) :]
                if name == cycle[0] and not reported & set(cycle):
                    reported.update(cycle)
                    chain = " → ".join([*cycle, following])
                    problems.append(
                        (("environments", name, "requires"), f"requires forms a cycle: {chain}")
                    )
                break
            path.append(following)
    return problems


def _strategy_kind(data: Mapping[str, Any], name: str) -> str | None:
    table = _table(data, "strategies").get(name)
    if isinstance(table, Mapping):
        kind = table.get("kind")
        return kind if isinstance(kind, str) else None
    return name if name in BUILTIN_STRATEGY_NAMES else None


def _service_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    environments = list(_table(data, "environments"))
    checks = list(_table(data, "checks"))
    strategies = list(dict.fromkeys([*_table(data, "strategies"), *BUILTIN_STRATEGY_NAMES]))
    problems: list[tuple[Loc, str]] = []
    for name, service in _table(data, "services").items():
        if not isinstance(service, Mapping):
            continue
        at: Loc = ("services", name)
        backend = service.get("backend", "command")
        if isinstance(backend, str):
            written = [key for key, value in service.items() if value is not None]
            for loc, text in backend_key_problems(backend, written):
                problems.append(((*at, *loc), text))
        strategy = service.get("strategy")
        if isinstance(strategy, str) and strategy not in strategies:
            problems.append(((*at, "strategy"), unknown_name("strategy", strategy, strategies)))
        if (
            isinstance(strategy, str)
            and _strategy_kind(data, strategy) == "feature_flag"
            and "flag" not in service
        ):
            problems.append(
                (
                    (*at, "flag"),
                    f"strategy '{strategy}' turns on a feature flag, so this service needs "
                    'flag = { provider = "launchdarkly", key = "<flag key>" } (or unleash)',
                )
            )
        for index, check in _strings(service.get("checks")):
            if check not in checks:
                problems.append(((*at, "checks", index), unknown_name("check", check, checks)))
        for index, environment in _strings(service.get("environments")):
            if environment not in environments:
                problems.append(
                    (
                        (*at, "environments", index),
                        unknown_name("environment", environment, environments),
                    )
                )
        problems += _flag_environment_problems(at, service, environments)
    return problems


def _flag_environment_problems(
    at: Loc, service: Mapping[str, Any], environments: list[str]
) -> list[tuple[Loc, str]]:
    """A flag's provider environment must follow the release, never one for all releases."""
    flag = service.get("flag")
    chosen = flag.get("environment") if isinstance(flag, Mapping) else None
    if isinstance(chosen, Mapping):
        return [
            ((*at, "flag", "environment", key), unknown_name("environment", key, environments))
            for key in chosen
            if key not in environments and is_name(key)
        ]
    targets = [name for _, name in _strings(service.get("environments"))] or environments
    if not isinstance(chosen, str) or not chosen.strip() or len(set(targets)) < 2:
        return []
    example = ", ".join(f'{name} = "..."' for name in dict.fromkeys(targets))
    # A staging release must never turn a production flag on.
    return [
        (
            (*at, "flag", "environment"),
            f"{toml_repr(chosen)} would be changed by releases to every environment "
            f"({', '.join(dict.fromkeys(targets))}); leave it out to use each release's own "
            f"environment, or map them: environment = {{ {example} }}",
        )
    ]


def _strategy_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    checks = list(_table(data, "checks"))
    problems: list[tuple[Loc, str]] = []
    for name, strategy in _table(data, "strategies").items():
        if not isinstance(strategy, Mapping):
            continue
        kind = strategy.get("kind")
        if name in STRATEGY_KINDS and isinstance(kind, str) and kind != name:
            problems.append(
                (
                    ("strategies", name, "kind"),
                    f"a strategy named '{name}' must be of kind '{name}'; "
                    f"rename the table to give a {kind} strategy its own name",
                )
            )
        steps = strategy.get("steps")
        for index, step in enumerate(steps if isinstance(steps, list) else []):
            if not isinstance(step, Mapping):
                continue
            for position, check in _strings(step.get("analysis")):
                if check not in checks:
                    loc: Loc = ("strategies", name, "steps", index, "analysis", position)
                    problems.append((loc, unknown_name("check", check, checks)))
    return problems
