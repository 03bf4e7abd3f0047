"""What `releasebot serve` writes: nothing while idle, one line per thing it acts on."""

from __future__ import annotations

import time

import httpx

from tests.blackbox.conftest import Shared
from tests.blackbox.harness import eventually

# Long enough for several scheduler polls (every 0.5 s) and the outbox's idle wait (2 s).
IDLE_WINDOW = 3.0


def test_an_idle_serve_writes_nothing(shared: Shared) -> None:
    bot = shared.bot
    before = bot.output().splitlines()
    deadline = time.monotonic() + IDLE_WINDOW
    while time.monotonic() < deadline:
        # A load balancer's probes and a Prometheus scrape are not work either.
        assert httpx.get(bot.url + "/healthz").status_code == 200
        assert httpx.get(bot.url + "/metrics").status_code == 200
        time.sleep(0.25)  # the idle period itself is what is observed
    assert bot.output().splitlines()[len(before) :] == []


def test_each_message_delivered_is_one_line_with_its_plan(shared: Shared) -> None:
    bot, slack = shared.bot, shared.slack
    assert bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to production").status_code == 200
    eventually(lambda: slack.card("R-1") and len(slack.dm("U0APPROVER3")) == 1)
    slack.quiet()
    sent = [c for c in slack.workspace.calls if c.method in ("chat.postMessage", "chat.update")]
    delivered = [r for r in bot.log_records() if r.get("event") == "outbox.delivered"]
    # The card and a DM to each of the three approvers, each one line naming the plan.
    assert len(sent) >= 4
    assert len(delivered) == len(sent)
    assert {r.get("plan_id") for r in delivered} == {1}
    assert not [r for r in bot.log_records() if str(r.get("logger", "")).startswith("apscheduler")]


def test_a_clean_start_warns_of_nothing(shared: Shared) -> None:
    # Bolt used to warn on every start that `token` is unused because a client is given.
    started = [r for r in shared.bot.log_records() if r.get("logger") == "releasebot.bolt"]
    assert not [r for r in started if r.get("level") == "warning"], started
