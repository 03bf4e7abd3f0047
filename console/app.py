"""The console: a Slack-like channel view in the browser, and Slack's side of the wire."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from console.bot_link import BotLink
from console.interactions import ConsoleError, ConsoleFlows
from console.models import SlackApiFailure
from console.settings import ConsoleSettings, ConsoleUser
from console.slack_api import slack_api_routes
from console.state import console_state
from console.workspace import Workspace

__all__ = ["CLOSING", "ConsoleSettings", "ConsoleUser", "create_console_app"]

STATIC = Path(__file__).parent / "static"
# An event stream ends after a while and the browser reconnects (re-reading the state), so a
# server shutdown never waits on a stream that would otherwise stay open for ever.
STREAM_LIFETIME_SECONDS = 25.0
HEARTBEAT_SECONDS = 10.0
# The change kind that ends every open event stream: the server is stopping (Ctrl-C).
CLOSING = "closing"

Handler = Callable[[Request], Awaitable[Response]]


class DemoHealth:
    """The demo service's health, flipped from the console to make a check fail."""

    def __init__(self, healthy: bool) -> None:
        self.healthy = healthy


def create_console_app(settings: ConsoleSettings) -> Starlette:
    """The console's ASGI app: the page, its JSON endpoints, and the Web API stand-in."""
    workspace = settings.build_workspace()
    flows = ConsoleFlows(workspace, settings, BotLink(settings))
    health = DemoHealth(settings.demo_healthy)
    routes: list[BaseRoute] = [
        Route("/", _page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *slack_api_routes(workspace),
        Route("/console/state", _state(workspace, settings, health), methods=["GET"]),
        Route("/console/events", _events(workspace), methods=["GET"]),
        Route("/console/command", _command(flows), methods=["POST"]),
        Route("/console/action", _action(flows), methods=["POST"]),
        Route("/console/view", _view(flows), methods=["POST"]),
        Route("/console/view/close", _view_close(flows), methods=["POST"]),
        Route("/console/ephemeral/dismiss", _dismiss(workspace), methods=["POST"]),
        Route("/console/demo/health", _flip_health(workspace, health), methods=["POST"]),
        Route("/demo/checkout/healthz", _healthz(health), methods=["GET"]),
        Route("/archives/{channel:str}/{stamp:str}", _permalink, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.workspace = workspace
    app.state.health = health
    return app


async def _page(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


async def _permalink(request: Request) -> Response:
    """A message's permalink opens the console on that message (and its thread)."""
    channel = request.path_params["channel"]
    stamp = request.path_params["stamp"]
    if not re.fullmatch(r"[A-Z0-9]+", channel) or not re.fullmatch(r"p\d{7,}", stamp):
        return PlainTextResponse("Not a message link", status_code=404)
    query = {"channel": channel, "message": f"{stamp[1:-6]}.{stamp[-6:]}"}
    thread = request.query_params.get("thread_ts")
    if thread and re.fullmatch(r"\d+\.\d{6}", thread):
        query["thread"] = thread
    return RedirectResponse("/?" + urlencode(query), status_code=302)


async def _body(request: Request) -> dict[str, Any]:
    """A console request's JSON object (ConsoleError otherwise)."""
    try:
        parsed = json.loads(await request.body() or b"{}")
    except ValueError as error:
        raise ConsoleError("The request body is not JSON") from error
    if not isinstance(parsed, dict):
        raise ConsoleError("The request body must be a JSON object")
    return parsed


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise ConsoleError(f"Missing {key}")
        return None
    if not isinstance(value, str):
        raise ConsoleError(f"{key} must be a string")
    return value


def _guarded(handler: Callable[[Request], Awaitable[None]]) -> Handler:
    """Run a console action; its errors become a JSON message, never a crash."""

    async def endpoint(request: Request) -> Response:
        try:
            await handler(request)
        except ConsoleError as error:
            return JSONResponse({"ok": False, "error": error.message}, status_code=error.status)
        except SlackApiFailure as failure:
            return JSONResponse({"ok": False, "error": failure.error}, status_code=400)
        return JSONResponse({"ok": True})

    return endpoint


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _command(flows: ConsoleFlows) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        await flows.command(
            user_id=str(_text(body, "user_id")),
            channel_id=str(_text(body, "channel_id")),
            text=str(_text(body, "text")),
            base_url=_base_url(request),
        )

    return _guarded(handle)


def _action(flows: ConsoleFlows) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        await flows.click(
            user_id=str(_text(body, "user_id")),
            action_id=str(_text(body, "action_id")),
            block_id=_text(body, "block_id", required=False),
            value=_text(body, "value", required=False),
            channel_id=_text(body, "channel_id", required=False),
            message_ts=_text(body, "message_ts", required=False),
            view_id=_text(body, "view_id", required=False),
            base_url=_base_url(request),
        )

    return _guarded(handle)


def _view(flows: ConsoleFlows) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        values = body.get("values")
        values = {} if values is None else values
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ConsoleError("values must map block_id to {action_id: value}")
        await flows.submit_view(
            user_id=str(_text(body, "user_id")),
            view_id=str(_text(body, "view_id")),
            values=values,
        )

    return _guarded(handle)


def _view_close(flows: ConsoleFlows) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        await flows.close_view(
            user_id=str(_text(body, "user_id")), view_id=str(_text(body, "view_id"))
        )

    return _guarded(handle)


def _dismiss(workspace: Workspace) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        item = workspace.find_ephemeral(str(_text(body, "ts")))
        if item.user != _text(body, "user_id"):
            raise ConsoleError("That message is not yours to dismiss", status=403)
        workspace.delete_ephemeral(item.ts)

    return _guarded(handle)


def _flip_health(workspace: Workspace, health: DemoHealth) -> Handler:
    async def handle(request: Request) -> None:
        body = await _body(request)
        wanted = body.get("healthy")
        health.healthy = (not health.healthy) if wanted is None else bool(wanted)
        # Not a workspace change, but every open page should redraw the switch.
        workspace.touch("demo")

    return _guarded(handle)


def _healthz(health: DemoHealth) -> Handler:
    async def handle(request: Request) -> Response:
        if health.healthy:
            return PlainTextResponse("ok")
        return PlainTextResponse("unhealthy", status_code=503)

    return handle


def _state(workspace: Workspace, settings: ConsoleSettings, health: DemoHealth) -> Handler:
    async def handle(request: Request) -> Response:
        user_id = request.query_params.get("user_id") or _default_user(settings, workspace)
        if user_id not in workspace.users:
            return JSONResponse({"ok": False, "error": f"No such user: {user_id}"}, 404)
        state = console_state(workspace, settings, user_id=user_id, demo_healthy=health.healthy)
        return JSONResponse(state)

    return handle


def _default_user(settings: ConsoleSettings, workspace: Workspace) -> str:
    if settings.users:
        return settings.users[0].id
    people = [u.id for u in workspace.users.values() if not u.is_bot]
    return people[0] if people else workspace.bot_user_id


def _events(workspace: Workspace) -> Handler:
    async def handle(request: Request) -> Response:
        return StreamingResponse(
            _change_stream(workspace),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return handle


async def _change_stream(workspace: Workspace) -> AsyncIterator[str]:
    """Server-sent events: one `change` (with the revision) per burst of workspace changes."""
    loop = asyncio.get_running_loop()
    changed = asyncio.Event()
    closing = False

    def wake(kind: str) -> None:
        nonlocal closing
        closing = closing or kind == CLOSING
        # Listeners run on whichever thread changed the workspace.
        if not loop.is_closed():
            loop.call_soon_threadsafe(changed.set)

    stop = workspace.add_listener(wake)
    try:
        yield f"retry: 1000\nevent: change\ndata: {workspace.revision}\n\n"
        deadline = loop.time() + STREAM_LIFETIME_SECONDS
        while loop.time() < deadline:
            try:
                await asyncio.wait_for(changed.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            changed.clear()
            if closing:
                return
            yield f"event: change\ndata: {workspace.revision}\n\n"
    finally:
        stop()
