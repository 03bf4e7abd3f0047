"""The `prometheus` check: an instant PromQL query judged by success/failure conditions.

Response shapes follow the Prometheus HTTP API documentation
(https://prometheus.io/docs/prometheus/latest/querying/api/): an envelope with `status`
`success`/`error`, `errorType`/`error` on failure (HTTP 400, 422, 503), and `data.resultType`
`vector` (`[{metric, value: [ts, "0.5"]}]`), `scalar` (`[ts, "0.5"]`), `matrix` or `string`.
Anything else, or no answer at all, makes the measurement an ERROR: never a pass.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from bot.domain.checks.expressions import Condition, load_condition
from bot.domain.checks.measurement import Measurement, Outcome, judge
from bot.domain.clock import Clock, ensure_utc
from integrations.checks.http_probe import transport_reason

# Prometheus formats sample values as strings: Go floats, plus NaN and ±Inf.
_SAMPLE = re.compile(r"[+-]?(?:Inf|NaN|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)")


class UnusableAnswer(Exception):
    """Prometheus answered, but not with a number we can judge; the message says why."""


def _snippet(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _sample(raw: object) -> float:
    if isinstance(raw, str) and _SAMPLE.fullmatch(raw):
        return float(raw)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    raise UnusableAnswer(f"sample value {raw!r} is not a number")


def _pair_value(pair: object, what: str) -> float:
    if not isinstance(pair, list) or len(pair) != 2:
        raise UnusableAnswer(f"{what} is not a [timestamp, value] pair: {_snippet(repr(pair))}")
    return _sample(pair[1])


def _vector(result: object) -> list[float]:
    if not isinstance(result, list):
        raise UnusableAnswer("a vector result that is not a list")
    values: list[float] = []
    for series in result:
        if isinstance(series, dict) and "histogram" in series:
            raise UnusableAnswer(
                "native histogram samples are not supported; query a quantile or a rate"
            )
        if not isinstance(series, dict) or "value" not in series:
            raise UnusableAnswer(f"a vector sample without a value: {_snippet(repr(series))}")
        values.append(_pair_value(series["value"], "a vector sample"))
    return values


def parse_query_answer(response: httpx.Response) -> float | list[float]:
    """The measured value from a /api/v1/query answer; UnusableAnswer says what was wrong."""
    code = response.status_code
    try:
        payload: Any = response.json()
    except ValueError:
        if code >= 400:
            raise UnusableAnswer(
                f"Prometheus answered HTTP {code}: {_snippet(response.text)}"
            ) from None
        raise UnusableAnswer(
            f"Prometheus answered HTTP {code} with something that is not JSON: "
            f"{_snippet(response.text)!r}"
        ) from None
    if not isinstance(payload, dict):
        raise UnusableAnswer(f"unexpected answer from Prometheus: {_snippet(repr(payload))}")
    if payload.get("status") == "error" or code >= 400:
        kind = payload.get("errorType") or "error"
        reason = payload.get("error") or "no reason given"
        raise UnusableAnswer(f"Prometheus refused the query (HTTP {code}, {kind}): {reason}")
    data = payload.get("data")
    if payload.get("status") != "success" or not isinstance(data, dict):
        raise UnusableAnswer(f"unexpected answer from Prometheus: {_snippet(repr(payload))}")
    result_type, result = data.get("resultType"), data.get("result")
    if result_type == "vector":
        return _vector(result)
    if result_type == "scalar":
        return _pair_value(result, "the scalar result")
    if result_type == "matrix":
        raise UnusableAnswer("range vectors are not supported; use an instant query")
    if result_type == "string":
        raise UnusableAnswer("the query returned a string, not a number")
    raise UnusableAnswer(f"unknown resultType {result_type!r} in Prometheus' answer")


def _warnings(response: httpx.Response) -> str:
    try:
        payload: Any = response.json()
    except ValueError:
        return ""
    warnings = payload.get("warnings") if isinstance(payload, dict) else None
    if isinstance(warnings, list) and warnings:
        return "; Prometheus warned: " + _snippet("; ".join(str(w) for w in warnings))
    return ""


class PrometheusProbe:
    """Run an instant query at the clock's time and judge the result the way Argo does."""

    def __init__(
        self,
        name: str,
        base_url: str,
        query: str,
        *,
        success: str | None = None,
        failure: str | None = None,
        http: httpx.Client,
        clock: Clock,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.query = query
        # Parsed here so a bad threshold is refused when the config loads, naming its key.
        self.success: Condition | None = (
            load_condition(f"checks.{name}.success", success) if success is not None else None
        )
        self.failure: Condition | None = (
            load_condition(f"checks.{name}.failure", failure) if failure is not None else None
        )
        self._http = http
        self._clock = clock

    def measure(self) -> Measurement:
        """Take one measurement."""
        at = ensure_utc(self._clock.now())
        params = {"query": self.query, "time": f"{at.timestamp():.3f}"}
        try:
            response = self._http.get(f"{self.base_url}/api/v1/query", params=params)
        except httpx.TimeoutException as error:
            return self._done(
                Outcome.ERROR,
                None,
                f"Prometheus at {self.base_url} did not answer in time ({type(error).__name__})",
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            return self._done(
                Outcome.ERROR,
                None,
                f"Prometheus at {self.base_url} is unreachable: {transport_reason(error)}",
            )
        try:
            value = parse_query_answer(response)
        except UnusableAnswer as error:
            return self._done(Outcome.ERROR, None, str(error))
        outcome, detail = judge(value, self.success, self.failure)
        return self._done(outcome, value, detail + _warnings(response))

    def _done(
        self, outcome: Outcome, value: float | list[float] | None, detail: str
    ) -> Measurement:
        return Measurement(outcome, value, detail, ensure_utc(self._clock.now()))
