"""Survey rules. Pure: no I/O, no framework."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """How the customer was asked."""

    questionnaire = "questionnaire"
    phone_callback = "phone_callback"


DISSATISFIED_AT_MOST = 2  # a score of 1 or 2 is dissatisfied


def is_dissatisfied(score: int, resolved: bool) -> bool:
    """Score ≤ 2, or the customer says the problem is not resolved."""
    return score <= DISSATISFIED_AT_MOST or not resolved


def surveyable(status: str, close_reason: str | None) -> bool:
    """A survey measures a resolution: the complaint is resolved, or closed as completed (a
    withdrawn complaint has no resolution to measure)."""
    return status == "resolved" or (status == "closed" and close_reason == "completed")
