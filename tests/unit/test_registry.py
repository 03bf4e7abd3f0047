"""The sub-command registry is the one source: grammar, help and dispatch all follow it."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from commands import release
from commands.grammar import Help
from commands.registry import BY_COMMAND, NAMES, REGISTRY, parse_command, usage_for
from commands.subcommand import Kind, SubCommand

# Late enough that the examples' `until +2h` ends after their start (2026-11-25T09:00 at most).
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
# A typed `/release …` in a usage text with nothing to fill in: an example or a bare form.
_TYPED = re.compile(r"`/release ([^`<\[(|]+)`")
# How the handler of each kind is called by commands/release.py.
_CALLED_WITH = {
    Kind.READ: {"desk": None, "user_id": "U0QA"},
    Kind.SLOW_READ: {"desk": None, "user_id": "U0QA"},
    Kind.WRITE: {"desk": None, "user_id": "U0QA", "request_key": "k"},
    Kind.FORM: {"desk": None, "trigger_id": "t", "channel_id": "C0RELEASES"},
}


def _by_name(name: str) -> SubCommand:
    [found] = [sub for sub in REGISTRY if sub.name == name]
    return found


def test_names_are_unique_and_the_grammar_knows_exactly_them() -> None:
    assert len(NAMES) == len(set(NAMES)) == len(REGISTRY)
    assert set(NAMES) == {sub.name for sub in REGISTRY}


@pytest.mark.parametrize("name", NAMES)
def test_every_declared_name_parses_into_its_command(name: str) -> None:
    declared = _by_name(name)
    examples = _TYPED.findall(declared.usage)
    assert examples, f"{name}: its usage shows no example to type"
    for typed in examples:
        # As Slack sends a mention: `@alice` arrives as `<@U0ALICE|alice>`.
        typed = re.sub(r"@([a-z]+)", lambda m: f"<@U0{m[1].upper()}|{m[1]}>", typed)
        parsed = parse_command(typed, now=NOW, tz=ZoneInfo("UTC"))
        assert type(parsed) is declared.command, typed
        assert BY_COMMAND[type(parsed)].kind is declared.kind
    assert parse_command(f"{name} --help", now=NOW, tz=ZoneInfo("UTC")) == Help(topic=name)


@pytest.mark.parametrize("name", NAMES)
def test_every_declared_name_has_its_usage(name: str) -> None:
    usage = usage_for(name)
    assert usage == _by_name(name).usage
    assert usage.startswith(f"`/release {name}")


@pytest.mark.parametrize("name", NAMES)
def test_every_declared_name_has_a_handler_callable_as_its_kind_is(name: str) -> None:
    declared = _by_name(name)
    first = object()
    inspect.signature(declared.handler).bind(first, **_CALLED_WITH[declared.kind])


def test_help_lists_exactly_the_registry() -> None:
    overview = usage_for(None)
    listed = {
        word
        for names in re.findall(r"`/release ([a-z]+(?:\|[a-z]+)*)", overview)
        for word in names.split("|")
    }
    assert listed == set(NAMES)
    assert overview.endswith("`/release help <sub-command>` explains one with an example.")


def test_the_ack_answers_exactly_the_declared_reads() -> None:
    reads = {sub.name for sub in REGISTRY if sub.kind is Kind.READ}
    assert {"", *reads} == release.READ_WORDS
    assert {"help", "show", "list"} <= reads
    assert _by_name("notes").kind is Kind.SLOW_READ
    assert _by_name("deploy").kind is Kind.WRITE
