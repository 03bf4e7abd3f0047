"""The demo deploy script tells the truth about a rollback, given what the command backend sends."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.domain.placeholders import release_environment
from bot.ports.deploy import DeployRequest
from integrations.deploy.command import CommandBackend

REPO = Path(__file__).resolve().parents[2]
COMMAND = [str(REPO / "demo" / "deploy.sh"), "{service}", "{version}", "{environment}", "{weight}"]


def _run(request: DeployRequest, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    backend = CommandBackend(command=COMMAND, state_dir=tmp_path / "deploys")
    env = {
        "PATH": os.environ["PATH"],
        "DEMO_DEPLOY_SECONDS": "0",
        "DEMO_STATE_DIR": str(tmp_path / "state"),
        **release_environment(request),
    }
    return subprocess.run(
        backend.argv(request), env=env, capture_output=True, text=True, timeout=30, check=False
    )


def _rollback(version: str, weight: int, previous: str | None) -> DeployRequest:
    return DeployRequest(
        release_id="R-1",
        service="checkout",
        version=version,
        environment="staging",
        action="rollback",
        stage_index=0,
        stage_name="undo" if previous is None else f"roll back to {previous}",
        weight=weight,
        colour=None,
        idempotency_key="R-1:rollback:0:2",
        previous_version=previous,
    )


def test_undoing_a_first_release_says_so_and_serves_nothing(tmp_path: Path) -> None:
    ran = _run(_rollback("1.4.3-bad", 0, None), tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == [
        "[R-1] undoing checkout 1.4.3-bad in staging: nothing was released before, so it is "
        "taken out of traffic and nothing else is deployed (stage: undo)",
        "checkout 1.4.3-bad is undone in staging: it serves 0% of traffic",
    ]


def test_rolling_back_to_an_earlier_release_serves_it(tmp_path: Path) -> None:
    ran = _run(_rollback("1.4.1", 100, "1.4.1"), tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[0] == (
        "[R-1] rollback checkout 1.4.1 to staging at 100% of traffic (stage: roll back to 1.4.1)"
    )
    assert ran.stdout.splitlines()[-1] == "checkout 1.4.1 is serving in staging at 100% of traffic"
