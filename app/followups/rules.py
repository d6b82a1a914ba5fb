"""The handling method's rules for follow-ups (domain.md §3). Pure: no I/O, no framework."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum


class Kind(StrEnum):
    """What a follow-up is for."""

    contact = "contact"
    analysis = "analysis"
    resolution_proposal = "resolution_proposal"
    third_party_assessment = "third_party_assessment"
    callback = "callback"
    note = "note"


class State(StrEnum):
    """A follow-up is open until it is done or cancelled; then it is final."""

    open = "open"
    done = "done"
    cancelled = "cancelled"


# Before a complaint is resolved, the customer must have been offered a remedy.
REQUIRED_BEFORE_RESOLVE: tuple[Kind, ...] = (Kind.resolution_proposal,)

# Sorts open-ended follow-ups after every dated one in the work list.
NO_DUE_DATE = datetime(9999, 12, 31, tzinfo=UTC)


def missing_before_resolve(recorded: Iterable[str]) -> list[str]:
    """The kinds still missing before a complaint may be resolved, given the kinds of its
    follow-ups in the current round that are not cancelled."""
    present = set(recorded)
    return [k.value for k in REQUIRED_BEFORE_RESOLVE if k.value not in present]


def callback_due(resolved_at: datetime, delay: timedelta) -> datetime:
    """When the callback that checks the remedy is due."""
    return resolved_at + delay


def can_change(state: str) -> bool:
    """Only an open follow-up can be completed, cancelled, rescheduled or reassigned."""
    return state == State.open.value


def is_overdue(state: str, due_at: datetime | None, now: datetime) -> bool:
    """Open and past its due time."""
    return state == State.open.value and due_at is not None and due_at < now
