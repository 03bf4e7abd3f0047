"""Fixtures of the black-box tier: a deployment directory, the far sides, the shipped bot."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.blackbox.harness import (
    CheckTarget,
    Deployment,
    FakeSlack,
    ShippedBot,
    check_target,
    fake_slack,
    shipped_bot,
)
from tests.conftest import create_postgres_database, drop_postgres_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with fake_slack() as running:
        yield running


@pytest.fixture
def target() -> Iterator[CheckTarget]:
    with check_target() as running:
        yield running


@pytest.fixture
def deployment(tmp_path: Path, target: CheckTarget) -> Deployment:
    """A fresh deployment directory that is not the repository."""
    root = tmp_path / "deploy"
    root.mkdir()
    assert REPO not in root.resolve().parents, "the tier must run outside the repository"
    found = Deployment(root)
    found.write(check_url=target.url)
    return found


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: the embedded default (a relative SQLite file); else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def bot(deployment: Deployment, slack: FakeSlack, database_url: str | None) -> Iterator[ShippedBot]:
    """`releasebot migrate`, then `releasebot serve`, healthy, from the deployment directory."""
    with shipped_bot(deployment.root, slack, database_url=database_url) as shipped:
        migrated = shipped.run("migrate")
        assert migrated.code == 0, migrated.stderr
        shipped.serve()
        yield shipped


@dataclass
class Shared:
    """One `releasebot serve` (and its far sides) shared by a module's quick tests."""

    bot: ShippedBot
    slack: FakeSlack
    deployment: Deployment
    target: CheckTarget


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    """For tests that change nothing a next test could see (refusals, health, metrics)."""
    url = create_postgres_database() if request.param == "postgresql" else None
    try:
        with check_target() as running_target, fake_slack() as running_slack:
            found = Deployment(tmp_path_factory.mktemp("deploy"))
            found.write(check_url=running_target.url)
            with shipped_bot(found.root, running_slack, database_url=url) as shipped:
                migrated = shipped.run("migrate")
                assert migrated.code == 0, migrated.stderr
                shipped.serve()
                yield Shared(shipped, running_slack, found, running_target)
    finally:
        if url is not None:
            drop_postgres_database(url)
