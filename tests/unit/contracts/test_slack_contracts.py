"""Slack's published contracts: the app manifest schema and the request-signing example."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
import yaml
from slack_sdk.signature import SignatureVerifier

from console.testing import ManualClock

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads((HERE / "slack-manifest.schema.1.0.0.json").read_text())
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    jsonschema.validate(manifest, schema)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/release"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def test_a_manifest_with_a_typo_is_refused_by_the_schema() -> None:
    schema = json.loads((HERE / "slack-manifest.schema.1.0.0.json").read_text())
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    manifest["settings"]["interactivty"] = manifest["settings"].pop("interactivity")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, schema)


@pytest.fixture
def vector() -> dict[str, str]:
    loaded: dict[str, str] = json.loads((HERE / "slack-signature-vector.json").read_text())
    return loaded


def _verifier(vector: dict[str, str], *, now: float) -> SignatureVerifier:
    return SignatureVerifier(
        vector["signing_secret"],
        clock=ManualClock(datetime.fromtimestamp(now, UTC)).for_slack_sdk(),
    )


def _headers(vector: dict[str, str], signature: str | None = None) -> dict[str, str]:
    return {
        "x-slack-request-timestamp": vector["timestamp"],
        "x-slack-signature": signature or vector["signature"],
    }


def test_slacks_documented_example_is_accepted(vector: dict[str, str]) -> None:
    verifier = _verifier(vector, now=float(vector["timestamp"]) + 60)
    assert verifier.is_valid_request(vector["body"], _headers(vector))


@pytest.mark.parametrize(
    ("mutate", "age"),
    [
        (lambda v: {**v, "body": v["body"].replace("roadrunner", "wile")}, 60),
        (lambda v: {**v, "signature": v["signature"][:-1] + "0"}, 60),
        (lambda v: v, 5 * 60 + 1),
    ],
    ids=["altered body", "altered signature", "older than five minutes"],
)
def test_the_example_altered_or_late_is_refused(vector: dict[str, str], mutate, age: int) -> None:  # type: ignore[no-untyped-def]
    changed = mutate(vector)
    verifier = _verifier(vector, now=float(vector["timestamp"]) + age)
    assert not verifier.is_valid_request(changed["body"], _headers(vector, changed["signature"]))
