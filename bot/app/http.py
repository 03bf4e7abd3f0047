"""HTTP mode: `/slack/events`, `/healthz`, `/metrics` on an ASGI app served by uvicorn."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest, BoltResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app.request_guard import Refused, decode_slack_body, read_capped, verify_slack_signature
from bot.domain.callbacks import CALLBACK_PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, CallbackRefused
from bot.domain.clock import Clock
from bot.domain.errors import BackendError
from bot.rollout.hooks import SecretOf, accept_callback
from bot.store.async_reads import async_reads
from bot.store.db import Database
from bot.store.health import DatabaseUnusable, WriteCheck, describe_failure

if TYPE_CHECKING:
    from bot.app.bootstrap import Releasebot

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 5.0


class Metrics:
    """The bot's own Prometheus registry (one per app, so tests can build several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "releasebot_slack_requests_total",
            "Slack requests received, by kind and HTTP status.",
            ["kind", "status"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "releasebot_slack_ack_seconds",
            "Time from receiving a Slack request to answering it.",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
            registry=self.registry,
        )
        self.errors = Counter(
            "releasebot_slack_errors_total",
            "Slack requests that failed inside the bot.",
            ["kind"],
            registry=self.registry,
        )
        self.refused = Counter(
            "releasebot_http_refused_total",
            "Requests refused before they were read whole or parsed, by route and reason.",
            ["route", "reason"],
            registry=self.registry,
        )

    def refuse(self, route: str, refusal: Refused, *, error: str | None = None) -> Response:
        """Count, log once and answer a refused request (`error`: the body's, if not the reason)."""
        self.refused.labels(route, refusal.reason).inc()
        log.warning(
            "refused a request to %s: %s",
            route,
            refusal.detail,
            extra={"event": "http.refused", "status": refusal.status},
        )
        return JSONResponse({"ok": False, "error": error or refusal.reason}, refusal.status)


class DatabaseHealth:
    """Answers /healthz from a committed write, and logs each new problem once."""

    def __init__(self, db: Database) -> None:
        self._check = WriteCheck(db)
        self._url = db.engine.url.render_as_string(hide_password=False)
        self._running: asyncio.Future[None] | None = None
        self._problem: str | None = None

    async def healthy(self) -> bool:
        """True when the database took a write within HEALTH_TIMEOUT_SECONDS."""
        if self._running is None or self._running.done():
            # One check at a time: a stuck database must not pile up a thread per probe.
            self._running = asyncio.ensure_future(
                run_in_threadpool(self._check.check, datetime.now(UTC))
            )
        try:
            await asyncio.wait_for(asyncio.shield(self._running), HEALTH_TIMEOUT_SECONDS)
        except TimeoutError:
            return self._unhealthy(f"no answer within {HEALTH_TIMEOUT_SECONDS:g} s")
        except (SQLAlchemyError, DatabaseUnusable) as failure:
            return self._unhealthy(describe_failure(self._url, failure))
        if self._problem is not None:
            log.info("database healthy again", extra={"event": "health.ok"})
            self._problem = None
        return True

    def _unhealthy(self, problem: str) -> bool:
        if problem != self._problem:
            log.warning("database unhealthy: %s", problem, extra={"event": "health.unhealthy"})
            self._problem = problem
        return False


def _kind(body: bytes, content_type: str) -> str:
    if b"command=" in body[:2000] and "form" in content_type:
        return "command"
    if body.startswith(b"payload="):
        return "interaction"
    return "event"


class FastPath(Protocol):
    """Answers some verified slash commands without Bolt (commands/fast_reads.py)."""

    async def answer(self, body: str) -> BoltResponse | None:
        """The ack, or None (at once for what it does not answer) to leave it to Bolt."""
        ...


def slack_routes(
    app: App,
    db: Database,
    metrics: Metrics,
    *,
    signing_secret: str,
    fast_path: FastPath | None = None,
) -> list[BaseRoute]:
    """The routes of SPEC §8 for one Bolt app (`fast_path`: commands/fast_reads.py)."""

    async def events(request: Request) -> Response:
        started = time.perf_counter()
        content_type = request.headers.get("content-type", "")
        try:
            body = await read_capped(request)
            verify_slack_signature(
                secret=signing_secret,
                timestamp=request.headers.get("x-slack-request-timestamp", ""),
                signature=request.headers.get("x-slack-signature", ""),
                body=body,
                now=time.time(),
            )
            text = decode_slack_body(body, content_type)
        except Refused as refusal:
            return metrics.refuse("/slack/events", refusal)
        kind = _kind(body, content_type)
        bolt_response = None
        if fast_path is not None and kind == "command":
            bolt_response = await fast_path.answer(text)
        if bolt_response is None:
            bolt_request = BoltRequest(
                body=text,
                query=dict(request.query_params),
                headers={k: v for k, v in request.headers.items()},
            )
            try:
                # Bolt's dispatch is synchronous: keep it off the event loop.
                bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
            except Exception:
                metrics.errors.labels(kind).inc()
                raise
        elapsed = time.perf_counter() - started
        metrics.requests.labels(kind, str(bolt_response.status)).inc()
        metrics.ack_seconds.labels(kind).observe(elapsed)
        log.info(
            "slack %s answered %s",
            kind,
            bolt_response.status,
            extra={
                "event": f"slack.{kind}",
                "request_id": request.headers.get("x-slack-request-timestamp", ""),
                "status": bolt_response.status,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    health = DatabaseHealth(db)

    async def healthz(_: Request) -> Response:
        if await health.healthy():
            return JSONResponse({"status": "ok", "database": "ok"})
        # Unauthenticated callers learn no host, port or driver text (issue 9.15).
        return JSONResponse({"status": "unhealthy", "database": "unavailable"}, 503)

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/slack/events", events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def hook_routes(
    db: Database,
    *,
    clock: Clock,
    secret_of: SecretOf,
    on_callback: Callable[[], None],
    metrics: Metrics | None = None,
    redact: Callable[[str], str] | None = None,
) -> list[BaseRoute]:
    """`POST /hooks/deploy/<token>`: signed status callbacks from webhook deploy services."""
    metrics = metrics or Metrics()

    async def deploy_callback(request: Request) -> Response:
        try:
            body = await read_capped(request)
        except Refused as refusal:
            return metrics.refuse("/hooks/deploy", refusal)
        try:
            await run_in_threadpool(
                lambda: accept_callback(
                    db,
                    token=request.path_params["token"],
                    timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
                    signature=request.headers.get(SIGNATURE_HEADER, ""),
                    body=body,
                    now=clock.now(),
                    secret_of=secret_of,
                    redact=redact,
                )
            )
        except BackendError as refusal:
            # The deploy service's operator needs the reason; it names no secret. A replay or a
            # callback after a final state is a conflict (409), a bad signature or token 401.
            status = refusal.status if isinstance(refusal, CallbackRefused) else 401
            reason = "conflict" if status == 409 else "bad_request" if status == 400 else "rejected"
            rejected = Refused(status, reason, refusal.message)
            return metrics.refuse("/hooks/deploy", rejected, error=refusal.message)
        on_callback()
        return JSONResponse({"ok": True})

    return [Route(CALLBACK_PATH, deploy_callback, methods=["POST"])]


def create_http_app(
    app: App,
    db: Database,
    *,
    signing_secret: str,
    extra_routes: Sequence[BaseRoute] = (),
    metrics: Metrics | None = None,
) -> Starlette:
    """The ASGI app of `releasebot serve` (and, with the console's routes, `releasebot`)."""
    routes = slack_routes(app, db, metrics or Metrics(), signing_secret=signing_secret)
    return Starlette(routes=[*routes, *extra_routes])


def releasebot_app(
    bot: Releasebot,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    on_start: Callable[[], None] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    metrics: Metrics | None = None,
) -> Starlette:
    """The ASGI app of a running bot: Slack's routes, health, metrics and deploy callbacks,
    then `extra_routes`. `on_start` runs as it starts serving; on the way out the fast reads'
    connections are closed on the loop that opened them, then `on_stop` runs."""
    from commands.fast_reads import FastReads

    metrics = metrics or Metrics()
    fast = FastReads(bot.desk, async_reads(bot.db))
    fast.learn_workspace(bot.app)
    routes = [
        *slack_routes(
            bot.app,
            bot.db,
            metrics,
            signing_secret=bot.credentials.signing_secret,
            fast_path=fast,
        ),
        *hook_routes(
            bot.db,
            clock=bot.desk.ctx.clock,
            secret_of=bot.backends.webhook_secret,
            on_callback=bot.engine.kick,
            metrics=metrics,
            redact=bot.backends.redact,
        ),
        *extra_routes,
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if on_start is not None:
            on_start()
        try:
            yield
        finally:
            await fast.close()
            if on_stop is not None:
                await on_stop()

    return Starlette(routes=routes, lifespan=lifespan)
