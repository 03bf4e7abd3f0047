"""How the console draws mrkdwn and emoji shortcodes, checked against Slack's own rules.

The first rows are the examples of Slack's "Formatting message text" page
(https://docs.slack.dev/messaging/formatting-message-text/, "Formatting with markdown", and
the Help Center's "Format your messages"): *bold*, _italic_, ~strike~, `code`, ```pre```,
> quotes. Slack formats only at word boundaries and never inside code, so the rest are the
texts the bot really sends (identifiers, state names, versions) that must come out as typed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from console.testing import ConsoleRun

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser, console_run: ConsoleRun) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(console_run.url + "/?user=U0REQUESTER")
    expect(page.get_by_role("heading", name="#releases")).to_be_visible()
    yield page
    context.close()
    assert errors == []


def render(page: Page, text: str) -> str:
    """The HTML the console draws for this mrkdwn, inside its box."""
    html: str = page.evaluate(
        """(text) => BlockKit.mrkdwn(text, { directory: {}, usergroups: {}, channelNames: {} })
              .innerHTML""",
        text,
    )
    return html


SLACK_DOCS = [
    ("Making a *bold statement.*", "<span>Making a <strong>bold statement.</strong></span>"),
    ("Emphasis with _italic text._", "<span>Emphasis with <em>italic text.</em></span>"),
    (
        "Let's ~strike out~ post this message.",
        "<span>Let's <s>strike out</s> post this message.</span>",
    ),
    (
        "Use the `chat.postMessage` method.",
        "<span>Use the <code>chat.postMessage</code> method.</span>",
    ),
    ('```{\n "text": "a_b_c"\n}```', '<pre>{\n "text": "a_b_c"\n}</pre>'),
    ("&gt; A quote", "<blockquote>A quote</blockquote>"),
]

WORD_BOUNDARIES = [
    # Inside a word: never formatted, nothing eaten.
    ("R-1rollout0_1 and R-2rollout0_2", "<span>R-1rollout0_1 and R-2rollout0_2</span>"),
    ("state awaiting_approval → rolled_back", "<span>state awaiting_approval → rolled_back</span>"),
    ("snake_case_name", "<span>snake_case_name</span>"),
    ("2*3*4 and a~b~c", "<span>2*3*4 and a~b~c</span>"),
    ("https://example.com/a_b_c", "<span>https://example.com/a_b_c</span>"),
    # Marks next to spaces are not marks.
    ("_ not italic _ and * not bold *", "<span>_ not italic _ and * not bold *</span>"),
    # Never inside code.
    ("`_not italic_` and `*x*`", "<span><code>_not italic_</code> and <code>*x*</code></span>"),
    # At boundaries punctuation is fine, and styles nest.
    ("(_quiet_), *loud*!", "<span>(<em>quiet</em>), <strong>loud</strong>!</span>"),
    (
        "*bold with _italic_ inside*",
        "<span><strong>bold with <em>italic</em> inside</strong></span>",
    ),
    ("*R-1 · `rolled_back`*", "<span><strong>R-1 · <code>rolled_back</code></strong></span>"),
]


def test_mrkdwn_is_drawn_as_slack_draws_it(page: Page) -> None:
    drawn = {text: render(page, text) for text, _ in SLACK_DOCS + WORD_BOUNDARIES}
    wrong = {
        text: drawn[text] for text, html in SLACK_DOCS + WORD_BOUNDARIES if drawn[text] != html
    }
    assert wrong == {}


def test_emoji_shortcodes_come_from_slacks_table_and_unknown_codes_stay_typed(page: Page) -> None:
    html = render(page, ":rocket: Deploying, :large_green_circle: Approved :pizza: :not_an_emoji:")
    assert 'title=":rocket:"' in html and "\U0001f680" in html
    assert "\U0001f7e2" in html and "\U0001f355" in html
    assert html.endswith(" :not_an_emoji:</span>")
    # The underscores of a shortcode are never read as italics.
    assert "<em>" not in render(page, ":white_check_mark: and :white_large_square:")
    assert "\u2b1c" in render(page, ":white_large_square: QA sign-off")
