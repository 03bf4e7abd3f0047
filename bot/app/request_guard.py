"""What an HTTP request must pass before anything reads it whole or parses it (issue 9.9).

Slack's payloads are small (a slash command is a few hundred bytes; a block_actions payload
carrying a full card with 50 blocks stays well under 200 KiB), so bodies are capped at
MAX_BODY_BYTES: a declared Content-Length over it is refused without reading a byte, and a
streamed body is refused as soon as it passes the cap. Slack's signature is checked over
the raw bytes before the body is decoded, so an unsigned request costs one HMAC, not a
parse, and a malformed one can only come from someone holding the signing secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request

MAX_BODY_BYTES = 1024 * 1024
# Slack's rule: a request whose timestamp is more than five minutes away may be a replay.
MAX_REQUEST_AGE_SECONDS = 5 * 60


@dataclass
class Refused(Exception):
    """A request that is answered with `status` and otherwise ignored."""

    status: int
    reason: str  # a short label for /metrics
    detail: str  # the log line's explanation

    def __str__(self) -> str:
        return self.detail


async def read_capped(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, or Refused(413) once it is known or seen to be longer than `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "bad_length", f"Content-Length {declared[:20]!r} is not a number")
        if int(declared) > limit:
            raise Refused(413, "too_large", f"a body of {declared} bytes (limit {limit})")
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise Refused(413, "too_large", f"a streamed body over {limit} bytes")
    return bytes(received)


def verify_slack_signature(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float
) -> None:
    """Slack's v0 signature over the raw body, and a fresh numeric timestamp; else 401."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise Refused(401, "bad_timestamp", "X-Slack-Request-Timestamp is not a Unix time")
    if abs(now - int(timestamp)) > MAX_REQUEST_AGE_SECONDS:
        raise Refused(401, "stale", "X-Slack-Request-Timestamp is more than 5 minutes away")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "bad_signature", "X-Slack-Signature does not match")


def decode_slack_body(body: bytes, content_type: str) -> str:
    """The body as text Bolt can parse: UTF-8, and a `payload=` or JSON body that is an
    object; else Refused(400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "not_utf8", "the body is not UTF-8") from None
    if content_type.split(";")[0].strip().lower() == "application/json":
        _json_object(text, "the JSON body")
    elif text.startswith("payload="):
        payload = parse_qs(text, keep_blank_values=True).get("payload", [""])[0]
        _json_object(payload, "payload=")
    return text


def _json_object(text: str, what: str) -> None:
    try:
        parsed = json.loads(text)
    except ValueError:
        raise Refused(400, "bad_payload", f"{what} is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refused(400, "bad_payload", f"{what} is not a JSON object")
