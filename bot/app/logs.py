"""Structured logs: one JSON object per line, tokens and secrets never written."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_SECRET = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|(?i:(?:secret|token)=)[^&\s]+)"
)


QUIET_LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "apscheduler",
    "alembic",
    "uvicorn.access",
    # One INFO line per request: every check measurement and backend poll, dozens a minute.
    "httpx",
)


def redact(text: str) -> str:
    """Replace anything shaped like a Slack token or a `secret=`/`token=` value."""
    return _SECRET.sub("[redacted]", text)


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line, with request and plan ids when the caller gave them."""

    EXTRA_KEYS = ("request_id", "plan_id", "event", "method", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for key in self.EXTRA_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    """A log record as one line a person reads in a terminal: `20:19:13 warning R-3 …`.

    For the offline console, whose terminal a person watches; `serve` keeps JSON for log
    pipelines. An exception adds its last line (type and message), not the whole traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).astimezone().strftime("%H:%M:%S")
        plan = getattr(record, "plan_id", None)
        words = " ".join(redact(record.getMessage()).split())
        ref = f"R-{plan} " if isinstance(plan, int) else (f"{plan} " if plan else "")
        line = f"{stamp} {record.levelname.lower():<7} {ref}{words}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {redact(' '.join(str(error).split()))})"
        return line


def configure(level: str = "INFO", *, readable: bool = False) -> None:
    """Send every logger's records to stderr: JSON lines, or readable lines for a terminal."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ReadableFormatter() if readable else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries speak only when something is wrong: slack_sdk logs request bodies at DEBUG,
    # APScheduler two INFO lines per poll (240 a minute idle), alembic its plugin set-up on
    # every schema check. The bot's own records say what it did (issue 9.12).
    for chatty in QUIET_LIBRARIES:
        logging.getLogger(chatty).setLevel(logging.WARNING)
