"""README story 3 in the console, on a fresh database (issue 14.1): the demo health endpoint
is flipped unhealthy, Rita deploys the first release of checkout to staging, the failing check
rolls it back by itself — and the rollback undoes 1.4.2 (weight 0) instead of deploying it at
100 %: nothing is left more exposed than before the deploy.

The demo deploy script is wrapped by one that records each call's arguments and RELEASE_*
variables before running it, so the test sees what the deploy command was asked to do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import REPO, Demo, started_demo
from tests.e2e.console_page import ROLLOUT_TIMEOUT_MS, ConsolePage

pytestmark = pytest.mark.browser

UNDO = "nothing was released before; undoing 1.4.2"
RECORDER = """#!/bin/sh
# Records the call (argv and RELEASE_* variables), then runs the demo deploy script.
{{ printf '%s ' "$@"; echo; env | grep '^RELEASE_' | sort; echo --; }} >> "{log}"
exec "{script}" "$@"
"""


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    return tmp_path / "deploy-calls.log"


@pytest.fixture
def demo(tmp_path: Path, demo_env: None, calls: Path) -> Iterator[Demo]:
    """The e2e console stack, with the demo deploy script behind a recording wrapper."""
    wrapper = tmp_path / "deploy.sh"
    wrapper.write_text(RECORDER.format(log=calls, script=REPO / "demo" / "deploy.sh"))
    wrapper.chmod(0o755)
    script = f'"{REPO / "demo" / "deploy.sh"}"'

    def behind_the_wrapper(text: str) -> str:
        assert script in text
        return text.replace(script, f'"{wrapper}"')

    with started_demo(tmp_path, edit_config=behind_the_wrapper) as running:
        yield running


def _calls(log: Path) -> list[dict[str, str]]:
    records = []
    for chunk in log.read_text().split("--\n") if log.exists() else []:
        lines = chunk.splitlines()
        if lines:
            record = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
            record["argv"] = lines[0].strip()
            records.append(record)
    return records


def test_a_first_release_whose_check_fails_is_undone_never_sent_to_everyone(
    console: ConsolePage, demo: Demo, calls: Path
) -> None:
    console.flip_demo_health(to="unhealthy")
    console.send("/release plan checkout 1.4.2 to staging")
    card = console.card("R-1")
    expect(card).to_contain_text("Approved")
    expect(card).to_contain_text(UNDO)  # what a rollback would do, shown before the deploy

    console.click(card, "Deploy", confirm="Deploy")
    expect(card).to_contain_text("Rolled back", timeout=ROLLOUT_TIMEOUT_MS)
    expect(card).to_contain_text(UNDO)
    expect(console.thread_of(card)).to_contain_text(UNDO)
    alert = console.messages.locator("li.message").filter(has_text="checkout-health")
    expect(alert.first).to_contain_text(UNDO)
    console.open_channel("#oncall")
    expect(console.messages).to_contain_text(UNDO)

    made = _calls(calls)
    assert [c["argv"] for c in made] == ["checkout 1.4.2 staging 10", "checkout 1.4.2 staging 0"]
    undo = made[-1]
    assert (undo["RELEASE_ACTION"], undo["RELEASE_VERSION"], undo["RELEASE_WEIGHT"]) == (
        "rollback",
        "1.4.2",
        "0",
    )
    assert undo["RELEASE_PREVIOUS_VERSION"] == ""
    assert all(c.get("RELEASE_WEIGHT") != "100" for c in made)
