"""Verification checks, run like Argo Rollouts analyses: measure, count, decide."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from bot.domain.config.base import ConfigModel, raise_problems
from bot.domain.config.commands import CheckArgv
from bot.domain.config.values import Duration, Latency, PositiveDuration, Text, Url


def validate_condition(text: str) -> str:
    """Check a success/failure condition: non-empty, and parsed by the condition language."""
    from bot.domain.checks.expressions import validate_condition_text

    if not text.strip():
        raise ValueError('must not be empty; write a condition like "result[0] >= 0.95"')
    validate_condition_text(text)
    return text


Condition = Annotated[str, AfterValidator(validate_condition)]
CheckType = Literal["http", "prometheus", "command"]


class CheckSchedule(ConfigModel):
    """When and how often a check measures, and how many bad results it tolerates."""

    initial_delay: Duration = timedelta(0)
    interval: PositiveDuration = timedelta(seconds=30)
    count: int = Field(1, ge=1, description="how many measurements to take")
    failure_limit: int = Field(0, ge=0, description="failed measurements tolerated")
    consecutive_error_limit: int = Field(4, ge=0, description="errors in a row tolerated")
    inconclusive_limit: int = Field(0, ge=0, description="inconclusive measurements tolerated")

    @model_validator(mode="after")
    def _can_fail(self) -> Self:
        if self.failure_limit >= self.count:
            raise_problems(
                type(self).__name__,
                [
                    (
                        ("failure_limit",),
                        f"failure_limit {self.failure_limit} tolerates all {self.count} "
                        "measurement(s), so this check could never fail; lower it or raise count",
                    )
                ],
            )
        return self


class HttpCheck(CheckSchedule):
    """GET a URL; pass on the expected status, body and latency."""

    type: Literal["http"]
    url: Url = Field(description="the URL to GET")
    expect_status: int = Field(200, ge=100, le=599)
    body_contains: Text | None = None
    max_latency: Latency | None = None


class PrometheusCheck(CheckSchedule):
    """Run a PromQL query and judge the result with success/failure conditions."""

    type: Literal["prometheus"]
    url: Url = Field(description="the Prometheus base URL, e.g. http://prometheus:9090")
    query: Text = Field(description="the PromQL query")
    success: Condition | None = None
    failure: Condition | None = None

    @model_validator(mode="after")
    def _has_a_condition(self) -> Self:
        if self.success is None and self.failure is None:
            raise_problems(
                "PrometheusCheck",
                [(("success",), "a prometheus check needs a success or a failure condition")],
            )
        return self


class CommandCheck(CheckSchedule):
    """Run a local smoke-test command; exit code 0 passes."""

    type: Literal["command"]
    command: CheckArgv = Field(
        description='the argument list, e.g. ["./smoke.sh", "{environment}"]'
    )
    timeout: PositiveDuration = timedelta(minutes=5)


Check = Annotated[HttpCheck | PrometheusCheck | CommandCheck, Field(discriminator="type")]
CHECK_TYPES: tuple[CheckType, ...] = ("http", "prometheus", "command")
