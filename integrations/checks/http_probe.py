"""The `http` check: GET a URL and compare status, body and latency with what is expected."""

from __future__ import annotations

import codecs
from datetime import timedelta

import httpx

from bot.domain.checks.measurement import Measurement, Outcome
from bot.domain.clock import Clock, ensure_utc

# A health endpoint answers in bytes, not megabytes; the cap keeps a runaway body from
# filling memory while still finding a marker near the top.
BODY_LIMIT = 1024 * 1024


def format_latency(value: timedelta) -> str:
    """Milliseconds below ten seconds (`120 ms`), seconds above (`12.3 s`)."""
    seconds = value.total_seconds()
    if seconds < 10:
        return f"{round(seconds * 1000)} ms"
    return f"{seconds:.1f} s"


def _decode(body: bytes, charset: str | None) -> str:
    try:
        codec = codecs.lookup(charset or "utf-8").name
    except LookupError:
        codec = "utf-8"
    return body.decode(codec, errors="replace")


def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= BODY_LIMIT:
            break
    return b"".join(chunks)[:BODY_LIMIT]


def transport_reason(error: httpx.HTTPError | httpx.InvalidURL) -> str:
    """The far side's fault in words, with its kind (`ConnectError: connection refused`)."""
    text = str(error).strip()
    kind = type(error).__name__
    return f"{kind}: {text}" if text else kind


class HttpProbe:
    """GET a URL; a wrong status, missing body text or slow answer fails, no answer errors."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        expect_status: int = 200,
        body_contains: str | None = None,
        max_latency: timedelta | None = None,
        http: httpx.Client,
        clock: Clock,
    ) -> None:
        self.name = name
        self.url = url
        self.expect_status = expect_status
        self.body_contains = body_contains
        self.max_latency = max_latency
        self._http = http
        self._clock = clock

    def measure(self) -> Measurement:
        """Take one measurement."""
        started = self._clock.now()
        try:
            with self._http.stream("GET", self.url) as response:
                body = _read_capped(response)
        except httpx.TimeoutException as error:
            waited = format_latency(self._clock.now() - started)
            return self._done(
                Outcome.ERROR,
                None,
                f"GET {self.url} timed out after {waited} ({type(error).__name__})",
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return self._done(
                Outcome.ERROR, None, f"GET {self.url} failed: {transport_reason(error)}"
            )
        latency = self._clock.now() - started
        seconds = latency.total_seconds()
        summary = f"HTTP {response.status_code} in {format_latency(latency)}"
        if response.status_code != self.expect_status:
            return self._done(
                Outcome.FAILURE, seconds, f"{summary} (expected {self.expect_status})"
            )
        if self.body_contains is not None:
            text = _decode(body, response.charset_encoding)
            if self.body_contains not in text:
                return self._done(
                    Outcome.FAILURE,
                    seconds,
                    f"{summary}, but the body does not contain {self.body_contains!r}",
                )
        if self.max_latency is not None and latency > self.max_latency:
            bound = format_latency(self.max_latency)
            return self._done(Outcome.FAILURE, seconds, f"{summary}, slower than the {bound} bound")
        return self._done(Outcome.SUCCESS, seconds, summary)

    def _done(self, outcome: Outcome, value: float | None, detail: str) -> Measurement:
        return Measurement(outcome, value, detail, ensure_utc(self._clock.now()))
