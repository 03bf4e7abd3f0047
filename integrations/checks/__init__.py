"""Post-release verification: probes, the safe condition language and Argo-style analyses."""

from bot.domain.checks.analysis import AnalysisSpec, AnalysisState, Verdict, assess
from bot.domain.checks.expressions import (
    Condition,
    ConditionError,
    describe,
    load_condition,
    parse_condition,
)
from integrations.checks.probes import (
    CommandProbe,
    HttpProbe,
    Measurement,
    Outcome,
    Probe,
    PrometheusProbe,
)

__all__ = [
    "AnalysisSpec",
    "AnalysisState",
    "CommandProbe",
    "Condition",
    "ConditionError",
    "HttpProbe",
    "Measurement",
    "Outcome",
    "Probe",
    "PrometheusProbe",
    "Verdict",
    "assess",
    "describe",
    "load_condition",
    "parse_condition",
]
