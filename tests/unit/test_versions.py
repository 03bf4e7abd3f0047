"""Versions reach the deploy command as an argument: nothing option-like or path-like gets in
(issue 9.8), while every ordinary version form (semver, calver, shas, git refs, image tags)
still does."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.versions import VERSION_RULE, is_safe_version
from commands.grammar import Edit, Plan, UsageError
from commands.ids import BlockId
from commands.modals import new_plan_from
from commands.registry import parse_command

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

REFUSED = [
    "--help",
    "-rf",
    "-",
    "../../etc/passwd",
    "..",
    "v1/../../secrets",
    "1.2..3",
    "/etc/passwd",
    "./deploy.sh",
    ".hidden",
    "release//1.4",
    "release/",
    "release/-x",
    "refs/.git/config",
    "C:\\Windows",
    "a\\b",
    "v1.2\u00e9",
    "\uff561\u2025/x",  # full-width v and a two-dot leader: NFKC makes it `v1../x`
]

ACCEPTED = [
    "1.4.2",
    "v2.0.0-rc.1",
    "2026.11.26+build.7",
    "2026.11.26",
    "a1b2c3d",
    "0123456789abcdef0123456789abcdef01234567",
    "release/1.4",
    "refs/tags/v2.0",
    "ghcr.io/acme/checkout@sha256:ab12",
    "1.0.0-alpha+001",
    "1.0.0-x-y-z.--",
    "v1.2.3_hotfix",
]


def parse(text: str) -> object:
    return parse_command(text, now=NOW, tz=ZoneInfo("UTC"))


@pytest.mark.parametrize("version", REFUSED)
def test_option_and_path_like_versions_are_refused_by_plan_with_one_message(
    version: str,
) -> None:
    with pytest.raises(UsageError) as caught:
        parse(f"plan checkout {version} to staging")
    assert caught.value.message == f"'{version}' is not a valid version: {VERSION_RULE}"
    assert caught.value.subcommand == "plan"


@pytest.mark.parametrize("version", ["--help", "-rf", "../../etc/passwd"])
def test_edit_refuses_them_too(version: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(f"edit R-3 version {version}")
    assert caught.value.message == f"'{version}' is not a valid version: {VERSION_RULE}"
    assert caught.value.subcommand == "edit"


def test_the_plan_form_refuses_them_under_the_version_field() -> None:
    values = {
        BlockId.SERVICE: {"value": {"selected_option": {"value": "checkout"}}},
        BlockId.ENVIRONMENT: {"value": {"selected_option": {"value": "staging"}}},
        BlockId.VERSION: {"value": {"value": " --help "}},
    }
    new, errors = new_plan_from(values)
    assert new is None
    assert errors == {BlockId.VERSION: f"'--help' is not a valid version: {VERSION_RULE}"}


@pytest.mark.parametrize("version", ACCEPTED)
def test_ordinary_versions_are_accepted_as_written(version: str) -> None:
    assert parse(f"plan checkout {version} to staging") == Plan(
        service="checkout", version=version, environment="staging"
    )
    assert parse(f"edit R-3 version {version}") == Edit(plan_id=3, version=version)


_NUMBER = st.integers(min_value=0, max_value=10**6).map(str)
_ALPHANUMERIC = st.text(
    alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-",
    min_size=1,
    max_size=8,
)
# A numeric pre-release identifier has no leading zero (semver.org, item 9).
_IDENTIFIER = _ALPHANUMERIC.map(lambda part: part.lstrip("0") or "0" if part.isdigit() else part)


@st.composite
def semver(draw: st.DrawFn) -> str:
    """A version as semver.org's grammar writes it, optionally with a `v` prefix."""
    core = ".".join(draw(_NUMBER) for _ in range(3))
    text = draw(st.sampled_from(["", "v"])) + core
    if draw(st.booleans()):
        text += "-" + ".".join(draw(st.lists(_IDENTIFIER, min_size=1, max_size=4)))
    if draw(st.booleans()):
        text += "+" + ".".join(draw(st.lists(_ALPHANUMERIC, min_size=1, max_size=3)))
    return text


@given(semver())
def test_every_semver_version_is_accepted(version: str) -> None:
    assert is_safe_version(version)
    assert parse(f"plan checkout {version} to staging") == Plan(
        service="checkout", version=version, environment="staging"
    )


@given(st.text(min_size=1, max_size=40))
def test_whatever_is_accepted_is_neither_an_option_nor_a_path_out(text: str) -> None:
    if is_safe_version(text):
        assert not text.startswith(("-", "/", "."))
        assert ".." not in text
        assert not any(c.isspace() or not c.isprintable() or c == "\\" for c in text)
