"""bench/read_path.py at a toy size: seeds, draws the cards, serves both apps, checks answers."""

from __future__ import annotations

import os
import secrets

import pytest

from bench import read_path, seed


def _rows(printed: str) -> dict[tuple[str, str, str], list[str]]:
    rows = {}
    for line in printed.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in (read_path.BARE, read_path.BOT):
            rows[(cells[0], cells[1], cells[2].split()[0])] = cells
    return rows


def test_the_benchmark_runs_both_servers_and_checks_every_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"releasebot_read_path_test_{os.getpid()}_{secrets.token_hex(3)}"
    argv = ["--plans", "200", "--audit-events", "2000", "--database", name, "--no-record"]
    argv += ["--closed-seconds", "1", "--seconds", "1", "--rate", "40", "--warmup", "0.2"]
    try:
        assert read_path.main([*argv, "--concurrency", "4"]) == 0
        first = capsys.readouterr().out
        # The next run finds the data and the cards where this one left them.
        settings = read_path.parse_args(argv)
        reused = read_path.prepare_database(settings)
        cards = read_path.draw_cards(name)
    finally:
        seed.drop_database(name)
    assert f"seeded {name}: 200 plans" in first
    assert reused == f"reused {name}: 200 plans, 2,000 audit events"
    assert cards.endswith("cards already stored")
    rows = _rows(first)
    assert len(rows) == 8
    for server in (read_path.BARE, read_path.BOT):
        for command in read_path.COMMANDS:
            for mode in ("closed", "open"):
                cells = rows[(server, command, mode)]
                answered, failed = int(cells[3].replace(",", "")), int(cells[4].replace(",", ""))
                assert answered > 0 and failed == 0, cells
    assert "| RSS of `releasebot serve` after the load < 150 MB |" in first
