"""What a deployment is, whichever backend runs it: the request, the handle, the status.

These are values the engine, the placeholders and every backend share; the backend contract
itself (`DeployBackend`) is a port in bot/ports/deploy.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


@dataclass(frozen=True)
class DeployRequest:
    """One stage of one release, as the engine asks a backend to run it."""

    release_id: str  # "R-12"
    service: str
    version: str
    environment: str
    action: Literal["deploy", "rollback"]
    stage_index: int  # 0-based
    stage_name: str  # "canary 10%", "switch to green", "all at once"
    weight: int | None  # traffic percent for this stage, None when not applicable
    colour: str | None  # blue_green: "blue"/"green"
    idempotency_key: str  # stable across retries and restarts, e.g. "R-12:deploy:0"
    # The version live when this rollout started (None: nothing was released before). On a
    # rollback with none, `version` is the version to undo and `weight` is 0.
    previous_version: str | None = None
    # On a rollback: the persisted handle of the stage that released `version` through
    # releasebot (e.g. Argo CD's history id), when there is one.
    released: Mapping[str, str | int] | None = None

    @property
    def undoes(self) -> bool:
        """A rollback with nothing released before: take `version` out of traffic (weight 0)."""
        return self.action == "rollback" and not self.previous_version and not self.weight


@dataclass(frozen=True)
class DeployHandle:
    """What the engine persists to follow (or resume following) a started stage."""

    backend: str
    ref: Mapping[str, str | int]  # JSON-serialisable; enough to resume after a restart
    url: str | None  # run URL / Argo CD app URL / Jenkins build URL, for the thread


class DeployState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the backend will not change its answer any more."""
        return self in (DeployState.SUCCEEDED, DeployState.FAILED, DeployState.CANCELLED)


@dataclass(frozen=True)
class DeployStatus:
    state: DeployState
    message: str  # human text for the thread: the backend's own words on failure
    url: str | None = None
    output_tail: str | None = None  # last ~40 lines / 3000 chars of output, where there is any
    # Handle fields learned while following (Jenkins' build number, Argo CD's history id): the
    # engine merges them into the persisted handle, so a restarted or other replica has them.
    ref: Mapping[str, str | int] | None = None
