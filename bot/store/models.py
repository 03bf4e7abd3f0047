"""The persisted release domain: plans, decisions, checklists, freezes, audit, Slack messages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from bot.domain.lifecycle import ACTIVE
from bot.domain.states import ChecklistPhase as ChecklistPhase
from bot.domain.states import Decision as Decision
from bot.domain.states import FreezeKind as FreezeKind
from bot.domain.states import PlanState as PlanState
from bot.domain.states import StageStatus as StageStatus
from bot.store.db import UTCDateTime

# A plan still moving, in SQL. `/release list` (bot/store/plan_list.py) filters with exactly this
# text: PostgreSQL and SQLite use the partial index below only for a query that repeats its
# condition. A new active state needs a migration that rebuilds the index.
ACTIVE_CONDITION = "state IN (" + ", ".join(f"'{s.value}'" for s in sorted(ACTIVE)) + ")"


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class ReleasePlan(SQLModel, table=True):
    """A release of one service version to one environment, from plan to verification."""

    __tablename__ = "release_plan"
    __table_args__ = (
        Index("ix_release_plan_service_env_state", "service", "environment", "state"),
        # A lane's live release in one index probe (bot/store/plan_cards.py).
        Index(
            "ix_release_plan_lane_deployed", "service", "environment", "state", "deployed_at", "id"
        ),
        # "Plan again" makes one plan per expired plan, however often it is clicked. An index,
        # not a constraint, so SQLite adds it without rebuilding the table.
        Index("uq_release_plan_replanned_from", "replanned_from", unique=True),
        # `/release list`: the few plans still moving, newest first, among 100,000 that are
        # not. Without it the planner may walk the primary key backwards through every plan
        # (seen: 28 ms a list instead of under 1 ms, by the state column's statistics).
        Index(
            "ix_release_plan_active",
            "id",
            postgresql_where=text(ACTIVE_CONDITION),
            sqlite_where=text(ACTIVE_CONDITION),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=64, index=True)
    version: str = Field(max_length=128)
    environment: str = Field(max_length=64, index=True)
    state: str = Field(sa_type=String(32), index=True)
    strategy: str = Field(max_length=64)
    requester_id: str = Field(max_length=32)
    window_start: datetime | None = _utc(default=None, nullable=True)
    window_end: datetime | None = _utc(default=None, nullable=True)
    notes: str | None = Field(default=None, sa_type=Text)
    risks: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stakeholders: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    depends_on: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    artifact: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rollback_version: str | None = Field(default=None, max_length=128)
    # When its rollout started: releases in a lane are ordered by it, not by plan id, so the
    # live release is the last one deployed (a later plan may well deploy first).
    deployed_at: datetime | None = _utc(default=None, nullable=True)
    override_reason: str | None = Field(default=None, sa_type=Text)
    # Bumped whenever what approvers approved changes: approvals from older rounds stop counting.
    approval_round: int = Field(default=1)
    # Bumped on every change; a button carries the revision it was drawn for (stale-card check).
    revision: int = Field(default=1)
    # When the rollout engine should look at this plan next (None: nothing to do by itself).
    next_step_at: datetime | None = _utc(default=None, nullable=True, index=True)
    # The expired plan this one was planned again from ("Plan again"), if any.
    replanned_from: int | None = Field(default=None, foreign_key="release_plan.id")
    # Which process (host:port, see bot.store.leases) last claimed the plan:
    # its restart takes it back.
    lease_owner: str | None = Field(default=None, max_length=64)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()

    @property
    def ref(self) -> str:
        """The id people type: R-12."""
        return f"R-{self.id}"


class Approval(SQLModel, table=True):
    """One approver's decision on one approval round of a plan."""

    __tablename__ = "approval"
    __table_args__ = (
        UniqueConstraint("plan_id", "round", "approver_id", name="uq_approval_once_per_round"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="release_plan.id", index=True)
    round: int
    approver_id: str = Field(max_length=32)
    decision: str = Field(sa_type=String(16))
    comment: str | None = Field(default=None, sa_type=Text)
    # An override approval is the extra admin approval a break-glass deploy needs.
    is_override: bool = Field(default=False)
    decided_at: datetime = _utc()


class ChecklistItem(SQLModel, table=True):
    """A milestone that a named person ticks: before deploy or before `released`."""

    __tablename__ = "checklist_item"
    __table_args__ = (UniqueConstraint("plan_id", "name", name="uq_checklist_item_name"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="release_plan.id", index=True)
    name: str = Field(max_length=200)
    assignee: str = Field(max_length=64)
    required: bool = Field(default=True)
    phase: str = Field(sa_type=String(16))
    # A sign-off of one version (QA of 1.4.2): a new version of the plan opens it again.
    per_version: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    ticked_by: str | None = Field(default=None, max_length=32)
    ticked_at: datetime | None = _utc(default=None, nullable=True)


class Freeze(SQLModel, table=True):
    """An ad-hoc freeze of an environment, or the lock a rollback leaves on a service."""

    __tablename__ = "freeze"

    id: int | None = Field(default=None, primary_key=True)
    environment: str = Field(max_length=64, index=True)
    service: str | None = Field(default=None, max_length=64)
    kind: str = Field(sa_type=String(16))
    reason: str = Field(sa_type=Text)
    # A rollback lock: the version rolled back (planning it again does not lift the lock).
    version: str | None = Field(default=None, max_length=128)
    created_by: str = Field(max_length=32)
    starts_at: datetime = _utc()
    ends_at: datetime | None = _utc(default=None, nullable=True)
    lifted_at: datetime | None = _utc(default=None, nullable=True)
    lifted_by: str | None = Field(default=None, max_length=32)


class AuditEvent(SQLModel, table=True):
    """One append-only line of the trail: who did what, when, from which state to which."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="release_plan.id", index=True)
    at: datetime = _utc()
    actor_id: str = Field(max_length=32)
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, sa_type=String(32))
    to_state: str | None = Field(default=None, sa_type=String(32))
    reason: str | None = Field(default=None, sa_type=Text)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SlackMessage(SQLModel, table=True):
    """Where a plan's card (or another message we edit later) lives in Slack."""

    __tablename__ = "slack_message"
    __table_args__ = (UniqueConstraint("plan_id", "kind", "channel", name="uq_slack_message"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="release_plan.id", index=True)
    kind: str = Field(max_length=32)
    channel: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)


class InboundRequest(SQLModel, table=True):
    """A Slack delivery already acted on: a retried or doubled delivery finds its key here."""

    __tablename__ = "inbound_request"

    key: str = Field(primary_key=True, max_length=255)
    received_at: datetime = _utc()


class JournalOutcome(StrEnum):
    DONE = "done"  # carried out; the answer says what changed
    REFUSED = "refused"  # a domain refusal (illegal transition, not allowed): a final answer
    FAILED = "failed"  # gave up after repeated unexpected failures; nothing changed


class JournalEntry(SQLModel, table=True):
    """A write a person asked for in Slack, recorded before the ack and carried out once.

    The entry commits before Slack gets its 200; the command's effect and `done_at` commit
    together later, so a crash or a database outage in between leaves it for a retry.
    """

    __tablename__ = "command_journal"
    __table_args__ = (Index("ix_command_journal_open", "answered_at", "lease_until"),)

    id: int | None = Field(default=None, primary_key=True)
    # trigger_id (slash commands) or user + action + action_ts (buttons): a redelivery repeats it.
    delivery_key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=16)  # command | action
    user_id: str = Field(max_length=32)
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    response_url: str | None = Field(default=None, sa_type=Text)
    received_at: datetime = _utc()
    attempts: int = Field(default=0)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(default=None, nullable=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    done_at: datetime | None = _utc(default=None, nullable=True)
    outcome: str | None = Field(default=None, sa_type=String(16))
    # Carried out by the recovery pass rather than right after the ack: the answer says so.
    late: bool = Field(default=False)
    answer: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    answered_at: datetime | None = _utc(default=None, nullable=True)
    answered_via: str | None = Field(default=None, max_length=16)  # response_url | dm | none


class OutboxMessage(SQLModel, table=True):
    """A Slack message owed, written with the change that caused it, delivered exactly once."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # card: render and post-or-update the plan's card; thread: a reply under the card;
    # post: a standalone message (announcement, alert, DM, reminder).
    kind: str = Field(max_length=16)
    plan_id: int | None = Field(default=None, foreign_key="release_plan.id", index=True)
    channel: str = Field(max_length=64)
    # bot.notify.outbox_queue.Priority: 0 urgent (alerts, requests for a decision), 1 normal, 2 low.
    priority: int = Field(default=1)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=255, unique=True)
    created_at: datetime = _utc()
    due_at: datetime = _utc()
    attempts: int = Field(default=0)
    # Which process is sending it (host:port, see bot.store.leases), while `due_at` is its lease.
    lease_owner: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_type=Text)
    delivered_at: datetime | None = _utc(default=None, nullable=True)
    delivered_ts: str | None = Field(default=None, max_length=32)


class DeploymentStage(SQLModel, table=True):
    """One step of a rollout (or of a rollback), persisted before and after the backend call."""

    __tablename__ = "deployment_stage"
    __table_args__ = (UniqueConstraint("plan_id", "seq", name="uq_stage_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="release_plan.id", index=True)
    seq: int  # execution order within the plan, rollbacks included
    phase: str = Field(max_length=16)  # rollout | rollback
    kind: str = Field(max_length=16)  # deploy (a backend call) | flag (a feature-flag change)
    action: str = Field(max_length=16)  # what the backend is asked: deploy | rollback
    stage_index: int  # index in the strategy's stages (0-based)
    name: str = Field(max_length=100)
    version: str = Field(max_length=128)
    weight: int | None = Field(default=None)
    colour: str | None = Field(default=None, max_length=16)
    status: str = Field(sa_type=String(16), index=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    backend: str = Field(max_length=32)
    handle: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    url: str | None = Field(default=None, sa_type=Text)
    message: str | None = Field(default=None, sa_type=Text)
    output_tail: str | None = Field(default=None, sa_type=Text)
    attempts: int = Field(default=0)
    created_at: datetime = _utc()
    started_at: datetime | None = _utc(default=None, nullable=True)
    finished_at: datetime | None = _utc(default=None, nullable=True)
    wait_until: datetime | None = _utc(default=None, nullable=True)


class CheckRun(SQLModel, table=True):
    """One analysis of one named check, for a stage or for post-release verification."""

    __tablename__ = "check_run"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="release_plan.id", index=True)
    stage_id: int | None = Field(default=None, foreign_key="deployment_stage.id")
    check_name: str = Field(max_length=100)
    phase: str = Field(max_length=16)  # stage | verify
    verdict: str = Field(sa_type=String(16))  # running | successful | failed | inconclusive
    reason: str | None = Field(default=None, sa_type=Text)
    started_at: datetime = _utc()
    next_due: datetime | None = _utc(default=None, nullable=True)
    finished_at: datetime | None = _utc(default=None, nullable=True)


class Measurement(SQLModel, table=True):
    """One measurement of a check run, kept for `/release checks`."""

    __tablename__ = "measurement"

    id: int | None = Field(default=None, primary_key=True)
    check_run_id: int = Field(foreign_key="check_run.id", index=True)
    outcome: str = Field(sa_type=String(16))
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    detail: str = Field(sa_type=Text)
    measured_at: datetime = _utc()


class ScheduledJob(SQLModel, table=True):
    """Work due at a time (a reminder, a freeze notice, a digest): the database is the truth of
    what is due and what has run; unique per (kind, subject, due time) so it runs once."""

    __tablename__ = "scheduled_job"
    __table_args__ = (
        UniqueConstraint("kind", "subject", "due_at", name="uq_job_once"),
        Index("ix_scheduled_job_due", "done_at", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    subject: str = Field(max_length=100)
    due_at: datetime = _utc()
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(default=None, nullable=True)
    done_at: datetime | None = _utc(default=None, nullable=True)
    outcome: str | None = Field(default=None, sa_type=Text)


class DeployCallback(SQLModel, table=True):
    """The last signed status a webhook backend posted back, keyed by its callback token."""

    __tablename__ = "deploy_callback"

    token: str = Field(primary_key=True, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = _utc()


class WriteProbe(SQLModel, table=True):
    """The last time a health check proved the database takes a committed write."""

    __tablename__ = "write_probe"

    id: int = Field(default=1, primary_key=True)
    probed_at: datetime = _utc()


class PlanCard(SQLModel, table=True):
    """The card `/release show` answers for a plan that no longer moves, kept with the token of
    everything it was drawn from (bot/store/plan_cards.py): a token that no longer matches is a
    miss, never a stale card."""

    __tablename__ = "plan_card"

    plan_id: int = Field(primary_key=True, foreign_key="release_plan.id")
    token: str = Field(max_length=255)
    # The rendered card as JSON: {"text": …, "blocks": […]}.
    body: str = Field(sa_type=Text)
