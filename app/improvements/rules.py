"""Improvement action states. Pure: no I/O, no framework."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ActionStatus(StrEnum):
    """open → in_progress → done; cancelled from either; done and cancelled are final."""

    open = "open"
    in_progress = "in_progress"
    done = "done"
    cancelled = "cancelled"


NEXT: dict[ActionStatus, frozenset[ActionStatus]] = {
    ActionStatus.open: frozenset(
        {ActionStatus.in_progress, ActionStatus.done, ActionStatus.cancelled}
    ),
    ActionStatus.in_progress: frozenset({ActionStatus.done, ActionStatus.cancelled}),
    ActionStatus.done: frozenset(),
    ActionStatus.cancelled: frozenset(),
}


def allowed_next(status: ActionStatus) -> list[str]:
    """The statuses an action may move to, in declaration order."""
    return [s.value for s in ActionStatus if s in NEXT[status]]


def is_overdue(status: str, due_at: datetime, now: datetime) -> bool:
    """Not finished and past its due date."""
    return status in (ActionStatus.open.value, ActionStatus.in_progress.value) and due_at < now
