"""The complaint lifecycle: every status × every action."""

from __future__ import annotations

import pytest

from app.complaints.lifecycle import (
    IS_OPEN,
    TRANSITIONS,
    Action,
    CloseReason,
    IllegalAction,
    Status,
    allowed_actions,
    next_status,
)

S, A = Status, Action

# The expected outcome of every status × action (close with its default reason, completed);
# None means illegal.
EXPECTED: dict[Status, dict[Action, Status | None]] = {
    S.received: {
        A.acknowledge: S.acknowledged,
        A.start_investigation: None,
        A.propose_resolution: None,
        A.resolve: None,
        A.close: None,
        A.reopen: None,
        A.escalate: S.received,
        A.extend_deadline: S.received,
    },
    S.acknowledged: {
        A.acknowledge: None,
        A.start_investigation: S.investigating,
        A.propose_resolution: None,
        A.resolve: None,
        A.close: None,
        A.reopen: None,
        A.escalate: S.acknowledged,
        A.extend_deadline: S.acknowledged,
    },
    S.investigating: {
        A.acknowledge: None,
        A.start_investigation: None,
        A.propose_resolution: S.resolution_proposed,
        A.resolve: None,
        A.close: None,
        A.reopen: None,
        A.escalate: S.investigating,
        A.extend_deadline: S.investigating,
    },
    S.resolution_proposed: {
        A.acknowledge: None,
        A.start_investigation: None,
        A.propose_resolution: S.resolution_proposed,
        A.resolve: S.resolved,
        A.close: None,
        A.reopen: None,
        A.escalate: S.resolution_proposed,
        A.extend_deadline: S.resolution_proposed,
    },
    S.resolved: {
        A.acknowledge: None,
        A.start_investigation: None,
        A.propose_resolution: None,
        A.resolve: None,
        A.close: S.closed,
        A.reopen: S.investigating,
        A.escalate: S.resolved,
        A.extend_deadline: None,
    },
    S.closed: {
        A.acknowledge: None,
        A.start_investigation: None,
        A.propose_resolution: None,
        A.resolve: None,
        A.close: None,
        A.reopen: S.investigating,
        A.escalate: None,
        A.extend_deadline: None,
    },
}

ALLOWED: dict[Status, list[Action]] = {
    S.received: [A.acknowledge, A.close, A.escalate, A.extend_deadline],
    S.acknowledged: [A.start_investigation, A.close, A.escalate, A.extend_deadline],
    S.investigating: [A.propose_resolution, A.close, A.escalate, A.extend_deadline],
    S.resolution_proposed: [
        A.propose_resolution,
        A.resolve,
        A.close,
        A.escalate,
        A.extend_deadline,
    ],
    S.resolved: [A.close, A.reopen, A.escalate],
    S.closed: [A.reopen],
}

CASES = [(status, action, EXPECTED[status][action]) for status in Status for action in Action]


def test_table_covers_every_pair() -> None:
    assert set(EXPECTED) == set(Status)
    assert all(set(row) == set(Action) for row in EXPECTED.values())


@pytest.mark.parametrize(("status", "action", "expected"), CASES)
def test_every_status_and_action(status: Status, action: Action, expected: Status | None) -> None:
    if expected is None:
        with pytest.raises(IllegalAction) as caught:
            next_status(status, action)
        assert caught.value.status == status
        assert caught.value.action == action
        assert caught.value.allowed == ALLOWED[status]
        for allowed in ALLOWED[status]:
            assert allowed.value in str(caught.value)
    else:
        assert next_status(status, action) == expected


@pytest.mark.parametrize("status", list(Status))
def test_allowed_actions_in_declaration_order(status: Status) -> None:
    assert allowed_actions(status) == ALLOWED[status]


@pytest.mark.parametrize("status", [s for s in Status if s is not S.closed])
def test_withdrawal_closes_from_every_live_status(status: Status) -> None:
    assert next_status(status, A.close, close_reason=CloseReason.withdrawn) == S.closed


def test_withdrawal_of_a_closed_complaint_is_illegal() -> None:
    with pytest.raises(IllegalAction) as caught:
        next_status(S.closed, A.close, close_reason=CloseReason.withdrawn)
    assert caught.value.allowed == [A.reopen]


def test_completed_close_only_from_resolved() -> None:
    assert next_status(S.resolved, A.close, close_reason=CloseReason.completed) == S.closed


@pytest.mark.parametrize("status", [S.received, S.acknowledged, S.investigating])
def test_completed_close_before_resolution_says_only_withdrawn(status: Status) -> None:
    with pytest.raises(IllegalAction) as caught:
        next_status(status, A.close, close_reason=CloseReason.completed)
    message = str(caught.value)
    assert "'withdrawn'" in message
    assert "close" in [a.value for a in caught.value.allowed]


def test_close_reason_on_another_action_is_rejected() -> None:
    with pytest.raises(ValueError, match="close_reason"):
        next_status(S.received, A.acknowledge, close_reason=CloseReason.withdrawn)


@pytest.mark.parametrize("action", [A.escalate, A.extend_deadline])
def test_escalate_and_extend_keep_status(action: Action) -> None:
    for status, moves in TRANSITIONS.items():
        if action in moves:
            assert moves[action] == status


def test_accepts_plain_strings() -> None:
    assert next_status("received", "acknowledge") == S.acknowledged  # type: ignore[arg-type]


def test_is_open() -> None:
    assert (
        frozenset({S.received, S.acknowledged, S.investigating, S.resolution_proposed}) == IS_OPEN
    )
