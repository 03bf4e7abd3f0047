"""Probes built from `[checks.<name>]` tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import httpx

from bot.domain.checks.measurement import Measurement
from bot.domain.clock import Clock
from bot.domain.config import CommandCheck, HttpCheck, ReleasebotConfig
from bot.domain.placeholders import render
from bot.ports.probe import Probe
from integrations.checks.probes import CommandProbe, HttpProbe, PrometheusProbe


class ProbeFactory:
    """Builds the probe for a check of a plan, sharing one HTTP client."""

    def __init__(
        self,
        *,
        config: ReleasebotConfig,
        http: httpx.Client,
        clock: Clock,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._clock = clock
        self._redact = redact

    def probe(self, name: str, *, values: Mapping[str, str]) -> Probe:
        """The probe of check `name`; command placeholders are filled from `values`."""
        probe = self._probe(name, values=values)
        return RedactedProbe(probe, self._redact) if self._redact is not None else probe

    def _probe(self, name: str, *, values: Mapping[str, str]) -> Probe:
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


class RedactedProbe:
    """A probe whose measurement details (posted to the thread, stored) name no secret."""

    def __init__(self, probe: Probe, redact: Callable[[str], str]) -> None:
        self.probe = probe
        self.name = probe.name
        self._redact = redact

    def measure(self) -> Measurement:
        """The wrapped probe's measurement, its detail redacted."""
        measured = self.probe.measure()
        return dataclasses.replace(measured, detail=self._redact(measured.detail))
