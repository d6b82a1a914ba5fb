"""The complaint lifecycle: statuses, actions and which action is legal in which status."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Status(StrEnum):
    """Where a complaint stands."""

    received = "received"
    acknowledged = "acknowledged"
    investigating = "investigating"
    resolution_proposed = "resolution_proposed"
    resolved = "resolved"
    closed = "closed"


class Action(StrEnum):
    """Something a handler does to a complaint."""

    acknowledge = "acknowledge"
    start_investigation = "start_investigation"
    propose_resolution = "propose_resolution"
    resolve = "resolve"
    close = "close"
    reopen = "reopen"
    escalate = "escalate"
    extend_deadline = "extend_deadline"


class CloseReason(StrEnum):
    """Why a complaint is closed."""

    completed = "completed"
    withdrawn = "withdrawn"


class EscalationLevel(StrEnum):
    """Who a complaint is escalated to."""

    supervisor = "supervisor"
    management = "management"
    regulator = "regulator"


class ExtensionReason(StrEnum):
    """Why the reply period is extended (CBIRC Order 2020 No. 3)."""

    complex = "complex"
    very_complex = "very_complex"


_ALL = tuple(Status)
# escalate is recorded in any live status; extend_deadline only while the reply clock can run.
_ESCALATABLE = frozenset(_ALL) - {Status.closed}
_EXTENDABLE = frozenset(
    {Status.received, Status.acknowledged, Status.investigating, Status.resolution_proposed}
)
# The complainant may withdraw at any time before closure (Art. 15); it always leads to closed.
WITHDRAWABLE: frozenset[Status] = frozenset(_ALL) - {Status.closed}

_MOVES: dict[Status, dict[Action, Status]] = {
    Status.received: {Action.acknowledge: Status.acknowledged},
    Status.acknowledged: {Action.start_investigation: Status.investigating},
    Status.investigating: {Action.propose_resolution: Status.resolution_proposed},
    Status.resolution_proposed: {
        Action.resolve: Status.resolved,
        # A revised proposal after the complainant's answer.
        Action.propose_resolution: Status.resolution_proposed,
    },
    # close here is close with reason `completed`; withdrawal is WITHDRAWABLE.
    Status.resolved: {Action.close: Status.closed, Action.reopen: Status.investigating},
    Status.closed: {Action.reopen: Status.investigating},
}
for _status in _ALL:
    if _status in _ESCALATABLE:
        _MOVES[_status][Action.escalate] = _status
    if _status in _EXTENDABLE:
        _MOVES[_status][Action.extend_deadline] = _status

TRANSITIONS: Mapping[Status, Mapping[Action, Status]] = MappingProxyType(
    {status: MappingProxyType(moves) for status, moves in _MOVES.items()}
)

IS_OPEN: frozenset[Status] = frozenset(_ALL) - {Status.resolved, Status.closed}


def allowed_actions(status: Status) -> list[Action]:
    """Actions legal in `status`, in Action declaration order (close if any reason allows it)."""
    status = Status(status)
    moves = TRANSITIONS[status]
    return [
        action
        for action in Action
        if action in moves or (action is Action.close and status in WITHDRAWABLE)
    ]


class IllegalAction(Exception):
    """An action that the complaint's current status does not allow."""

    def __init__(self, status: Status, action: Action, allowed: list[Action], hint: str = ""):
        self.status = status
        self.action = action
        self.allowed = allowed
        names = ", ".join(a.value for a in allowed) or "none"
        message = f"action {action.value!r} is not allowed in status {status.value!r}"
        message += f"; allowed: {names}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


def next_status(
    status: Status, action: Action, *, close_reason: CloseReason | None = None
) -> Status:
    """The status after `action`; close without a reason means close as completed."""
    status = Status(status)
    action = Action(action)
    if close_reason is not None and action is not Action.close:
        raise ValueError(f"close_reason is only for the close action, not {action.value!r}")
    allowed = allowed_actions(status)
    if action is Action.close:
        reason = CloseReason(close_reason or CloseReason.completed)
        if reason is CloseReason.withdrawn and status in WITHDRAWABLE:
            return Status.closed
        if reason is CloseReason.completed and Action.close in TRANSITIONS[status]:
            return TRANSITIONS[status][Action.close]
        if status in WITHDRAWABLE:
            # close is listed as allowed here, so say which reason would be accepted.
            raise IllegalAction(
                status,
                action,
                allowed,
                hint=(
                    f"a complaint in status {status.value!r} can only be closed with reason "
                    f"'withdrawn' now; 'completed' needs status 'resolved'"
                ),
            )
        raise IllegalAction(status, action, allowed)
    target = TRANSITIONS[status].get(action)
    if target is None:
        raise IllegalAction(status, action, allowed)
    return target
