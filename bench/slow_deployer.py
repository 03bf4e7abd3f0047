"""A deliberately slow deploy service speaking the webhook backend's protocol, for benchmarks.

`POST /deploy` accepts a signed stage (or a cancel) and `GET /status/{idempotency_key}` reports
it, each after a random delay; a stage reports `running` until it has been polled `polls_to_finish`
times, then `succeeded`. An unknown key answers 404, which is how the engine's `find` learns a
start never happened. Every request is counted by kind so a benchmark can report the engine's
backend-call throughput. Delays are asyncio sleeps: the service itself never runs out of threads.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.deploy.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

# Request kinds counted by the service.
FIND = "status 404 (find)"
START = "deploy"
POLL = "status"
CANCEL = "cancel"
REFUSED = "refused"


@dataclass
class SlowDeployer:
    """The service's state: stages started, polls answered, and every request counted."""

    secret: str
    min_delay: float = 2.0
    max_delay: float = 5.0
    polls_to_finish: int = 3
    rng: random.Random = field(default_factory=random.Random)
    polls: dict[str, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    # (monotonic time, release id) of every answered call, to see which rollouts were followed.
    answered: list[tuple[float, str]] = field(default_factory=list)
    in_progress: int = 0
    peak_in_progress: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> Counter[str]:
        """A copy of the request counts so far."""
        with self._lock:
            return Counter(self.counts)

    def _count(self, kind: str, key: str = "") -> None:
        with self._lock:
            self.counts[kind] += 1
            if key:
                # Keys are "<release id>:<phase>:<stage>:<seq>" (bot.rollout.stages):
                # "R-12:rollout:0:1".
                self.answered.append((time.monotonic(), key.split(":", 1)[0]))

    def followed(self, since: float, until: float) -> dict[str, list[float]]:
        """Per release, the times of the calls answered between `since` and `until`."""
        found: dict[str, list[float]] = {}
        with self._lock:
            for at, release in self.answered:
                if since <= at <= until:
                    found.setdefault(release, []).append(at)
        return found

    async def _slowly(self) -> None:
        with self._lock:
            self.in_progress += 1
            self.peak_in_progress = max(self.peak_in_progress, self.in_progress)
        try:
            await asyncio.sleep(self.rng.uniform(self.min_delay, self.max_delay))
        finally:
            with self._lock:
                self.in_progress -= 1

    def _signed(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get(TIMESTAMP_HEADER, "")
        expected = sign(self.secret, timestamp, body)
        return request.headers.get(SIGNATURE_HEADER) == expected

    async def deploy(self, request: Request) -> Response:
        """Accept a stage (or a cancel) after a delay; answer where it can be watched."""
        body = await request.body()
        if not self._signed(request, body):
            self._count(REFUSED)
            return JSONResponse({"error": "bad signature"}, 401)
        payload = json.loads(body)
        key = str(payload["idempotency_key"])
        await self._slowly()
        if payload.get("action") == "cancel":
            self._count(CANCEL, key)
            return JSONResponse({"ok": True})
        self._count(START, key)
        with self._lock:
            self.polls.setdefault(key, 0)  # a repeated key is the same stage
        return JSONResponse({"url": f"{request.base_url}runs/{key}"})

    async def status(self, request: Request) -> Response:
        """`running` until polled `polls_to_finish` times, then `succeeded`; 404 if unknown."""
        if not self._signed(request, b""):
            self._count(REFUSED)
            return JSONResponse({"error": "bad signature"}, 401)
        key = str(request.path_params["key"])
        await self._slowly()
        with self._lock:
            seen = self.polls.get(key)
            if seen is not None:
                self.polls[key] = seen + 1
        if seen is None:
            self._count(FIND, key)
            return JSONResponse({"error": "no such deployment"}, 404)
        self._count(POLL, key)
        state = "succeeded" if seen + 1 >= self.polls_to_finish else "running"
        return JSONResponse({"state": state, "message": f"poll {seen + 1}: {state}"})

    def app(self) -> Starlette:
        """The ASGI app: `POST /deploy` and `GET /status/{key}`."""
        return Starlette(
            routes=[
                Route("/deploy", self.deploy, methods=["POST"]),
                Route("/status/{key:path}", self.status, methods=["GET"]),
            ]
        )


def deploy_url(base_url: str) -> str:
    """Where the webhook backend POSTs stages."""
    return base_url.rstrip("/") + "/deploy"


def status_url(base_url: str) -> str:
    """The backend's `status_url` template (the key is URL-quoted by the backend)."""
    return base_url.rstrip("/") + "/status/{idempotency_key}"
