"""bot/store/async_reads.py `Batcher`: reads asked together go out in one statement, and no
answer was read before it was asked."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.async_reads import Batcher
from tests.helpers import run_async


class Store:
    """A table whose statements take as long as the test says: what each statement read, and
    the value of each key at the moment the statement started."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {"a": 1, "b": 2, "c": 3}
        self.statements: list[list[str]] = []
        self.running = 0
        self.most_running = 0
        self.release = asyncio.Event()
        self.release.set()
        self.failure: Exception | None = None

    async def read(self, keys: list[str]) -> dict[str, int]:
        snapshot = {key: self.values[key] for key in keys if key in self.values}
        self.statements.append(list(keys))
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
            if self.failure is not None:
                raise self.failure
            return snapshot
        finally:
            self.running -= 1


def test_reads_asked_together_go_out_in_one_statement() -> None:
    async def scenario() -> None:
        store = Store()
        batcher = Batcher(store.read, at_once=4, most=64)
        found = await asyncio.gather(*(batcher.ask(key) for key in ("a", "b", "a", "zzz", "c")))
        assert found == [1, 2, 1, None, 3]
        assert store.statements == [["a", "b", "zzz", "c"]]

    run_async(scenario())


def test_a_read_asked_while_a_statement_runs_waits_for_the_next_one() -> None:
    async def scenario() -> None:
        store = Store()
        batcher = Batcher(store.read, at_once=1, most=64)
        store.release.clear()
        early = asyncio.ensure_future(batcher.ask("a"))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert store.statements == [["a"]]
        # Written (committed) after the first statement started, before this read was asked:
        # the read must see it, so it cannot be answered by the statement already running.
        store.values["a"] = 10
        late = asyncio.ensure_future(batcher.ask("a"))
        also_late = asyncio.ensure_future(batcher.ask("b"))
        await asyncio.sleep(0)
        assert store.statements == [["a"]]  # at_once=1: the next waits its turn
        store.release.set()
        assert await early == 1
        assert await late == 10
        assert await also_late == 2
        assert store.statements == [["a"], ["a", "b"]]

    run_async(scenario())


def test_at_most_at_once_statements_run_and_at_most_most_keys_each() -> None:
    async def scenario() -> None:
        store = Store()
        store.values = {f"k{n}": n for n in range(50)}
        batcher = Batcher(store.read, at_once=2, most=8)
        store.release.clear()
        asks = [asyncio.ensure_future(batcher.ask(f"k{n}")) for n in range(50)]
        for _ in range(5):
            await asyncio.sleep(0)
        assert store.most_running == 2
        store.release.set()
        assert await asyncio.gather(*asks) == list(range(50))
        assert store.most_running == 2
        assert all(len(keys) <= 8 for keys in store.statements)
        assert sorted(key for keys in store.statements for key in keys) == sorted(store.values)

    run_async(scenario())


def test_a_failed_statement_fails_every_read_it_carried_and_the_next_ones_still_run() -> None:
    async def scenario() -> None:
        store = Store()
        batcher = Batcher(store.read, at_once=1, most=64)
        store.failure = ConnectionError("server closed the connection")
        failed = await asyncio.gather(batcher.ask("a"), batcher.ask("b"), return_exceptions=True)
        assert [type(error) for error in failed] == [ConnectionError, ConnectionError]
        store.failure = None
        assert await batcher.ask("c") == 3

    run_async(scenario())


def test_a_read_given_up_by_its_asker_does_not_stop_the_others() -> None:
    async def scenario() -> None:
        store = Store()
        batcher = Batcher(store.read, at_once=1, most=64)
        store.release.clear()
        gone = asyncio.ensure_future(batcher.ask("a"))
        kept = asyncio.ensure_future(batcher.ask("b"))
        await asyncio.sleep(0)
        gone.cancel()
        store.release.set()
        assert await kept == 2
        with pytest.raises(asyncio.CancelledError):
            await gone

    run_async(scenario())
