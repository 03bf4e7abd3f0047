"""`releasebot serve` with one part of the fast read path taken out, for bench/read_path_parts.py.

`python -m bench.serve_without <part>` with the settings `releasebot serve` reads:

- `nothing`: `releasebot serve` as shipped;
- `database`: no read statement reaches PostgreSQL: each answers the rows its first run gave
  (a card's token row: the first card's, for every plan asked), so the answer is still looked
  up, checked and sent;
- `read`: the fast path answers a fixed body at once (no form parsing, no read, no answer
  built); what is left is uvicorn, Starlette, the route (body, signature, metrics, log line).

For measuring only: answers are wrong under `database` for any plan but the first asked.
"""

from __future__ import annotations

import sys
from typing import Any

PARTS = ("nothing", "database", "read")


def _without_database() -> None:
    from bot.store import async_reads

    first: dict[str, Any] = {}
    rows = async_reads.PostgresReads.rows

    async def canned(self: async_reads.PostgresReads, sql: str, params: dict[str, Any]) -> Any:
        if "p0" in params:  # cards' tokens (bot/store/plan_cards.py): one row per plan asked
            if "card" not in first:
                first["card"] = (await rows(self, sql, {"p0": params["p0"]} | params))[0]
            row = first["card"]
            return [(plan_id, *row[1:]) for plan_id in params.values()]
        if sql not in first:
            first[sql] = await rows(self, sql, params)
        return first[sql]

    async_reads.PostgresReads.rows = canned  # type: ignore[method-assign]


def _without_read() -> None:
    from slack_bolt import BoltResponse

    from commands import fast_reads

    async def fixed(self: fast_reads.FastReads, body: str) -> BoltResponse:
        return BoltResponse(status=200, body='{"text": "fixed"}')

    fast_reads.FastReads.answer = fixed  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    """Take the part out, then run `releasebot serve`."""
    part = argv[0] if argv else "nothing"
    if part not in PARTS:
        print(f"usage: python -m bench.serve_without {{{','.join(PARTS)}}}", file=sys.stderr)
        return 2
    if part == "database":
        _without_database()
    elif part == "read":
        _without_read()
    from bot.app.cli import main as releasebot

    return releasebot(["serve"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
