"""Domain events: what a use case did, told to whoever cares instead of calling them.

A use case records one in its unit of work (`bot.store.unit_of_work.record`); the reminders
subscribe to them. Events are plain values naming rows by id: a subscriber reads the row as the
transaction left it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanChanged:
    """A plan was created, edited or decided: what it owes (reminders, expiry) may have changed."""

    plan_id: int


@dataclass(frozen=True)
class FreezeChanged:
    """An ad-hoc freeze was started, replaced or lifted: its start/end notices may have changed."""

    freeze_id: int


DomainEvent = PlanChanged | FreezeChanged
