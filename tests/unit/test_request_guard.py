"""The checks every request passes before it is parsed: Slack's signature over raw bytes,
a fresh numeric timestamp, a decodable body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.app.request_guard import Refused, decode_slack_body, verify_slack_signature

# Slack's documented example (tests/unit/contracts/README.md says where it comes from).
VECTOR = json.loads(
    (Path(__file__).parent / "contracts" / "slack-signature-vector.json").read_text()
)


def _verify(**changes: object) -> None:
    values: dict[str, object] = {
        "secret": VECTOR["signing_secret"],
        "timestamp": VECTOR["timestamp"],
        "signature": VECTOR["signature"],
        "body": VECTOR["body"].encode(),
        "now": float(VECTOR["timestamp"]) + 10,
    }
    values.update(changes)
    verify_slack_signature(**values)  # type: ignore[arg-type]


def test_slacks_documented_example_verifies() -> None:
    _verify()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"signature": "v0=" + "0" * 64}, "bad_signature"),
        ({"signature": "v0=é"}, "bad_signature"),
        ({"body": VECTOR["body"].encode() + b"&text=deploy"}, "bad_signature"),
        ({"now": float(VECTOR["timestamp"]) + 301}, "stale"),
        ({"timestamp": "1531420618.5"}, "bad_timestamp"),
        ({"timestamp": "soon"}, "bad_timestamp"),
        ({"timestamp": ""}, "bad_timestamp"),
        ({"timestamp": "١٥٣١٤٢٠٦١٨"}, "bad_timestamp"),  # digits, but not ASCII ones
    ],
)
def test_anything_else_is_401(changes: dict[str, object], reason: str) -> None:
    with pytest.raises(Refused) as refused:
        _verify(**changes)
    assert (refused.value.status, refused.value.reason) == (401, reason)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"text=\xff", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnope", "application/x-www-form-urlencoded"),
        (b"payload=%22a+string%22", "application/x-www-form-urlencoded"),
        (b"[1, 2]", "application/json"),
        (b"{", "application/json; charset=utf-8"),
    ],
)
def test_a_malformed_body_is_400(body: bytes, content_type: str) -> None:
    with pytest.raises(Refused) as refused:
        decode_slack_body(body, content_type)
    assert refused.value.status == 400


def test_a_well_formed_body_is_handed_on_as_text() -> None:
    body = b"payload=%7B%22type%22%3A%22block_actions%22%7D"
    assert decode_slack_body(body, "application/x-www-form-urlencoded") == body.decode()
