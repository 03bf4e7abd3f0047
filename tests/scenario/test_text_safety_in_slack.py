"""A hostile member's text is re-posted as text; mentions the bot means stay mentions (issue 9).

Slack delivers a typed `<!channel>` as `&lt;!channel&gt;` (it escapes `&`, `<`, `>` in what
people type, docs.slack.dev "Formatting text for app surfaces"); the grammar un-escapes it, so
every place that posts it back must escape it again. These tests type such text into every
free-text field a member controls and read everything the bot sent to the Slack stand-in:
Web API calls, response_url posts and the bodies of its acks.
"""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.domain.config import ReleasebotConfig, parse_config
from bot.domain.lifecycle import Event
from bot.domain.mrkdwn import Mrkdwn
from bot.notify import outbox
from bot.release import plans
from bot.release.approvals import decide
from bot.store.models import Decision, PlanState
from commands.ids import ActionId
from tests.conftest import FIXTURES
from tests.helpers import walk_to_released
from tests.scenario.driver import SlackDriver, card_text

# What a member types, and how Slack delivers it in a slash command's `text`.
TYPED = "urgent <!channel> ping <@U0ADMIN> see <https://evil.example|click here> & go"
DELIVERED = (
    "urgent &lt;!channel&gt; ping &lt;@U0ADMIN&gt; see "
    "&lt;https://evil.example|click here&gt; &amp; go"
)
# Shown as typed: the same characters, escaped in mrkdwn.
READABLE = DELIVERED
# Markup Slack would act on if any of it reached a message unescaped.
FORBIDDEN = ("<!channel>", "ping <@U0ADMIN>", "<https://evil", "<!here>", "<!everyone>")


def _texts(node: Any, *, plain: bool = False) -> Iterator[str]:
    """Every mrkdwn text in a message body (top-level text, blocks, fields, confirm dialogs)."""
    if isinstance(node, str):
        try:
            parsed = json.loads(node)  # blocks sent form-encoded arrive as a JSON string
        except ValueError:
            return
        yield from _texts(parsed)
    elif isinstance(node, dict):
        kind = node.get("type")
        if isinstance(node.get("text"), str) and (kind != "plain_text" or plain):
            yield node["text"]
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def sent(slack: SlackDriver) -> list[str]:
    """Every text the bot sent to Slack: API calls, response_url posts and ack bodies."""
    texts: list[str] = []
    for call in slack.workspace.calls:
        if call.method in (
            "chat.postMessage",
            "chat.update",
            "chat.postEphemeral",
            "response_url",
        ):
            if isinstance(call.args.get("text"), str):
                texts.append(call.args["text"])
            texts += _texts(call.args.get("blocks"))
        elif call.method.startswith("views."):
            texts += _texts(call.args.get("view"))
    for response in slack.responses:
        if response.body:
            body = json.loads(response.body)
            if isinstance(body.get("text"), str):
                texts.append(body["text"])
            texts += _texts(body.get("blocks"))
    return texts


def assert_defused(slack: SlackDriver) -> None:
    """Nothing the bot sent pings, mentions or links what the member typed."""
    texts = sent(slack)
    assert texts, "the bot sent nothing"
    leaks = [t for t in texts if any(bad in t for bad in FORBIDDEN)]
    assert leaks == []


def _all(slack: SlackDriver, channel: str) -> list[str]:
    """Texts of a channel's messages and of their threads."""
    found = []
    for message in slack.channel_messages(channel):
        found.append(message.text)
        found.append(card_text(message))
        found += slack.thread(message)
    return found


def _production(slack: SlackDriver) -> None:
    """R-2: checkout 1.4.2 to production, after R-1 released it to staging."""
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to staging")
    with slack.bot.db.session() as session:
        staging = plans.get_plan(session, plan_id=1, for_update=True)
        walk_to_released(session, ctx=slack.bot.desk.ctx, plan=staging)
    slack.command("U0REQUESTER", "plan checkout 1.4.2 to production")
    slack.settle()


def test_a_cancel_reason_is_shown_as_typed(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan payments 1.0 to staging")
    slack.settle()
    slack.command("U0REQUESTER", f"cancel R-1 {DELIVERED}")
    slack.settle()
    assert slack.state(1) == PlanState.CANCELLED
    assert slack.thread(slack.card("R-1"))[-1] == (
        f":no_entry_sign: <@U0REQUESTER> cancelled R-1: {READABLE}"
    )
    assert_defused(slack)


def test_reject_and_approve_comments_are_shown_as_typed(slack: SlackDriver) -> None:
    _production(slack)
    slack.command("U0APPROVER1", f"approve R-2 {DELIVERED}")
    slack.command("U0APPROVER2", f"reject R-2 {DELIVERED}")
    slack.settle()
    assert slack.state(2) == PlanState.REJECTED
    card = slack.card("R-2")
    assert slack.thread(card) == [
        f":white_check_mark: <@U0APPROVER1> approved R-2 (1 of 2): {READABLE}",
        f":x: <@U0APPROVER2> rejected R-2: {READABLE}",
    ]
    assert f":x: <@U0APPROVER2>: {READABLE}" in card_text(card)
    assert READABLE in card_text(slack.dm("U0REQUESTER")[-1])
    assert_defused(slack)


def test_an_override_reason_reaches_the_announcements_channel_as_text(
    slack: SlackDriver,
) -> None:
    _production(slack)
    for approver in ("U0APPROVER1", "U0APPROVER2"):
        with slack.bot.db.session() as session:
            decide(
                session,
                ctx=slack.bot.desk.ctx,
                actor=approver,
                plan_id=2,
                decision=Decision.APPROVE,
                comment=None,
            )
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.command("U0ADMIN", 'freeze production reason "Black Friday"')
    slack.settle()
    slack.command("U0REQUESTER", f'deploy R-2 --override "{DELIVERED}"')
    slack.settle()
    assert f"Override requested by <@U0REQUESTER>: {READABLE}" in card_text(slack.card("R-2"))
    assert f"Reason: {READABLE}" in card_text(slack.dm("U0ADMIN")[-1])

    slack.click("U0ADMIN", slack.dm("U0ADMIN")[-1], ActionId.OVERRIDE_APPROVE)
    slack.settle()
    [announced] = [m.text for m in slack.channel_messages("C0ANNOUNCE")]
    assert announced == (
        ":rotating_light: Break-glass: <@U0ADMIN> approved deploying checkout `1.4.2` to "
        f"production (R-2) through a freeze, as <@U0REQUESTER> asked: {READABLE}"
    )
    assert_defused(slack)


def test_a_freeze_reason_is_shown_as_typed_wherever_the_freeze_is_named(
    slack: SlackDriver,
) -> None:
    _production(slack)
    slack.command("U0ADMIN", f'freeze production reason "{DELIVERED}"')
    slack.settle()
    assert any(READABLE in text for text in _all(slack, "C0RELEASES"))
    listed = slack.command("U0REQUESTER", "freezes")
    assert READABLE in "\n".join(_texts(listed["blocks"]))
    assert f":snowflake: *production* frozen by <@U0ADMIN>: {READABLE}" in card_text(
        slack.card("R-2")
    )
    slack.command("U0ADMIN", "deploy R-1")  # released already: refused, naming nothing typed
    with slack.bot.db.session() as session:
        plan = plans.get_plan(session, plan_id=2, for_update=True)
        plans.transition(
            session, ctx=slack.bot.desk.ctx, plan=plan, event=Event.APPROVE, actor="U0ADMIN"
        )
    slack.command("U0QA", "tick R-2 QA sign-off")
    slack.command("U0REQUESTER", "deploy R-2")
    assert (
        f"production is frozen: {READABLE} (ad-hoc freeze by <@U0ADMIN>"
        in (slack.ephemerals("U0REQUESTER")[-1])
    )
    slack.command("U0ADMIN", "unfreeze production")
    slack.settle()
    assert_defused(slack)


def test_notes_and_risks_are_shown_as_typed_on_the_card(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", f'plan payments 1.0 to staging notes "{DELIVERED}"')
    slack.command("U0REQUESTER", f'edit R-1 risk "{DELIVERED}"')
    slack.settle()
    shown = card_text(slack.card("R-1"))
    assert f"*Risks*\n• {READABLE}" in shown
    assert f"*Notes*\n{READABLE}" in shown
    shown_to_me = slack.command("U0REQUESTER", "show R-1")
    assert f"*Notes*\n{READABLE}" in "\n".join(_texts(shown_to_me["blocks"]))
    assert_defused(slack)


def test_a_refusal_names_the_approvers_as_mentions(slack: SlackDriver) -> None:
    """Issue 9.3: the people a refusal names are mentions, not `&lt;@U0APPROVER1&gt;`."""
    _production(slack)
    slack.click("U0STRANGER", slack.card("R-2"), ActionId.APPROVE)
    [refusal] = slack.workspace.ephemerals_for("U0STRANGER")
    shown = "\n".join(_texts(refusal.blocks))
    assert (
        "environments.production.approvals.approvers lists "
        "<@U0APPROVER1>, <@U0APPROVER2>, <@U0APPROVER3>, @sre" in shown
    )
    assert "&lt;@" not in shown and "&lt;@" not in refusal.text


def test_a_refusal_still_escapes_what_the_member_typed(slack: SlackDriver) -> None:
    answer = slack.command("U0REQUESTER", "show &lt;!channel&gt;")
    shown = "\n".join([answer["text"], *_texts(answer["blocks"])])
    assert shown.count("got '&lt;!channel&gt;'") == 2  # in the text and in the blocks
    assert "`/release show R-&lt;n&gt;`" in shown  # the usage's placeholders are text too
    assert_defused(slack)


# -- deploy output ----------------------------------------------------------------------------

LOUD_DEPLOY = """#!/bin/sh
echo "deploying $RELEASE_SERVICE $RELEASE_VERSION"
echo '```'
echo '<!here> the deploy failed & <@U0ADMIN> look'
echo '``` closed? <https://evil.example|click here>' >&2
exit 1
"""


@pytest.fixture
def config(tmp_path: Path) -> ReleasebotConfig:
    script = tmp_path / "loud-deploy.sh"
    script.write_text(LOUD_DEPLOY)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    text = (FIXTURES / "releasebot.toml").read_text()
    old = 'command = ["./deploy.sh", "{service}", "{version}", "{environment}"]\n'
    assert old in text
    return parse_config(
        text.replace(old, f'command = ["{script}"]\non_failure = "pause"\n'),
        path=FIXTURES / "releasebot.toml",
    )


def test_deploy_output_is_posted_in_a_code_block_it_cannot_close(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", "plan payments 1.0 to staging")
    slack.settle()
    slack.command("U0REQUESTER", "deploy R-1")
    slack.roll(lambda: slack.state(1) == PlanState.PAUSED)
    [failed] = [t for t in slack.thread(slack.card("R-1")) if t.startswith(":x:")]
    assert failed.count("```") == 2  # the block the bot opened, and the one it closes
    assert failed.endswith("```")
    inner = failed[failed.index("```") + 3 : -3]
    assert "&lt;!here&gt; the deploy failed &amp; &lt;@U0ADMIN&gt; look" in inner
    assert "closed? &lt;https://evil.example|click here&gt;" in inner
    assert_defused(slack)
    assert not [t for t in sent(slack) if "<@U0ADMIN> look" in t]


def test_the_bot_never_asks_slack_to_link_names(slack: SlackDriver) -> None:
    slack.command("U0REQUESTER", f'plan payments 1.0 to staging notes "{DELIVERED}"')
    slack.settle()
    posts = [c for c in slack.workspace.calls if c.method in ("chat.postMessage", "chat.update")]
    assert posts
    for call in posts:
        assert call.args.get("link_names") in (None, False, 0, "0", "false")
        assert call.args.get("parse") in (None, "none")


# -- the last net at the Slack sink -----------------------------------------------------------


def test_a_broadcast_that_reaches_the_sink_is_defused_and_logged(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    """A message owed before this fix (or by a render path that forgot to escape) still
    cannot ping: the outbox's Slack adapter defuses it and says a render path missed it."""
    slack.command("U0REQUESTER", "plan payments 1.0 to staging")
    slack.settle()
    with slack.bot.db.session() as session:
        outbox.owe_thread_reply(
            session,
            plan_id=1,
            channel="C0RELEASES",
            message=outbox.Rendered(
                Mrkdwn("<!channel> from an old row"),
                [{"type": "section", "text": {"type": "mrkdwn", "text": "<!here> <@U0QA>"}}],
            ),
            now=slack.clock.now(),
        )
    with caplog.at_level(logging.WARNING, logger="bot.domain.mrkdwn"):
        slack.settle()
    [reply] = slack.workspace.replies("C0RELEASES", slack.card("R-1").ts)
    assert reply.text == "&lt;!channel&gt; from an old row"
    assert card_text(reply) == "&lt;!here&gt; <@U0QA>"  # the mention the bot meant stays
    warned = [r.getMessage() for r in caplog.records if r.name == "bot.domain.mrkdwn"]
    assert len(warned) == 1 and "chat.postMessage" in warned[0]
