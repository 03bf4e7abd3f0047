"""Webhook backend: a signed JSON POST to the team's own deploy service.

Contract (what a receiver implements):
- Each call is a JSON POST (or, for status, a GET) with `X-Releasebot-Timestamp: <unix seconds>`
  and `X-Releasebot-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`; refuse
  bad signatures and timestamps more than 5 minutes old.
- `Idempotency-Key` is stable across retries and restarts; a receiver must treat a repeated key
  as the same request. That is why releasebot retries this POST on timeouts and 5xx.
- A cancel is the same POST with `"action": "cancel"` and its own key (`<key>:cancel`).
- The POST's JSON carries `action` (deploy | rollback), `version`, `weight`, `colour`, `stage`
  and `previous_version`: the version live when the rollout started. A rollback with an empty
  `previous_version` means nothing was released before: undo `version` (weight 0), deploy
  nothing else.
- Status, either: `GET status_url` (placeholders allowed, e.g. `…/deploys/{idempotency_key}`)
  answering `{"state", "message", "url"}`; or a signed callback to
  `POST /hooks/deploy/<token>` on releasebot with the same JSON, verified by `verify_callback`.
States: pending, running, succeeded, failed, cancelled.

Callbacks are ordered. Each carries `"sequence"`: a non-negative integer that grows with every
callback about one deployment (a counter, or the event time in milliseconds), signed with the
rest of the body. Releasebot answers 200 when it took the callback; 400 for a body it cannot
read (no JSON, unknown state, no sequence); 401 for a bad signature, a timestamp more than five
minutes away or an unknown token; 409 for a replay or a late delivery (a sequence not above the
last one accepted), for anything after a final state (succeeded, failed, cancelled: a final
state is final), and for a deployment that has ended. A 409 is audited on the plan; do not
retry it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from bot.domain.callbacks import (
    CALLBACK_PATH,
    SIGNATURE_HEADER,
    STATES,
    TIMESTAMP_HEADER,
    callback_token,
    sign,
)
from bot.domain.callbacks import CallbackRefused as CallbackRefused  # the contract, re-exported
from bot.domain.callbacks import verify_callback as verify_callback
from bot.domain.clock import Clock, SystemClock
from bot.domain.errors import BackendError, InvalidInput
from bot.domain.placeholders import check_template, render, values_for
from bot.ports.deploy import DeployHandle, DeployRequest, DeployState, DeployStatus
from integrations.deploy.http import ProviderHttp, RetryPolicy, secret_or_env

CallbackLookup = Callable[[str], Mapping[str, Any] | None]


def _status_from(payload: Mapping[str, Any], fallback_url: str | None) -> DeployStatus:
    state = STATES.get(str(payload.get("state")))
    if state is None:
        raise BackendError(
            f"the deploy service reported an unknown state {payload.get('state')!r}; "
            f"expected one of {', '.join(STATES)}"
        )
    message = str(payload.get("message") or f"the deploy service says {state.value}")
    output = payload.get("output")
    return DeployStatus(
        state,
        message,
        str(payload.get("url") or "") or fallback_url,
        str(output)[-3000:] if output else None,
    )


class WebhookBackend:
    """POSTs signed JSON to `url`; learns the outcome from `status_url` or callbacks."""

    name = "webhook"

    def __init__(
        self,
        http: httpx.Client,
        *,
        url: str,
        secret: str | None = None,
        status_url: str | None = None,
        callback_url: str | None = None,
        callback_lookup: CallbackLookup | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not status_url and not (callback_url and callback_lookup):
            raise InvalidInput(
                "the webhook backend needs a status_url to poll, or a callback_url "
                "(with the engine's callback lookup) to be called back on"
            )
        if status_url:
            check_template(status_url, where="webhook status_url")
        self.secret = secret_or_env(secret, "RELEASEBOT_WEBHOOK_SECRET", what="The webhook backend")
        self.target = url
        self.status_url = status_url
        self.callback_url = callback_url
        self.callback_lookup = callback_lookup
        self.clock = clock or SystemClock()
        self.api = ProviderHttp(
            http,
            provider="the deploy webhook",
            base_url=url,
            retry=retry,
            headers={"User-Agent": "releasebot"},
        )

    def start(self, request: DeployRequest) -> DeployHandle:
        token = callback_token(self.secret, request.idempotency_key)
        payload = {
            "release_id": request.release_id,
            "service": request.service,
            "version": request.version,
            "environment": request.environment,
            "action": request.action,
            "stage": request.stage_name,
            "stage_index": request.stage_index,
            "weight": request.weight,
            "colour": request.colour,
            "previous_version": request.previous_version,
            "idempotency_key": request.idempotency_key,
            "callback_url": self._callback_for(token),
        }
        response = self._post(payload, request.idempotency_key)
        url = None
        if response.content:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if isinstance(answer, dict) and answer.get("url"):
                url = str(answer["url"])
        return self._handle(request, token, url)

    def find(self, request: DeployRequest) -> DeployHandle | None:
        token = callback_token(self.secret, request.idempotency_key)
        handle = self._handle(request, token, None)
        if self.status_url:
            response = self._get(str(handle.ref["status_url"]))
            return None if response.status_code == 404 else handle
        assert self.callback_lookup is not None
        # No callback yet: the engine starts again and the receiver dedupes on Idempotency-Key.
        return handle if self.callback_lookup(token) is not None else None

    def status(self, handle: DeployHandle) -> DeployStatus:
        status_url = str(handle.ref.get("status_url", ""))
        if status_url:
            response = self._get(status_url)
            if response.status_code == 404:
                return DeployStatus(
                    DeployState.PENDING, "the deploy service has no status for it yet", handle.url
                )
            payload = self.api.json(response)
            if not isinstance(payload, dict):
                raise BackendError("the deploy webhook's status answer is not a JSON object")
            return _status_from(payload, handle.url)
        assert self.callback_lookup is not None
        received = self.callback_lookup(str(handle.ref["token"]))
        if received is None:
            return DeployStatus(
                DeployState.PENDING, "waiting for the deploy service to call back", handle.url
            )
        return _status_from(received, handle.url)

    def cancel(self, handle: DeployHandle) -> None:
        key = str(handle.ref["key"])
        self._post({"action": "cancel", "idempotency_key": key}, f"{key}:cancel")

    def _post(self, payload: Mapping[str, Any], key: str) -> httpx.Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return self.api.request(
            "POST",
            self.target,
            content=body,
            headers={
                **self._signed(body),
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
            idempotent=True,  # the contract obliges receivers to honour Idempotency-Key
            expected=range(200, 300),
        )

    def _get(self, url: str) -> httpx.Response:
        return self.api.request("GET", url, headers=self._signed(b""), expected=(200, 404))

    def _signed(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(self.clock.now().timestamp()))
        return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.secret, timestamp, body)}

    def _callback_for(self, token: str) -> str | None:
        if not self.callback_url:
            return None
        if "{token}" in self.callback_url:
            return self.callback_url.replace("{token}", token)
        return self.callback_url.rstrip("/") + CALLBACK_PATH.format(token=token)

    def _handle(self, request: DeployRequest, token: str, url: str | None) -> DeployHandle:
        status_url = ""
        if self.status_url:
            safe = {k: quote(v, safe="") for k, v in values_for(request).items()}
            status_url = render(self.status_url, safe)
        return DeployHandle(
            backend=self.name,
            ref={"key": request.idempotency_key, "token": token, "status_url": status_url},
            url=url,
        )
