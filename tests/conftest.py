"""Shared fixtures: every persistence test runs on SQLite and on the PostgreSQL at 127.0.0.1.

PostgreSQL is not optional: when it cannot be reached the tests that need it fail (never skip),
so a green run always means both databases were exercised.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from bot.app.migrate import upgrade
from bot.app.wiring import wire_defaults
from bot.domain.config import ReleasebotConfig, load_config
from bot.domain.context import DomainContext, StaticDirectory
from bot.release.desk import Desk
from bot.store.db import Database, make_engine
from console.testing import ManualClock

POSTGRES_URL = os.environ.get(
    "RELEASEBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FIXTURES = Path(__file__).parent / "fixtures"
GROUPS = {"sre": ["U0APPROVER4", "U0ADMIN"]}


@pytest.fixture(autouse=True, scope="session")
def _wired() -> None:
    """The core's process-wide wiring, as the composition root does it (bot/app/wiring.py):
    use cases only record events, and an event nobody hears fails its commit."""
    wire_defaults()


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


def create_postgres_database() -> str:
    """A new, empty PostgreSQL database; fails the test run when the server is unreachable."""
    name = f"releasebot_test_{os.getpid()}_{secrets.token_hex(4)}"
    engine = _admin_engine()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as failure:  # noqa: BLE001 - any reason is a hard failure here
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is unreachable ({failure.__class__.__name__}: "
            f"{failure}); persistence tests must run on it. Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`."
        )
    finally:
        engine.dispose()
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop a database made by create_postgres_database, whoever is still connected."""
    name = make_url(url).database
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    url = create_postgres_database()
    upgrade(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        # TRUNCATE does not fire the audit trail's row triggers: only the tests may do this.
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "releasebot.db"
        shutil.copy(request.getfixturevalue("migrated_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("migrated_postgres")
    _empty_postgres(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(make_engine(database_url))
    yield database
    database.engine.dispose()


@pytest.fixture
def config() -> ReleasebotConfig:
    return load_config(FIXTURES / "releasebot.toml")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ctx(config: ReleasebotConfig, clock: ManualClock) -> DomainContext:
    return DomainContext(config=config, clock=clock, directory=StaticDirectory(GROUPS))


@pytest.fixture
def desk(db: Database, ctx: DomainContext) -> Desk:
    return Desk(db=db, ctx=ctx)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind with no schema at all (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def postgres_url(migrated_postgres: str) -> str:
    """The migrated, emptied PostgreSQL database, for tests only PostgreSQL can run
    (several processes sharing one database)."""
    _empty_postgres(migrated_postgres)
    return migrated_postgres
