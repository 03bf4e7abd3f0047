"""Flag-client fixtures: a recording far side and the shared contract checker."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from integrations.deploy.http import RetryPolicy

HERE = Path(__file__).parent
Handler = Callable[[httpx.Request], httpx.Response]


def _load_checker() -> ModuleType:
    # One checker for deploy and flags tests; loaded by path (test folders are not packages).
    path = HERE.parent / "deploy" / "api_contract.py"
    spec = importlib.util.spec_from_file_location("flags_api_contract", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


_checker = _load_checker()


class FarSide:
    """Answers from a script of handlers, records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.script: list[Handler] = []

    def answer(self, *handlers: Handler | httpx.Response) -> None:
        for h in handlers:
            self.script.append(h if callable(h) else self._fixed(h))

    @staticmethod
    def _fixed(response: httpx.Response) -> Handler:
        return lambda _request: response

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.script, f"unexpected {request.method} {request.url}"
        return self.script.pop(0)(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@pytest.fixture
def far_side() -> FarSide:
    return FarSide()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def retry(sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts=3, sleep=sleeps.append)


@pytest.fixture
def described() -> Callable[[str], object]:
    """A vendored description from api/, with `.check(request)`."""

    def load(name: str) -> object:
        return _checker.ApiDescription(HERE / "api" / name)

    return load
