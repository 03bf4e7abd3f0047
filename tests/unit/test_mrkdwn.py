"""bot/domain/mrkdwn.py: user text is escaped into mrkdwn, mentions the bot means stay mentions."""

from __future__ import annotations

import logging

import pytest

from bot.domain.mrkdwn import (
    Mrkdwn,
    channel_link,
    code_block,
    escape,
    guard_outgoing,
    has_broadcast,
    inline_code,
    join,
    link,
    md,
    mention,
    person,
    quote,
)
from commands.render import text as render_text

HOSTILE = "<!channel> ask <@U0ADMIN> & <https://evil.example|click here>"
ESCAPED = "&lt;!channel&gt; ask &lt;@U0ADMIN&gt; &amp; &lt;https://evil.example|click here&gt;"


def test_escape_turns_the_three_control_characters_into_entities() -> None:
    assert escape(HOSTILE) == ESCAPED
    assert isinstance(escape(HOSTILE), Mrkdwn)


def test_escape_leaves_mrkdwn_alone_so_nothing_is_escaped_twice() -> None:
    once = escape("a < b")
    assert escape(once) == "a &lt; b"
    assert escape(mention("U0APPROVER1")) == "<@U0APPROVER1>"


def test_the_renderers_escape_is_the_same_function() -> None:
    assert render_text.escape is escape


def test_md_escapes_every_value_that_is_not_mrkdwn() -> None:
    line = md(":x: {} rejected {}: {}", mention("U0APPROVER1"), "R-2", HOSTILE)
    assert line == f":x: <@U0APPROVER1> rejected R-2: {ESCAPED}"
    assert isinstance(line, Mrkdwn)


def test_md_escapes_keyword_values_numbers_and_conversions() -> None:
    assert md("{who} {n:>3} {x!r}", who="<b>", n=7, x="<") == "&lt;b&gt;   7 '&lt;'"


def test_md_pads_mrkdwn_without_escaping_it_again() -> None:
    assert md("[{:>8}]", escape("<")) == "[    &lt;]"


def test_md_template_is_the_bots_own_markup() -> None:
    assert md("*{}* `{}`", "R-1", "1.0") == "*R-1* `1.0`"


def test_join_escapes_plain_parts_and_keeps_mrkdwn_parts() -> None:
    assert join(", ", [mention("U0QA"), "@sre", "<x>"]) == "<@U0QA>, @sre, &lt;x&gt;"


@pytest.mark.parametrize("user_id", ["U0APPROVER1", "W012ABC", "B0BOT"])
def test_mention_of_a_slack_user_id(user_id: str) -> None:
    assert mention(user_id) == f"<@{user_id}>"


@pytest.mark.parametrize("bad", ["", "releasebot", "U0A>|<!channel", "u0lower", "@sre", "U0 X"])
def test_mention_refuses_anything_that_is_not_a_user_id(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Slack user id"):
        mention(bad)


def test_person_mentions_ids_and_shows_group_handles_and_words_as_text() -> None:
    assert person("U0QA") == "<@U0QA>"
    assert person("@sre") == "@sre"
    assert person("releasebot") == "releasebot"
    assert person("<!here>") == "&lt;!here&gt;"


def test_channel_link_for_ids_and_names() -> None:
    assert channel_link("C0RELEASES") == "<#C0RELEASES>"
    assert channel_link("releases") == "#releases"
    assert channel_link("#rel<eases>") == "#rel&lt;eases&gt;"


def test_link_to_a_url_the_bot_built_and_nothing_else() -> None:
    assert link("https://ci.example/run/1", "ci <1>") == "<https://ci.example/run/1|ci &lt;1&gt;>"
    # A label cannot add a second target, a URL cannot break out of the link.
    assert link("https://ci.example/x", "a|b") == "<https://ci.example/x|a\u2223b>"
    assert link("https://ci.example/x>|<!channel", "ci") == "ci"
    assert link("javascript:alert(1)", "ci") == "ci"


def test_code_block_cannot_be_closed_early_by_its_content() -> None:
    output = "step 1\n```\n<!here> deploy failed & ``` done ````"
    block = code_block(output)
    assert block.startswith("```") and block.endswith("```")
    inner = block[3:-3]
    assert "``" not in inner  # no two backticks touch, so no run of three closes the block
    assert "<!here>" not in block and "&lt;!here&gt;" in inner
    assert inner.replace("\u200b", "") == escape(output)


def test_code_block_of_nothing_is_still_a_block() -> None:
    assert code_block("") == "``` ```"


def test_inline_code_keeps_backticks_and_newlines_from_ending_it() -> None:
    assert inline_code("a`b\nc<d>") == "`a\u02cbb c&lt;d&gt;`"


def test_quote_quotes_every_line_escaped() -> None:
    assert quote("one <x>\ntwo") == "&gt; one &lt;x&gt;\n&gt; two"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("<!channel>", True),
        ("<!here|here>", True),
        ("<!everyone>", True),
        ("<!subteam^S0SRE|@sre>", True),
        ("<!group>", True),
        ("&lt;!channel&gt;", False),
        ("@channel", False),
        ("<@U0QA>", False),
    ],
)
def test_has_broadcast(text: str, found: bool) -> None:
    assert has_broadcast(text) is found


def test_guard_outgoing_defuses_broadcasts_in_text_and_every_block_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "<!here|here> plain"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "<@U0QA> says <!channel>"},
            "fields": [{"type": "mrkdwn", "text": "<!subteam^S0SRE|@sre>"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "<!everyone>"}]},
    ]
    with caplog.at_level(logging.WARNING, logger="bot.domain.mrkdwn"):
        text, safe = guard_outgoing("hi <!here>", blocks, where="chat.postMessage")
    assert text == "hi &lt;!here&gt;"
    assert safe[0]["text"]["text"] == "here plain"  # plain_text is not parsed: its label
    assert safe[1]["text"]["text"] == "<@U0QA> says &lt;!channel&gt;"  # the mention stays
    assert safe[1]["fields"][0]["text"] == "&lt;!subteam^S0SRE|@sre&gt;"
    assert safe[2]["elements"][0]["text"] == "&lt;!everyone&gt;"
    assert blocks[1]["text"]["text"] == "<@U0QA> says <!channel>"  # the input is not changed
    [record] = [r for r in caplog.records if r.name == "bot.domain.mrkdwn"]
    assert record.levelno == logging.WARNING and "chat.postMessage" in record.getMessage()


def test_guard_outgoing_leaves_safe_messages_as_they_are_and_quiet(
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "<@U0QA> &lt;!here&gt;"}}]
    with caplog.at_level(logging.WARNING, logger="bot.domain.mrkdwn"):
        text, safe = guard_outgoing("ok", blocks, where="ephemeral")
    assert (text, safe) == ("ok", blocks)
    assert not [r for r in caplog.records if r.name == "bot.domain.mrkdwn"]
