"""Logs are one JSON object per line, and never carry a token or a secret."""

from __future__ import annotations

import json
import logging

from bot.app.logs import JsonFormatter, ReadableFormatter, redact


def _format(message: str, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("releasebot", logging.INFO, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(record, key, value)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


def test_a_record_is_one_json_line_with_its_ids() -> None:
    entry = _format("plan created", plan_id=12, request_id="1764000000", event="plan.created")
    assert entry["message"] == "plan created"
    assert (entry["plan_id"], entry["request_id"], entry["event"]) == (
        12,
        "1764000000",
        "plan.created",
    )
    assert entry["level"] == "info"


def test_tokens_and_secrets_are_redacted() -> None:
    leaked = "calling with xoxb-1234-5678-abcdef and xapp-1-A0-99 token=hunter2&secret=s3cr3t"
    entry = _format(leaked)
    assert "xoxb" not in str(entry["message"]) and "xapp" not in str(entry["message"])
    assert "hunter2" not in str(entry["message"]) and "s3cr3t" not in str(entry["message"])
    assert redact("nothing to hide") == "nothing to hide"


def test_the_console_terminal_gets_one_readable_line_per_record() -> None:
    record = logging.LogRecord(
        "bot.notify.outbox", logging.WARNING, __file__, 1, "posted the card\n  again", (), None
    )
    record.plan_id = 3
    record.request_id = "1764000000"
    try:
        raise RuntimeError("slack said\nratelimited for xoxb-1234-5678-abcdef")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    line = ReadableFormatter().format(record)
    assert "\n" not in line and not line.startswith("{")
    assert line.endswith(
        "warning R-3 posted the card again (RuntimeError: slack said ratelimited for [redacted])"
    )


def test_libraries_speak_only_when_something_is_wrong() -> None:
    from bot.app.logs import configure

    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure()
        # httpx logs every request at INFO: each check measurement and backend poll.
        for chatty in ("httpx", "apscheduler", "slack_sdk", "alembic"):
            assert not logging.getLogger(chatty).isEnabledFor(logging.INFO), chatty
            assert logging.getLogger(chatty).isEnabledFor(logging.WARNING), chatty
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
