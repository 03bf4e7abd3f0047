"""Probes built from `[checks.<name>]` tables."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from bot.clock import Clock
from bot.config import Check, CommandCheck, HttpCheck, ReleasebotConfig
from integrations.checks.analysis import AnalysisSpec
from integrations.checks.probes import CommandProbe, HttpProbe, Probe, PrometheusProbe
from integrations.deploy.placeholders import render


def analysis_spec(check: Check) -> AnalysisSpec:
    """The schedule and tolerances of a configured check."""
    return AnalysisSpec(
        initial_delay=check.initial_delay,
        interval=check.interval,
        count=check.count,
        failure_limit=check.failure_limit,
        consecutive_error_limit=check.consecutive_error_limit,
        inconclusive_limit=check.inconclusive_limit,
    )


class ProbeFactory:
    """Builds the probe for a check of a plan, sharing one HTTP client."""

    def __init__(self, *, config: ReleasebotConfig, http: httpx.Client, clock: Clock) -> None:
        self._config = config
        self._http = http
        self._clock = clock

    def probe(self, name: str, *, values: Mapping[str, str]) -> Probe:
        """The probe of check `name`; command placeholders are filled from `values`."""
        check = self._config.check(name)
        if isinstance(check, HttpCheck):
            return HttpProbe(
                name,
                check.url,
                expect_status=check.expect_status,
                body_contains=check.body_contains,
                max_latency=check.max_latency,
                http=self._http,
                clock=self._clock,
            )
        if isinstance(check, CommandCheck):
            argv = [render(part, values) for part in self._config.resolve_command(check.command)]
            return CommandProbe(name, argv, timeout=check.timeout, env=None, clock=self._clock)
        return PrometheusProbe(
            name,
            check.url,
            check.query,
            success=check.success,
            failure=check.failure,
            http=self._http,
            clock=self._clock,
        )
