"""Counting periods (Civil Code Arts. 201, 203) and a claim's statutory and internal deadlines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from app.deadlines.calendar import WorkCalendar
from app.deadlines.rules import COVERAGE_TYPES, INTERNAL_STAGES, STAGES, Profile

DeadlineState = Literal["running", "met", "missed"]

# Stages after which the claim no longer waits for documents.
_PAST_DOCUMENT_REVIEW = frozenset(STAGES) - {"reported", "survey_assessment", "document_review"}


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value.isoformat()}")


@dataclass(frozen=True)
class DueDate:
    """The instant a period ends, and whether an unannounced calendar year was consulted."""

    due_at: datetime
    provisional: bool


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    # 24:00 of a day is expressed as the next local midnight so every client agrees on the instant.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _provisional(calendar: WorkCalendar, years: Iterable[int]) -> bool:
    return any(calendar.is_provisional(year) for year in set(years))


def period_end(start: datetime, days: int, *, tz: ZoneInfo, calendar: WorkCalendar) -> DueDate:
    """End of `days` days from `start`: start day not counted, last day moved off holidays."""
    _require_aware(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"days must be a whole number >= 0, got {days!r}")
    nominal_last = start.astimezone(tz).date() + timedelta(days=days)
    last = calendar.next_working_day_on_or_after(nominal_last)
    consulted = range(nominal_last.year, last.year + 1)
    return DueDate(_end_of(last, tz), _provisional(calendar, consulted))


def business_days_end(start: datetime, n: int, *, tz: ZoneInfo, calendar: WorkCalendar) -> DueDate:
    """End (24:00 local) of the n-th working day after the start day."""
    _require_aware(start, "start")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a whole number >= 0, got {n!r}")
    first = start.astimezone(tz).date()
    day = first
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
    consulted = range(first.year, day.year + 1) if n else ()
    return DueDate(_end_of(day, tz), _provisional(calendar, consulted))


def hours_end(start: datetime, hours: int | float) -> datetime:
    """`start` plus elapsed hours (not wall-clock hours), in start's time zone."""
    _require_aware(start, "start")
    # Aware arithmetic within one zone is wall-clock; go through UTC so a DST change counts.
    return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)


@dataclass(frozen=True)
class StageMove:
    """A recorded stage move; document_review → document_review updates the missing list."""

    to_stage: str
    occurred_at: datetime
    recorded_at: datetime
    missing_documents: tuple[str, ...] | None = None
    amount: Decimal | None = None

    def __post_init__(self) -> None:
        if self.to_stage not in STAGES:
            raise ValueError(f"unknown stage {self.to_stage!r}")
        _require_aware(self.occurred_at, "occurred_at")
        _require_aware(self.recorded_at, "recorded_at")
        if self.missing_documents is not None:
            # Callers often hold lists; a tuple keeps the value hashable and immutable.
            object.__setattr__(self, "missing_documents", tuple(self.missing_documents))


@dataclass(frozen=True)
class ClaimFacts:
    """What a claim's deadlines depend on: its report, cover, advance payment and stage moves."""

    reported_at: datetime
    coverage_type: str
    advance_paid_at: datetime | None
    moves: tuple[StageMove, ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.reported_at, "reported_at")
        if self.advance_paid_at is not None:
            _require_aware(self.advance_paid_at, "advance_paid_at")
        if self.coverage_type not in COVERAGE_TYPES:
            raise ValueError(f"unknown coverage_type {self.coverage_type!r}")
        object.__setattr__(self, "moves", tuple(self.moves))


@dataclass(frozen=True)
class Deadline:
    """A time limit: when it started, when it is due, and whether its stop event has happened."""

    code: str
    basis: str
    description: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    # Derived, never passed: met/missed once stopped, running otherwise.
    state: DeadlineState = field(init=False)
    provisional: bool

    def __post_init__(self) -> None:
        _require_aware(self.started_at, "started_at")
        _require_aware(self.due_at, "due_at")
        if self.stopped_at is None:
            state: DeadlineState = "running"
        else:
            _require_aware(self.stopped_at, "stopped_at")
            state = "missed" if self.stopped_at > self.due_at else "met"
        object.__setattr__(self, "state", state)


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """True when the deadline is running and `now` is at or past its due time."""
    _require_aware(now, "now")
    return deadline.state == "running" and now >= deadline.due_at


def _first(
    moves: tuple[StageMove, ...], predicate: Callable[[StageMove], bool], start: int = 0
) -> int | None:
    """Index of the first move from `start` on that matches."""
    for index in range(start, len(moves)):
        if predicate(moves[index]):
            return index
    return None


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def compute_claim_deadlines(
    facts: ClaimFacts, profile: Profile, calendar: WorkCalendar
) -> list[Deadline]:
    """Every claim deadline whose clock has started: legal ones first, then internal targets."""
    tz = profile.tz
    # Nothing follows a withdrawal (a terminal stage); it stops every clock still running.
    withdrawn_index = _first(facts.moves, lambda m: m.to_stage == "withdrawn")
    moves = facts.moves if withdrawn_index is None else facts.moves[: withdrawn_index + 1]
    withdrawn_at = None if withdrawn_index is None else moves[withdrawn_index].occurred_at

    def make(code: str, started: datetime, days: int, stopped: datetime | None) -> Deadline:
        due = period_end(started, days, tz=tz, calendar=calendar)
        return Deadline(
            code=code,
            basis=code,
            description=profile.basis(code).description_en,
            started_at=started,
            due_at=due.due_at,
            stopped_at=_earliest(stopped, withdrawn_at),
            provisional=due.provisional,
        )

    def stop_after(index: int, stages: tuple[str, ...]) -> datetime | None:
        found = _first(moves, lambda m: m.to_stage in stages, index + 1)
        return None if found is None else moves[found].occurred_at

    result: list[Deadline] = []

    # Documents are complete when the claim reaches adjustment or a review states none missing;
    # None ("not stated") does not count.
    complete = _first(
        moves,
        lambda m: (
            m.to_stage == "adjustment"
            or (m.to_stage == "document_review" and m.missing_documents == ())
        ),
    )
    if complete is not None:
        result.append(
            make(
                "claim.determination",
                moves[complete].occurred_at,
                profile.determination_days(facts.coverage_type),
                stop_after(complete, ("settled", "rejected")),
            )
        )

    agreed = _first(moves, lambda m: m.to_stage == "approval" and m.amount is not None)
    if agreed is not None:
        result.append(
            make(
                "claim.payment",
                moves[agreed].occurred_at,
                profile.claim_payment_days,
                stop_after(agreed, ("settled",)),
            )
        )

    review = _first(moves, lambda m: m.to_stage == "document_review")
    if review is not None:
        result.append(
            make(
                "claim.advance_payment",
                moves[review].occurred_at,
                profile.advance_payment_days,
                _earliest(stop_after(review, ("settled", "rejected")), facts.advance_paid_at),
            )
        )

    rejected = _first(moves, lambda m: m.to_stage == "rejected")
    if rejected is not None:
        # The move's occurred_at is the determination; recording it (with its reason) through the
        # claims system is the notice.
        result.append(
            make(
                "claim.rejection_notice",
                moves[rejected].occurred_at,
                profile.rejection_notice_days,
                moves[rejected].recorded_at,
            )
        )

    # Latest visit of each stage: a move to the current stage is an update, not a new entry.
    visits: dict[str, tuple[datetime, datetime | None]] = {"reported": (facts.reported_at, None)}
    current = "reported"
    for move in moves:
        if move.to_stage == current:
            continue
        entered, _ = visits[current]
        visits[current] = (entered, move.occurred_at)
        current = move.to_stage
        visits[current] = (move.occurred_at, None)
    for stage in INTERNAL_STAGES:
        if stage in visits:
            entered, left = visits[stage]
            result.append(
                make(f"internal.{stage}", entered, profile.internal_stage_days[stage], left)
            )
    return result


def _normalise(name: str) -> str:
    return name.strip().casefold()


def repeat_document_request(facts: ClaimFacts) -> bool:
    """True when a later missing-documents list names a document not on the first (Art. 22)."""
    lists = [m.missing_documents for m in facts.moves if m.missing_documents]
    if len(lists) < 2:
        return False
    first = {_normalise(name) for name in lists[0]}
    return any(
        _normalise(name) not in first for later in lists[1:] for name in later if name.strip()
    )


def outstanding_documents(facts: ClaimFacts) -> tuple[str, ...]:
    """Documents still missing: the latest stated list, unless cleared by a later move."""
    outstanding: tuple[str, ...] = ()
    for move in facts.moves:
        if move.missing_documents is not None:
            outstanding = move.missing_documents
        elif move.to_stage in _PAST_DOCUMENT_REVIEW:
            outstanding = ()
    return outstanding
