"""One measurement of a check: the outcome types and the three probes, in one import."""

from bot.domain.checks.measurement import Measurement, Outcome, judge
from bot.ports.probe import Probe
from integrations.checks.command_probe import CommandProbe
from integrations.checks.http_probe import HttpProbe
from integrations.checks.prometheus_probe import PrometheusProbe, parse_query_answer

__all__ = [
    "CommandProbe",
    "HttpProbe",
    "Measurement",
    "Outcome",
    "Probe",
    "PrometheusProbe",
    "judge",
    "parse_query_answer",
]
