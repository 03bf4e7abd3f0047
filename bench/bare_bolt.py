"""The baseline: a bare Bolt app answering `/release` with a short ephemeral, served like the bot.

Run as `python -m bench.bare_bolt` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL and
PORT set. The route is bot/app/http.py's own shape (body → BoltRequest → `app.dispatch` in the
threadpool), so the gap to `releasebot serve` is what the bot adds, not how it is served.
"""

from __future__ import annotations

import logging
import os

import uvicorn
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.app import logs

BARE_ANSWER = "bare bolt: ok"


def bare_app(*, bot_token: str, signing_secret: str, api_url: str) -> App:
    """A Bolt app with the bot's own settings and a single listener that only acks."""
    app = App(
        client=WebClient(token=bot_token, base_url=api_url, timeout=10),
        signing_secret=signing_secret,
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.command("/release")
    def ack_release(ack: Ack) -> None:
        ack(response_type="ephemeral", text=BARE_ANSWER)

    return app


def http_app(app: App) -> Starlette:
    """One route, `POST /slack/events`, dispatching exactly as bot/app/http.py does."""

    async def events(request: Request) -> Response:
        body = await request.body()
        bolt_request = BoltRequest(
            body=body.decode("utf-8"),
            query=dict(request.query_params),
            headers={k: v for k, v in request.headers.items()},
        )
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
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
    """Serve the bare app on 127.0.0.1:$PORT, one worker, logging like `releasebot serve`."""
    # The same JSON access log line per request as the bot writes, so logging is not the gap.
    logs.configure()
    logging.getLogger(__name__).info("bare bolt app starting")
    app = bare_app(
        bot_token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        api_url=os.environ["SLACK_API_URL"],
    )
    uvicorn.run(http_app(app), host="127.0.0.1", port=int(os.environ["PORT"]), log_config=None)


if __name__ == "__main__":
    main()
