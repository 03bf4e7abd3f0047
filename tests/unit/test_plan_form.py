"""The plan form's own checks: every field's mistake at once, keyed by the field's block."""

from __future__ import annotations

from typing import Any

from commands.ids import BlockId
from commands.modals import new_plan_from
from commands.render.text import FORM_ERROR_LIMIT, form_error


def form(**entries: Any) -> dict[str, Any]:
    """view.state.values as Slack sends them, for the entries given (block → element state)."""
    return {block: {"value": state} for block, state in entries.items()}


def test_every_mistake_is_reported_at_once_under_its_own_field() -> None:
    new, errors = new_plan_from(
        form(
            **{
                BlockId.SERVICE: {"type": "static_select", "selected_option": None},
                BlockId.VERSION: {"type": "plain_text_input", "value": "1.4 .3"},
                BlockId.ENVIRONMENT: {"type": "static_select", "selected_option": None},
                BlockId.WINDOW_START: {"type": "datetimepicker", "selected_date_time": 1_800_000},
                BlockId.WINDOW_END: {"type": "datetimepicker", "selected_date_time": 1_700_000},
                BlockId.AFTER: {"type": "plain_text_input", "value": "banana"},
            }
        )
    )
    assert new is None
    assert errors == {
        BlockId.SERVICE: "choose the service to release",
        BlockId.VERSION: (
            "'1.4 .3' is not a valid version: use letters, digits and . _ / + @ : -, like "
            "1.4.2, v2.0.0-rc.1 or 2026.11.26+build.7 (no part between slashes may be empty or "
            "start with - or ., and no ..)"
        ),
        BlockId.ENVIRONMENT: "choose where it goes",
        BlockId.WINDOW_END: "the window must close after it opens",
        BlockId.AFTER: "'banana' is not a plan id; plan ids look like R-12",
    }


def test_a_refusal_shows_in_the_form_as_plain_text_and_whole() -> None:
    # A modal's error is plain text: mrkdwn's escapes and mentions would show as typed.
    said = 'planned by <@U0RITA>; run `/release unlock web prod "&lt;reason&gt;"` &amp; retry'
    assert (
        form_error(said) == 'planned by @U0RITA; run `/release unlock web prod "<reason>"` & retry'
    )
    # Past the limit it is cut at a word, never inside one, and says so.
    long = " ".join(["checkout"] * 100)
    shown = form_error(long)
    assert len(shown) <= FORM_ERROR_LIMIT
    assert shown.endswith("checkout…")
