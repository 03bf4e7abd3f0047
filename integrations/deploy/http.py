"""One HTTP path for every backend: bounded retries, Retry-After, far-side error messages.

Which calls are retried:
- GET and DELETE (idempotent by HTTP semantics) on timeouts, dropped connections, 5xx and 429.
- Any call whose request never left this process (connection refused, connect timeout).
- Any call answered 429 (or GitHub's 403 with Retry-After): a rate-limited request was not
  processed, so sending it again cannot run anything twice.
- POST/PUT/PATCH only where the caller passes `idempotent=True` because the provider documents
  the call as safe to repeat; each backend says which (webhook POSTs carry an Idempotency-Key
  the receiver must honour; flag updates set absolute state).
Everything else fails the stage at once with the provider's own words.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.domain.errors import BackendError, InvalidInput

_RETRYABLE_5XX = frozenset({500, 502, 503, 504})
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: total attempts, exponential backoff, and the injected sleep."""

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 120.0  # a provider asking for a longer wait fails the call instead
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def backoff(self, retry_index: int) -> float:
        """Delay before retry number `retry_index` (0-based): 0.5s, 1s, 2s … capped."""
        return float(min(self.max_delay, self.base_delay * (2**retry_index)))


def describe_error(response: httpx.Response) -> str:
    """The far side's own explanation of a failed call, short enough for a Slack thread."""
    text = response.text
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("message", "error") if isinstance(body.get(k), str)]
        detail = parts[0] if parts else ""
        # GitHub puts the useful part of a 422 in errors[].message.
        errors = body.get("errors")
        if isinstance(errors, list):
            extra = [e["message"] for e in errors if isinstance(e, dict) and e.get("message")]
            extra += [e for e in errors if isinstance(e, str)]
            if extra:
                detail = (
                    f"{detail} ({'; '.join(str(x) for x in extra)})"
                    if detail
                    else "; ".join(str(x) for x in extra)
                )
        if detail:
            return detail[:500]
    if text:
        if "html" in response.headers.get("content-type", ""):
            text = _TAG.sub(" ", text)
        cleaned = _SPACE.sub(" ", text).strip()
        if cleaned:
            return cleaned[:300]
    return response.reason_phrase or "no explanation given"


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _rate_limited(response: httpx.Response) -> bool:
    if response.status_code == 429:
        return True
    # GitHub answers secondary rate limits with 403 + Retry-After.
    return response.status_code == 403 and "retry-after" in response.headers


class ProviderHttp:
    """An httpx client bound to one provider: base URL, auth, retries and error wording."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.client = client
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.auth = auth
        self.retry = retry or RetryPolicy()

    def url(self, path: str) -> str:
        """Absolute URL for a provider path (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        expected: Collection[int] = (200,),
        headers: Mapping[str, str] | None = None,
        hints: Mapping[int, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with bounded retries; return an expected answer or raise BackendError.

        `hints` add a next step to the far side's words for a given status ("check the token").
        """
        method = method.upper()
        safe = idempotent if idempotent is not None else method in ("GET", "HEAD", "DELETE")
        merged = {**self.headers, **(headers or {})}
        label = f"{method} {httpx.URL(self.url(path)).path}"
        retries_done = 0
        while True:
            last_try = retries_done + 1 >= self.retry.attempts
            try:
                if self.auth is not None:
                    kwargs["auth"] = self.auth
                response = self.client.request(method, self.url(path), headers=merged, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # The request never reached the provider: repeating it cannot run anything twice.
                if last_try:
                    raise BackendError(
                        f"could not reach {self.provider} at {self.base_url}: "
                        f"{str(exc) or type(exc).__name__}"
                    ) from exc
            except httpx.TimeoutException as exc:
                if not safe or last_try:
                    raise BackendError(
                        f"{self.provider} did not answer {label} in time"
                        + ("" if safe else "; not retried because the call is not idempotent")
                    ) from exc
            except httpx.TransportError as exc:
                if not safe or last_try:
                    raise BackendError(
                        f"the connection to {self.provider} failed during {label}: {exc}"
                    ) from exc
            else:
                status = response.status_code
                if status in expected:
                    return response
                if _rate_limited(response):
                    wait = _retry_after(response)
                    if wait is not None and wait > self.retry.max_retry_after:
                        raise BackendError(
                            f"{self.provider} is rate limiting releasebot and asked to wait "
                            f"{int(wait)}s ({describe_error(response)})"
                        )
                    if not last_try:
                        self.retry.sleep(
                            wait if wait is not None else self.retry.backoff(retries_done)
                        )
                        retries_done += 1
                        continue
                elif status in _RETRYABLE_5XX and safe and not last_try:
                    self.retry.sleep(self.retry.backoff(retries_done))
                    retries_done += 1
                    continue
                message = f"{self.provider} answered {status}: {describe_error(response)}"
                hint = (hints or {}).get(status)
                raise BackendError(f"{message}. {hint}" if hint else message)
            self.retry.sleep(self.retry.backoff(retries_done))
            retries_done += 1

    def json(self, response: httpx.Response) -> Any:
        """Decode a JSON answer, or say plainly that the provider sent something else."""
        try:
            return response.json()
        except ValueError as exc:
            raise BackendError(
                f"{self.provider} sent a non-JSON answer to {response.request.method} "
                f"{response.request.url.path}: {response.text[:200]!r}"
            ) from exc


def secret_or_env(value: str | None, variable: str, *, what: str) -> str:
    """An explicit secret, else the environment's; secrets never come from the config file."""
    if value:
        return value
    found = os.environ.get(variable, "")
    if not found:
        raise InvalidInput(f"{what} needs a token: set the {variable} environment variable")
    return found
