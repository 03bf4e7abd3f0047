"""What verification asks of a check: one measurement now, from a probe built per check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from bot.domain.checks.measurement import Measurement


class Probe(Protocol):
    """Takes one measurement of a named check; never raises for a far-side fault."""

    name: str

    def measure(self) -> Measurement: ...


class Probes(Protocol):
    """Builds the probe of a named check for a plan (integrations.checks.registry.ProbeFactory)."""

    def probe(self, name: str, *, values: Mapping[str, str]) -> Probe:
        """The probe of check `name`; command placeholders are filled from `values`."""
        ...
