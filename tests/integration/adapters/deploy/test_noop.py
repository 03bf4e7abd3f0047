"""The `noop` backend: a dry run that deploys nothing, configured like any other backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.domain.config import needed_secrets
from bot.ports.deploy import DeployState
from integrations.deploy.noop import NoopSettings
from integrations.deploy.registry import ConfiguredBackends
from tests.integration.adapters.deploy.conftest import make_request
from tests.unit.test_config import MINIMAL, config_error, load_text

NOOP_SERVICE = '\n[services.ledger]\nbackend = "noop"\n'


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[ConfiguredBackends]:
    # A dry run calls nothing: any HTTP request would fail the stage.
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(599))) as http:
        yield ConfiguredBackends(
            config=load_text(tmp_path, MINIMAL + NOOP_SERVICE),
            http=http,
            state_dir=tmp_path / "state",
            public_url="http://releasebot.invalid",
            callback_lookup=lambda token: None,
            environ={},
        )


def test_a_noop_service_needs_no_keys_and_no_secrets(tmp_path: Path) -> None:
    config = load_text(tmp_path, MINIMAL + NOOP_SERVICE)

    assert config.backend_settings("ledger") == NoopSettings()
    assert [s for s in needed_secrets(config) if s.owner == "service 'ledger'"] == []


def test_keys_of_a_real_backend_are_refused_on_a_noop_service(tmp_path: Path) -> None:
    _, error = config_error(tmp_path, MINIMAL + NOOP_SERVICE + 'command = ["./deploy.sh"]\n')

    assert [(p.location, p.message) for p in error.problems] == [
        (
            "services.ledger.command",
            "'command' belongs to backend 'command', but this service uses backend 'noop'",
        )
    ]


def test_each_stage_succeeds_at_once_saying_it_was_a_dry_run(backends: ConfiguredBackends) -> None:
    backend = backends.deployer("ledger")
    request = make_request(service="ledger", version="2.0.0", weight=50)

    handle = backend.start(request)
    status = backend.status(handle)

    assert handle.backend == "noop"
    assert status.state is DeployState.SUCCEEDED
    assert status.message == "dry run: the noop backend deployed nothing"
    # What a real backend would have been given, kept in the persisted handle and shown.
    assert handle.ref["RELEASE_VERSION"] == "2.0.0"
    assert status.output_tail is not None
    assert "RELEASE_SERVICE=ledger" in status.output_tail
    assert "RELEASE_WEIGHT=50" in status.output_tail
    assert "RELEASE_IDEMPOTENCY_KEY=R-12:deploy:0" in status.output_tail
    # Nothing ran, so after a restart there is nothing to find; starting again changes nothing.
    assert backend.find(request) is None


def test_a_rollback_is_a_dry_run_too(backends: ConfiguredBackends) -> None:
    backend = backends.deployer("ledger")
    request = make_request(service="ledger", action="rollback", previous_version="1.9.0")

    status = backend.status(backend.start(request))

    assert status.state is DeployState.SUCCEEDED
    assert status.message == "dry run: the noop backend rolled nothing back"
    assert status.output_tail is not None and "RELEASE_ACTION=rollback" in status.output_tail
