"""Issue 13's baseline: a bare Bolt `AsyncApp` answering `/release` on Starlette/uvicorn.

Run as `python -m bench.bare_async_bolt` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL
and PORT set. One listener acks with a short ephemeral; the route awaits `AsyncApp.async_dispatch`
on the event loop (no threadpool). It logs like `releasebot serve` (one JSON line per request), so
neither logging nor the server is the gap to the bot.
"""

from __future__ import annotations

import logging
import os
import time

import uvicorn
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.bare_bolt import BARE_ANSWER
from bot.app import logs

log = logging.getLogger(__name__)


def bare_async_app(*, bot_token: str, signing_secret: str, api_url: str) -> AsyncApp:
    """An AsyncApp with the bot's own settings and a single listener that only acks."""
    app = AsyncApp(
        client=AsyncWebClient(token=bot_token, base_url=api_url, timeout=10),
        signing_secret=signing_secret,
        process_before_response=True,
    )

    @app.command("/release")
    async def ack_release(ack: AsyncAck) -> None:
        await ack(response_type="ephemeral", text=BARE_ANSWER)

    return app


def http_app(app: AsyncApp) -> Starlette:
    """`POST /slack/events` awaiting the AsyncApp, and `GET /healthz`."""

    async def events(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        bolt_request = AsyncBoltRequest(
            body=body.decode("utf-8"),
            query=dict(request.query_params),
            headers={k: v for k, v in request.headers.items()},
        )
        bolt_response = await app.async_dispatch(bolt_request)
        log.info(
            "slack command answered %s",
            bolt_response.status,
            extra={
                "event": "slack.command",
                "status": bolt_response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    async def healthz(_: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    """Serve the bare AsyncApp on 127.0.0.1:$PORT, one worker."""
    logs.configure()
    log.info("bare async bolt app starting")
    app = bare_async_app(
        bot_token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        api_url=os.environ["SLACK_API_URL"],
    )
    uvicorn.run(
        http_app(app),
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
