"""The prometheus check against answers in the real /api/v1/query shapes.

Response bodies follow the examples in the Prometheus HTTP API documentation
(https://prometheus.io/docs/prometheus/latest/querying/api/), trimmed to what matters.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.domain.checks.expressions import ConditionError
from console.testing import ManualClock
from integrations.checks.probes import Outcome, PrometheusProbe

START = ManualClock().now()

BASE = "http://prometheus.internal:9090"
QUERY = (
    'sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m]))'
    ' / sum(rate(http_requests_total{job="checkout"}[5m]))'
)


def vector(*values: str) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {"job": "checkout", "instance": f"10.0.0.{i}:8080"},
                    "value": [1435781451.781, v],
                }
                for i, v in enumerate(values)
            ],
        },
    }


def scalar(value: str) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {"resultType": "scalar", "result": [1435781451.781, value]},
    }


def error(kind: str, reason: str) -> dict[str, Any]:
    return {"status": "error", "errorType": kind, "error": reason}


def answering(status: int, **body: Any) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **body)

    return httpx.Client(transport=httpx.MockTransport(handler))


def probe(
    http: httpx.Client,
    clock: ManualClock,
    *,
    success: str | None = None,
    failure: str | None = None,
) -> PrometheusProbe:
    return PrometheusProbe(
        "api-errors", BASE, QUERY, success=success, failure=failure, http=http, clock=clock
    )


def test_sends_an_instant_query_at_the_clocks_time(clock: ManualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=vector("0.002"))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    PrometheusProbe(
        "e", BASE + "/", QUERY, failure="result[0] > 0.01", http=http, clock=clock
    ).measure()
    (request,) = seen
    assert request.method == "GET"
    assert request.url.path == "/api/v1/query"
    assert request.url.params["query"] == QUERY
    assert request.url.params["time"] == f"{START.timestamp():.3f}"


@pytest.mark.parametrize(
    ("body", "success", "failure", "outcome", "detail"),
    [
        (vector("0.002"), None, "result[0] > 0.01", Outcome.SUCCESS,
         "result [0.002] vs failure condition 'result[0] > 0.01' not met"),
        (vector("0.031"), None, "result[0] > 0.01", Outcome.FAILURE,
         "result [0.031] vs failure condition 'result[0] > 0.01'"),
        (vector("0.97"), "result[0] >= 0.95", None, Outcome.SUCCESS,
         "result [0.97] vs success condition 'result[0] >= 0.95'"),
        (vector("0.90"), "result[0] >= 0.95", None, Outcome.FAILURE,
         "result [0.9] vs success condition 'result[0] >= 0.95' not met"),
        (vector("0.5"), "result[0] < 0.1", "result[0] > 0.9", Outcome.INCONCLUSIVE,
         "result [0.5] vs success condition 'result[0] < 0.1' not met, "
         "nor failure condition 'result[0] > 0.9'"),
        (vector("0.95"), "result[0] > 0.5", "result[0] > 0.9", Outcome.FAILURE,
         "result [0.95] vs failure condition 'result[0] > 0.9'"),
        (vector("0.2", "0.4"), "max(result) < 0.5", None, Outcome.SUCCESS,
         "result [0.2, 0.4] vs success condition 'max(result) < 0.5'"),
        (scalar("0.004"), "result < 0.01", None, Outcome.SUCCESS,
         "result 0.004 vs success condition 'result < 0.01'"),
        (vector("NaN"), None, "isNaN(result[0]) or result[0] > 0.01", Outcome.FAILURE,
         "result [NaN] vs failure condition 'isNaN(result[0]) or result[0] > 0.01'"),
        (vector("NaN"), "result[0] < 0.01", None, Outcome.FAILURE,
         "result [NaN] vs success condition 'result[0] < 0.01' not met"),
        (scalar("+Inf"), None, "isInf(result)", Outcome.FAILURE,
         "result +Inf vs failure condition 'isInf(result)'"),
        (vector(), "default(result[0], 0) < 0.01", None, Outcome.SUCCESS,
         "result [] vs success condition 'default(result[0], 0) < 0.01'"),
        (vector("1"), None, None, Outcome.SUCCESS, "result [1] (no condition set)"),
    ],
)  # fmt: skip
def test_conditions_decide_the_outcome_like_argo(
    clock: ManualClock,
    body: dict[str, Any],
    success: str | None,
    failure: str | None,
    outcome: Outcome,
    detail: str,
) -> None:
    measurement = probe(
        answering(200, json=body), clock, success=success, failure=failure
    ).measure()
    assert (measurement.outcome, measurement.detail) == (outcome, detail)


def test_the_measured_numbers_are_kept(clock: ManualClock) -> None:
    measurement = probe(
        answering(200, json=vector("0.25", "-Inf")), clock, failure="len(result) > 5"
    ).measure()
    assert measurement.value == [0.25, float("-inf")]
    assert measurement.measured_at == START
    scalar_measurement = probe(
        answering(200, json=scalar("3")), clock, failure="result > 5"
    ).measure()
    assert scalar_measurement.value == 3.0


def test_an_empty_vector_indexed_is_an_error_not_a_pass(clock: ManualClock) -> None:
    measurement = probe(answering(200, json=vector()), clock, failure="result[0] > 0.01").measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.detail == (
        "cannot evaluate the condition: index at column 7: result[0] does not exist; "
        "result has 0 value(s)"
    )


def test_comparing_a_whole_vector_is_an_error(clock: ManualClock) -> None:
    measurement = probe(
        answering(200, json=vector("0.5")), clock, failure="result > 0.01"
    ).measure()
    assert measurement.outcome is Outcome.ERROR
    assert "result is a list of 1 values; pick one, like result[0]" in measurement.detail


@pytest.mark.parametrize(
    ("status", "body", "detail"),
    [
        (400, {"json": error("bad_data", 'invalid parameter "query": 1:6: parse error')},
         'Prometheus refused the query (HTTP 400, bad_data): invalid parameter "query": '
         "1:6: parse error"),
        (422, {"json": error("execution", "many-to-many matching not allowed")},
         "Prometheus refused the query (HTTP 422, execution): many-to-many matching not allowed"),
        (503, {"json": error("timeout", "query timed out in expression evaluation")},
         "Prometheus refused the query (HTTP 503, timeout): "
         "query timed out in expression evaluation"),
        (200, {"json": error("internal", "something broke")},
         "Prometheus refused the query (HTTP 200, internal): something broke"),
        (502, {"text": "<html><body><h1>502 Bad Gateway</h1></body></html>"},
         "Prometheus answered HTTP 502: <html><body><h1>502 Bad Gateway</h1></body></html>"),
        (503, {"json": {}}, "Prometheus refused the query (HTTP 503, error): no reason given"),
        (200, {"text": "<!doctype html><title>Grafana</title>"},
         "Prometheus answered HTTP 200 with something that is not JSON: "
         "'<!doctype html><title>Grafana</title>'"),
        (200, {"json": ["not", "an", "envelope"]},
         "unexpected answer from Prometheus: ['not', 'an', 'envelope']"),
        (200, {"json": {"status": "success"}},
         "unexpected answer from Prometheus: {'status': 'success'}"),
        (200, {"json": {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {}, "values": [[1435781430.781, "1"], [1435781445.781, "1"]]}]}}},
         "range vectors are not supported; use an instant query"),
        (200, {"json": {"status": "success", "data": {"resultType": "string",
                                                      "result": [1, "hi"]}}},
         "the query returned a string, not a number"),
        (200, {"json": {"status": "success", "data": {"resultType": "table", "result": []}}},
         "unknown resultType 'table' in Prometheus' answer"),
        (200, {"json": vector("zero")}, "sample value 'zero' is not a number"),
        (200, {"json": vector("1_000")}, "sample value '1_000' is not a number"),
        (200, {"json": {"status": "success", "data": {"resultType": "scalar", "result": "0.5"}}},
         "the scalar result is not a [timestamp, value] pair: '0.5'"),
        (200, {"json": {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {}, "histogram": [1435781451.781, {"count": "10", "sum": "3"}]}]}}},
         "native histogram samples are not supported; query a quantile or a rate"),
    ],
)  # fmt: skip
def test_refusals_and_garbage_are_errors_with_the_reason(
    clock: ManualClock, status: int, body: dict[str, Any], detail: str
) -> None:
    measurement = probe(answering(status, **body), clock, success="result[0] < 1").measure()
    assert measurement.outcome is Outcome.ERROR
    assert measurement.value is None
    assert measurement.detail == detail


@pytest.mark.parametrize(
    ("raised", "detail"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"),
         f"Prometheus at {BASE} is unreachable: ConnectError: [Errno 111] Connection refused"),
        (httpx.ReadTimeout("timed out"),
         f"Prometheus at {BASE} did not answer in time (ReadTimeout)"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."),
         f"Prometheus at {BASE} is unreachable: RemoteProtocolError: Server disconnected "
         "without sending a response."),
    ],
)  # fmt: skip
def test_a_prometheus_that_is_down_is_an_error(
    clock: ManualClock, raised: httpx.TransportError, detail: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    http = httpx.Client(transport=httpx.MockTransport(handler))
    measurement = probe(http, clock, success="result[0] < 1").measure()
    assert (measurement.outcome, measurement.detail) == (Outcome.ERROR, detail)


def test_warnings_are_kept_in_the_detail(clock: ManualClock) -> None:
    body = vector("0.001") | {"warnings": ["PromQL info: metric might not be a counter"]}
    measurement = probe(answering(200, json=body), clock, failure="result[0] > 0.01").measure()
    assert measurement.outcome is Outcome.SUCCESS
    assert measurement.detail.endswith(
        "; Prometheus warned: PromQL info: metric might not be a counter"
    )


def test_an_invalid_threshold_is_refused_when_the_probe_is_built(clock: ManualClock) -> None:
    with pytest.raises(ConditionError) as caught:
        probe(answering(200, json=vector("1")), clock, failure="result[0] > 0.01)")
    assert caught.value.message.startswith("checks.api-errors.failure: unexpected ')' at column 17")
    with pytest.raises(ConditionError, match=r"^checks.api-errors.success: unknown name 'rsult'"):
        probe(answering(200, json=vector("1")), clock, success="rsult < 1")
