"""/healthz tells a load balancer whether the bot can work: the database must take writes.
It never hands out the driver's error text; the operator finds it, once, in the log."""

from __future__ import annotations

import httpx

from tests.blackbox.conftest import Shared
from tests.blackbox.harness import read_only_file, read_only_postgres

UNHEALTHY = {"status": "unhealthy", "database": "unavailable"}


def _health(shared: Shared) -> httpx.Response:
    return httpx.get(shared.bot.url + "/healthz", timeout=15)


def _unhealthy_lines(shared: Shared) -> list[str]:
    return [
        str(r.get("message"))
        for r in shared.bot.log_records()
        if r.get("level") == "warning" and "database" in str(r.get("message"))
    ]


def test_a_database_that_cannot_be_written_is_unhealthy(shared: Shared) -> None:
    assert _health(shared).json() == {"status": "ok", "database": "ok"}
    before = len(_unhealthy_lines(shared))
    url = shared.bot.env.get("DATABASE_URL")
    with (
        read_only_postgres(url) if url else read_only_file(shared.deployment.root / "releasebot.db")
    ):
        answers = [_health(shared) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 503]
    assert all(a.json() == UNHEALTHY for a in answers)
    # The reason is logged once for the operator, not once per probe.
    lines = _unhealthy_lines(shared)[before:]
    assert len(lines) == 1, lines
    assert "read-only" in lines[0] or "readonly" in lines[0], lines[0]
    assert _health(shared).json() == {"status": "ok", "database": "ok"}
