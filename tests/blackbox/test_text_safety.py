"""Issues 9.2 and 9.3 against the shipped bot: typed markup stays text, meant mentions stay names.

A hostile member types `<!channel>`, a mention and a disguised link; Slack delivers them escaped
(`&lt;!channel&gt;`). Whatever the bot re-posts from that text (a freeze reason, an override
reason that reaches the announcements channel, a reject comment) must reach Slack escaped
again. A refusal that names the approvers must name them as mentions Slack shows as people.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx

from tests.blackbox.harness import FakeSlack, ShippedBot, eventually

DELIVERED = (
    "urgent &lt;!channel&gt; ping &lt;@U0ADMIN&gt; see "
    "&lt;https://evil.example|click here&gt; &amp; go"
)
READABLE = DELIVERED  # escaped in mrkdwn exactly as Slack delivered it: shown as typed
FORBIDDEN = ("<!channel>", "ping <@U0ADMIN>", "<https://evil", "<!here>", "<!everyone>")
POSTING = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")


def _texts(node: Any) -> Iterator[str]:
    """Every mrkdwn text of a message body (plain_text is not parsed by Slack)."""
    if isinstance(node, str):
        try:
            node = json.loads(node)
        except ValueError:
            return
        yield from _texts(node)
    elif isinstance(node, dict):
        if isinstance(node.get("text"), str) and node.get("type") != "plain_text":
            yield node["text"]
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def _sent(slack: FakeSlack, acks: list[httpx.Response]) -> list[str]:
    """Every text the bot sent: Web API calls, response_url posts, the bodies of its acks."""
    texts: list[str] = []
    for call in slack.workspace.calls:
        if call.method in POSTING:
            if isinstance(call.args.get("text"), str):
                texts.append(call.args["text"])
            texts += _texts(call.args.get("blocks"))
    for ack in acks:
        if ack.content:
            body = ack.json()
            texts += [body.get("text", ""), *_texts(body.get("blocks"))]
    return texts


def _replies_with(slack: FakeSlack, user_id: str, needle: str) -> list[str]:
    return [t for t in slack.ephemerals(user_id) if needle in t]


def test_typed_broadcasts_mentions_and_links_are_reposted_as_text(
    bot: ShippedBot, slack: FakeSlack
) -> None:
    acks = [bot.command(slack, "U0ADMIN", f'freeze staging reason "{DELIVERED}"')]
    acks.append(bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to staging"))
    eventually(lambda: slack.card("R-1"), what="the card of R-1")
    acks.append(bot.command(slack, "U0REQUESTER", f'deploy R-1 --override "{DELIVERED}"'))
    request = eventually(
        lambda: [m for m in slack.dm("U0ADMIN") if "Override requested" in m.text],
        what="the override request to the admin",
    )[0]
    acks.append(bot.click(slack, "U0ADMIN", request, "plan_override_approve"))
    announced = eventually(lambda: slack.texts("C0ANNOUNCE"), what="the break-glass announcement")
    assert announced[0].endswith(f"as <@U0REQUESTER> asked: {READABLE}"), announced

    acks.append(bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to production"))
    card = eventually(lambda: slack.card("R-2"), what="the card of R-2")
    acks.append(bot.command(slack, "U0APPROVER1", f"reject R-2 {DELIVERED}"))
    eventually(
        lambda: f":x: <@U0APPROVER1> rejected R-2: {READABLE}" in slack.thread(card),
        what="the rejection in R-2's thread, shown as typed",
    )
    eventually(
        lambda: any(
            ":snowflake: <@U0ADMIN> froze *staging*" in t for t in slack.texts("C0RELEASES")
        ),
        what="the freeze announcement",
    )
    slack.quiet()

    texts = _sent(slack, acks)
    assert [t for t in texts if any(bad in t for bad in FORBIDDEN)] == []
    freeze_posts = [t for t in slack.texts("C0RELEASES") if "froze *staging*" in t]
    assert READABLE in freeze_posts[0]


def test_a_refusal_names_the_approvers_as_people(bot: ShippedBot, slack: FakeSlack) -> None:
    bot.command(slack, "U0REQUESTER", "plan checkout 1.4.2 to production")
    card = eventually(lambda: slack.card("R-1"), what="the card of R-1")
    assert bot.click(slack, "U0STRANGER", card, "plan_approve").status_code == 200
    refusal = eventually(
        lambda: [
            e for e in slack.workspace.ephemerals_for("U0STRANGER") if "not an approver" in e.text
        ],
        what="the refusal shown to the stranger",
    )[0]
    shown = "\n".join(_texts(refusal.blocks))
    assert "approvals.approvers lists <@U0APPROVER1>, <@U0APPROVER2>, @sre" in shown, shown
    assert "&lt;@U0APPROVER1&gt;" not in shown + refusal.text
