"""The http check against fake far sides (httpx.MockTransport) and a closed local port."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from console.testing import ManualClock
from integrations.checks.probes import HttpProbe, Outcome

START = ManualClock().now()

URL = "http://checkout.internal/healthz"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def slow(
    clock: ManualClock, by: timedelta, response: httpx.Response
) -> Callable[..., httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(by)
        return response

    return handler


def test_expected_status_passes_with_the_latency(clock: ManualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        clock.advance(timedelta(milliseconds=42))
        return httpx.Response(200, text="ok")

    measurement = HttpProbe("checkout-health", URL, http=client(handler), clock=clock).measure()
    assert measurement.outcome is Outcome.SUCCESS
    assert measurement.detail == "HTTP 200 in 42 ms"
    assert measurement.value == pytest.approx(0.042)
    assert measurement.measured_at == START + timedelta(milliseconds=42)
    assert [(r.method, str(r.url)) for r in seen] == [("GET", URL)]


def test_wrong_status_fails_saying_what_was_expected(clock: ManualClock) -> None:
    handler = slow(clock, timedelta(milliseconds=120), httpx.Response(503, text="down"))
    measurement = HttpProbe("h", URL, http=client(handler), clock=clock).measure()
    assert measurement.outcome is Outcome.FAILURE
    assert measurement.detail == "HTTP 503 in 120 ms (expected 200)"


def test_other_expected_status(clock: ManualClock) -> None:
    handler = slow(clock, timedelta(0), httpx.Response(204))
    probe = HttpProbe("h", URL, expect_status=204, http=client(handler), clock=clock)
    assert probe.measure().outcome is Outcome.SUCCESS


def test_missing_body_text_fails(clock: ManualClock) -> None:
    handler = slow(clock, timedelta(0), httpx.Response(200, json={"status": "degraded"}))
    probe = HttpProbe("h", URL, body_contains='"ok"', http=client(handler), clock=clock)
    measurement = probe.measure()
    assert measurement.outcome is Outcome.FAILURE
    assert measurement.detail == "HTTP 200 in 0 ms, but the body does not contain '\"ok\"'"


def test_present_body_text_passes_in_the_declared_charset(clock: ManualClock) -> None:
    response = httpx.Response(
        200,
        content="état: prêt".encode("latin-1"),
        headers={"content-type": "text/plain; charset=latin-1"},
    )
    probe = HttpProbe(
        "h",
        URL,
        body_contains="prêt",
        http=client(slow(clock, timedelta(0), response)),
        clock=clock,
    )
    assert probe.measure().outcome is Outcome.SUCCESS


def test_slow_answer_fails_against_the_latency_bound(clock: ManualClock) -> None:
    handler = slow(clock, timedelta(milliseconds=1500), httpx.Response(200))
    probe = HttpProbe("h", URL, max_latency=timedelta(seconds=1), http=client(handler), clock=clock)
    measurement = probe.measure()
    assert measurement.outcome is Outcome.FAILURE
    assert measurement.detail == "HTTP 200 in 1500 ms, slower than the 1000 ms bound"
    assert measurement.value == pytest.approx(1.5)


def test_answer_within_the_bound_passes(clock: ManualClock) -> None:
    handler = slow(clock, timedelta(milliseconds=999), httpx.Response(200))
    probe = HttpProbe("h", URL, max_latency=timedelta(seconds=1), http=client(handler), clock=clock)
    assert probe.measure().outcome is Outcome.SUCCESS


def test_connection_error_is_an_error_not_a_failure(clock: ManualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    measurement = HttpProbe("h", URL, http=client(handler), clock=clock).measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.value is None
    assert measurement.detail == f"GET {URL} failed: ConnectError: connection refused"


def test_timeout_is_an_error(clock: ManualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(timedelta(seconds=5))
        raise httpx.ReadTimeout("timed out", request=request)

    measurement = HttpProbe("h", URL, http=client(handler), clock=clock).measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.detail == f"GET {URL} timed out after 5000 ms (ReadTimeout)"


def test_a_closed_local_port_is_an_error(clock: ManualClock) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/healthz"
    with httpx.Client(timeout=2) as http:
        measurement = HttpProbe("h", url, http=http, clock=clock).measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.detail.startswith(f"GET {url} failed: ConnectError")


def test_a_malformed_url_is_an_error(clock: ManualClock) -> None:
    measurement = HttpProbe(
        "h", "http://[::1", http=client(lambda r: httpx.Response(200)), clock=clock
    ).measure()
    assert measurement.outcome is Outcome.ERROR
    assert "failed: InvalidURL" in measurement.detail
