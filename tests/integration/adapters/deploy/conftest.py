"""Fixtures for the deployment backend tests: requests, polling, recorded HTTP, contracts."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from bot.ports.deploy import DeployBackend, DeployHandle, DeployRequest, DeployStatus
from integrations.deploy.http import RetryPolicy

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"


def _load_contract() -> ModuleType:
    spec = importlib.util.spec_from_file_location("deploy_api_contract", HERE / "api_contract.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


api_contract = _load_contract()


def make_request(**overrides: Any) -> DeployRequest:
    """A canary stage of R-12 unless told otherwise."""
    fields: dict[str, Any] = {
        "release_id": "R-12",
        "service": "checkout",
        "version": "1.4.2",
        "environment": "production",
        "action": "deploy",
        "stage_index": 0,
        "stage_name": "canary 10%",
        "weight": 10,
        "colour": None,
        "idempotency_key": "R-12:deploy:0",
    }
    fields.update(overrides)
    return DeployRequest(**fields)


@pytest.fixture
def request_factory() -> Callable[..., DeployRequest]:
    return make_request


def fixture_json(name: str) -> Any:
    """A recorded provider answer from fixtures/."""
    return json.loads((FIXTURES / name).read_text())


def wait_until_finished(
    backend: DeployBackend, handle: DeployHandle, *, within: float = 20.0
) -> DeployStatus:
    """Poll `status` until it is final, failing the test after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        status = backend.status(handle)
        if status.state.finished:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"still {status.state} after {within}s: {status.message}")
        time.sleep(0.05)


class Recorder:
    """A MockTransport far side: routes (method, path) to handlers and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], list[Callable[[httpx.Request], httpx.Response]]] = {}

    def on(
        self, method: str, path: str, *responses: httpx.Response | Callable[..., httpx.Response]
    ) -> None:
        """Answer the next calls to (method, path) with these responses, the last one repeating."""
        handlers = [r if callable(r) else (lambda _req, r=r: r) for r in responses]
        self.routes[(method.upper(), path)] = handlers

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handlers = self.routes.get((request.method, request.url.path))
        if not handlers:
            return httpx.Response(404, json={"message": f"no route for {request.url.path}"})
        handler = handlers.pop(0) if len(handlers) > 1 else handlers[0]
        return handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def far_side() -> Iterator[Recorder]:
    yield Recorder()


class Sleeps:
    """The injected sleep: records delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(attempts=3, sleep=sleeps)


@pytest.fixture
def finished() -> Callable[..., DeployStatus]:
    return wait_until_finished


@pytest.fixture
def recorded() -> Callable[[str], Any]:
    return fixture_json


@pytest.fixture
def contract() -> ModuleType:
    return api_contract
