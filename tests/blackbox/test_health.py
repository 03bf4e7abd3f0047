"""/healthz tells a load balancer whether the bot can work: the database must take writes.
It never hands out the driver's error text; the operator finds it, once, in the log."""

from __future__ import annotations

import httpx

from tests.blackbox.conftest import Shared
from tests.blackbox.harness import eventually, read_only_file, read_only_postgres

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


def test_a_write_command_while_the_database_refuses_writes_is_answered(shared: Shared) -> None:
    """Issue 9.4: a command acked while the database refuses writes is never silently lost.

    Either the person is told it was not done (and nothing appears), or it was done (the
    process's open connections may still write: the card appears, once). Never silence.
    """
    slack = shared.slack
    url = shared.bot.env.get("DATABASE_URL")
    cards = len(slack.history("C0RELEASES"))
    with (
        read_only_postgres(url) if url else read_only_file(shared.deployment.root / "releasebot.db")
    ):
        assert _health(shared).status_code == 503
        ack = shared.bot.command(slack, "U0STRANGER", "plan checkout 1.4.2 to staging")
        assert ack.status_code == 200
        answer = (ack.json().get("text", "") if ack.content else "") or "\n".join(
            eventually(lambda: slack.ephemerals("U0STRANGER"), what="an answer to the command")
        )
    assert _health(shared).json() == {"status": "ok", "database": "ok"}
    slack.quiet(quiet_for=3.0)
    made = [m for m in slack.history("C0RELEASES")[cards:] if m.text.startswith("R-")]
    if answer.startswith("Not done"):
        assert answer.startswith("Not done: releasebot can't write to its database right now (")
        assert answer.endswith("Nothing changed; try again in a minute."), answer
        assert made == []
    else:
        assert answer.startswith(":memo: Planned *R-"), answer
        assert len(made) == 1, [m.text for m in made]
        assert made[0].text.startswith(answer.split("*")[1] + " · checkout 1.4.2 → staging")
    assert shared.deployment.deploy_calls() == []
