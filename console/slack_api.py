"""The Slack Web API stand-in over HTTP: `POST /api/{method}` and `POST /response/{token}`.

Point a bot's `SLACK_API_URL` (or `WebClient(base_url=…/api/)`) here; every call is answered
with Slack's JSON shapes and error codes and recorded in `workspace.calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from console.models import Fault, JsonDict, ResponseUrl, SlackApiFailure
from console.scopes import method_scope, require_scope
from console.web_api_methods import METHODS, Args, flag_arg, message_content, text_arg
from console.workspace import Workspace

__all__ = ["SlackApiFailure", "Workspace", "create_slack_api_app", "slack_api_routes"]

# Arguments that arrive as JSON text in form bodies; recorded decoded so tests can inspect them.
_JSON_ARGS = ("blocks", "view", "attachments")
_FAULT_POLL_SECONDS = 0.05


async def read_args(request: Request) -> tuple[Args, str | None]:
    """Arguments from the query, a form or a JSON body, and the token (header first)."""
    args: Args = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        if body.strip():
            try:
                parsed = json.loads(body)
            except ValueError as error:
                raise SlackApiFailure("invalid_json") from error
            if not isinstance(parsed, dict):
                raise SlackApiFailure("json_not_object")
            # Slack ignores a token inside a JSON body: JSON calls authenticate by header only.
            parsed.pop("token", None)
            args.update(parsed)
    elif body:
        if content_type not in ("", "application/x-www-form-urlencoded"):
            raise SlackApiFailure("invalid_form_data")
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError) as error:
            raise SlackApiFailure("invalid_form_data") from error
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    if not token:
        token = text_arg(args, "token")
    return args, token


def _recordable(args: Args) -> JsonDict:
    """The call's arguments without the token, JSON text decoded."""
    kept: JsonDict = {}
    for key, value in args.items():
        if key == "token":
            continue
        if key in _JSON_ARGS and isinstance(value, str):
            # Undecodable text is kept as sent: the failed call is what a test wants to see.
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        kept[key] = value
    return kept


def _answer(
    workspace: Workspace,
    method: str,
    args: Args,
    body: JsonDict,
    status: int = 200,
    headers: dict[str, str] | None = None,
    at: datetime | None = None,
) -> Response:
    workspace.record(method, _recordable(args), body, status, at=at)
    return JSONResponse(body, status_code=status, headers=headers)


def _failure(
    workspace: Workspace,
    method: str,
    args: Args,
    failure: SlackApiFailure,
    at: datetime | None = None,
) -> Response:
    return _answer(workspace, method, args, failure.body(), failure.status, at=at)


async def _fault_answer(
    workspace: Workspace, method: str, args: Args, fault: Fault, request: Request
) -> Response:
    """What an injected fault looks like to the client."""
    if fault.kind == 429:
        body: JsonDict = {"ok": False, "error": "ratelimited"}
        return _answer(workspace, method, args, body, 429, {"Retry-After": "1"})
    if fault.kind == "timeout":
        arrived = workspace.now()
        # Hold the request until the client gives up (disconnects) or the hold ends.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + workspace.fault_timeout_seconds
        while loop.time() < deadline and not await request.is_disconnected():
            await asyncio.sleep(_FAULT_POLL_SECONDS)
        body = {"ok": False, "error": "timeout"}
        return _answer(workspace, method, args, body, 504, at=arrived)
    if isinstance(fault.kind, str):
        return _answer(workspace, method, args, {"ok": False, "error": fault.kind})
    return _answer(workspace, method, args, {"ok": False, "error": "fatal_error"}, fault.kind)


def _rate_limited(workspace: Workspace, method: str, args: Args) -> bool:
    reference = text_arg(args, "channel")
    if reference is None:
        return False
    try:
        channel_id = workspace.channel(reference).id
    except SlackApiFailure:
        return False  # the method itself answers channel_not_found
    return not workspace.allow_send(method, channel_id)


async def web_api(workspace: Workspace, request: Request) -> Response:
    """One Web API call: parse, authenticate, inject faults, rate-limit, answer, record."""
    method = str(request.path_params["method"])
    try:
        args, token = await read_args(request)
    except SlackApiFailure as failure:
        return _failure(workspace, method, {}, failure)
    handler = METHODS.get(method)
    if handler is None:
        return _answer(workspace, method, args, {"ok": False, "error": "unknown_method"}, 404)
    if token is None:
        return _failure(workspace, method, args, SlackApiFailure("not_authed"))
    if token != workspace.bot_token:
        return _failure(workspace, method, args, SlackApiFailure("invalid_auth"))
    try:
        require_scope(workspace.bot_scopes, method_scope(method))
    except SlackApiFailure as failure:
        return _failure(workspace, method, args, failure)
    fault = workspace.take_fault(method)
    if fault is not None:
        return await _fault_answer(workspace, method, args, fault, request)
    if _rate_limited(workspace, method, args):
        body: JsonDict = {"ok": False, "error": "ratelimited"}
        return _answer(workspace, method, args, body, 429, {"Retry-After": "1"})
    try:
        return _answer(workspace, method, args, handler(workspace, args))
    except SlackApiFailure as failure:
        return _failure(workspace, method, args, failure)


def apply_response(workspace: Workspace, record: ResponseUrl, payload: dict[str, Any]) -> None:
    """Do what a response_url body asks: delete, replace, or post (ephemeral by default)."""
    if flag_arg(payload, "delete_original"):
        if record.source_ts is None:
            return
        if record.source_is_ephemeral:
            workspace.delete_ephemeral(record.source_ts)
        else:
            workspace.delete_message(record.channel, record.source_ts)
        return
    text, blocks = message_content(payload)
    if flag_arg(payload, "replace_original") and record.source_ts is not None:
        if record.source_is_ephemeral:
            workspace.replace_ephemeral(record.source_ts, text=text or "", blocks=blocks)
        else:
            # Replacing drops blocks the new body does not carry, as Slack does.
            workspace.update_message(
                record.channel, record.source_ts, text=text or "", blocks=blocks or []
            )
        return
    thread_ts = text_arg(payload, "thread_ts")
    if text_arg(payload, "response_type") == "in_channel":
        workspace.post_message(record.channel, text=text or "", blocks=blocks, thread_ts=thread_ts)
    else:
        workspace.post_ephemeral(
            record.channel, record.user_id, text=text or "", blocks=blocks, thread_ts=thread_ts
        )


async def response_url(workspace: Workspace, request: Request) -> Response:
    """A POST to a response_url the console issued (30 minutes, 5 uses)."""
    token = str(request.path_params["token"])
    method = "response_url"
    try:
        payload = json.loads(await request.body() or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        failure = SlackApiFailure("invalid_payload", status=400)
        return _failure(workspace, method, {"token_path": token}, failure)
    try:
        record = workspace.use_response_url(token)
        apply_response(workspace, record, payload)
    except SlackApiFailure as failure:
        if failure.error in ("invalid_blocks", "invalid_blocks_format", "no_text"):
            failure.status = 400
        return _failure(workspace, method, payload, failure)
    return _answer(workspace, method, payload, {"ok": True})


def slack_api_routes(workspace: Workspace) -> list[BaseRoute]:
    """The routes to mount in another app (the console serves them next to its page)."""

    async def api_endpoint(request: Request) -> Response:
        return await web_api(workspace, request)

    async def response_endpoint(request: Request) -> Response:
        return await response_url(workspace, request)

    return [
        Route("/api/{method:str}", api_endpoint, methods=["GET", "POST"]),
        Route("/response/{token:str}", response_endpoint, methods=["POST"]),
    ]


def create_slack_api_app(workspace: Workspace) -> Starlette:
    """A standalone ASGI app serving only the Web API stand-in."""
    return Starlette(routes=slack_api_routes(workspace))
