"""The benchmark's own parts: seeding that mirrors the lifecycle, answer checks, the report."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from bench import seed
from bench.ack_latency import (
    SECTION,
    expect_bare,
    expect_list,
    expect_show,
    percentile,
    rewrite_section,
)
from bench.bare_bolt import BARE_ANSWER
from bot.domain.lifecycle import ACTIVE


def _answer(text: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"response_type": "ephemeral", "text": text})


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([], 0.99) == 0.0


def test_show_check_wants_the_plans_card_title() -> None:
    check = expect_show({7: "R-7 · checkout v1.2.3 → production"})
    assert (
        check("show R-7", _answer("R-7 · checkout v1.2.3 → production: awaiting approval")) is None
    )
    assert check("show R-7", _answer("R-70 · cart v1 → staging: released")) is not None
    assert check("show R-7", _answer("R-7 · checkout v1.2.3 → production: x", 500)) is not None


def test_list_and_bare_checks_want_their_exact_answers() -> None:
    assert expect_list(248)("list", _answer("Upcoming and active plans: 25 of 248")) is None
    assert expect_list(248)("list", _answer("Upcoming and active plans: 25 of 247")) is not None
    assert expect_list(3)("list", _answer("Upcoming and active plans: 3 of 3")) is None
    assert expect_bare("x", _answer(BARE_ANSWER)) is None
    assert expect_bare("x", httpx.Response(401, text="")) is not None


def test_rewriting_the_section_leaves_other_sections_alone() -> None:
    document = "# Benchmarks\n\nintro\n\n## Outbox (issue 5)\n\nfigures\n"
    first = rewrite_section(document, f"{SECTION}\n\nold figures\n")
    assert first.index("## Outbox (issue 5)") < first.index(SECTION)
    second = rewrite_section(first + "\n## Later\n\nkept\n", f"{SECTION}\n\nnew figures\n")
    assert "old figures" not in second
    assert second.count(SECTION) == 1
    assert f"{SECTION}\n\nnew figures\n\n## Later\n\nkept\n" in second
    assert second.startswith("# Benchmarks\n\nintro\n\n## Outbox (issue 5)\n\nfigures\n\n")


def test_rewriting_an_empty_file_gives_a_titled_document() -> None:
    assert rewrite_section("", f"{SECTION}\n\nx\n") == f"# Benchmarks\n\n{SECTION}\n\nx\n"


@pytest.fixture
def bench_database() -> Iterator[str]:
    name = f"releasebot_bench_test_{os.getpid()}_{secrets.token_hex(3)}"
    seed.create_database(name)
    try:
        yield name
    finally:
        seed.drop_database(name)
    assert not seed.database_exists(name)


def test_seeding_fills_exact_counts_with_trails_that_end_in_each_plans_state(
    bench_database: str,
) -> None:
    summary = seed.seed(bench_database, plans=600, audit_events=9_000)

    assert seed.count_rows(bench_database) == (600, 9_000)
    assert summary.active_plans == seed.active_plans(bench_database) > 0
    with psycopg.connect(seed.conninfo(bench_database)) as connection:
        mismatched = connection.execute(
            """
            SELECT p.id, p.state, last.to_state FROM release_plan p
            JOIN LATERAL (
                SELECT to_state FROM audit_event a
                WHERE a.plan_id = p.id AND a.to_state IS NOT NULL
                ORDER BY a.id DESC LIMIT 1
            ) last ON true
            WHERE last.to_state <> p.state
            """
        ).fetchall()
        environments = {
            row[0] for row in connection.execute("SELECT environment FROM release_plan")
        }
        states = {row[0] for row in connection.execute("SELECT state FROM release_plan")}
        # The bot's own next insert must not collide with a seeded id.
        next_id = connection.execute("SELECT nextval('release_plan_id_seq')").fetchone()
        detail = connection.execute("SELECT detail FROM audit_event LIMIT 1").fetchone()
    assert mismatched == []
    assert environments == {"staging", "production"}
    assert states & {s.value for s in ACTIVE}
    assert next_id == (601,)
    assert detail is not None and isinstance(json.loads(json.dumps(detail[0])), dict)
    titles = seed.plan_titles(bench_database)
    assert len(titles) == 600
    assert titles[1].startswith("R-1 · ")


def test_seeding_refuses_fewer_events_than_the_trails_need(bench_database: str) -> None:
    with pytest.raises(ValueError, match="need at least"):
        seed.seed(bench_database, plans=100, audit_events=10)
