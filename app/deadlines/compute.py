"""Counting periods (Civil Code Arts. 201, 203) and a claim's statutory and internal deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from app.deadlines.calendar import WorkCalendar
from app.deadlines.rules import STAGES_WITH_TARGETS, Profile

State = Literal["running", "met", "missed"]


@dataclass(frozen=True)
class DueDate:
    """The instant a period ends, and whether an unannounced calendar year was used."""

    due_at: datetime
    provisional: bool


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    """24:00 of a local day, as the next local midnight."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def period_end(start: datetime, days: int, *, tz: ZoneInfo, calendar: WorkCalendar) -> DueDate:
    """End of a period of `days` calendar days from `start` (start day not counted).

    A last day that is a rest day or holiday moves to the next working day; the period ends at
    24:00 local time of the last day.
    """
    _require_aware(start, "start")
    if days < 0:
        raise ValueError("days must not be negative")
    first = start.astimezone(tz).date()
    last = first + timedelta(days=days)
    provisional = calendar.is_provisional(last.year)
    moved = calendar.next_working_day_on_or_after(last)
    if moved.year != last.year:
        provisional = provisional or calendar.is_provisional(moved.year)
    return DueDate(_end_of(moved, tz), provisional)


def business_days_end(start: datetime, n: int, *, tz: ZoneInfo, calendar: WorkCalendar) -> DueDate:
    """End (24:00 local) of the n-th working day after `start`'s day."""
    _require_aware(start, "start")
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start.astimezone(tz).date()
    provisional = False
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        provisional = provisional or calendar.is_provisional(day.year)
        if calendar.is_working_day(day):
            counted += 1
    return DueDate(_end_of(day, tz), provisional)


def hours_end(start: datetime, hours: int) -> datetime:
    """`start` plus elapsed hours (internal targets counted by the clock, not the calendar)."""
    _require_aware(start, "start")
    return start + timedelta(hours=hours)


@dataclass(frozen=True)
class StageMove:
    """A recorded stage move (a document_review → document_review move updates the list)."""

    to_stage: str
    occurred_at: datetime
    recorded_at: datetime
    missing_documents: tuple[str, ...] | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class ClaimFacts:
    """What the deadlines of a claim depend on."""

    reported_at: datetime
    coverage_type: str
    advance_paid_at: datetime | None
    moves: tuple[StageMove, ...]


@dataclass(frozen=True)
class Deadline:
    """A running or stopped time limit."""

    code: str
    basis: str
    description: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None
    state: State
    provisional: bool


def is_overdue(deadline: Deadline, now: datetime) -> bool:
    """Running and past due; a stopped deadline is met or missed, never overdue."""
    _require_aware(now, "now")
    return deadline.state == "running" and now >= deadline.due_at


def _first(
    moves: tuple[StageMove, ...], predicate, after: datetime | None = None
) -> StageMove | None:
    for move in moves:
        if (after is None or move.occurred_at >= after) and predicate(move):
            return move
    return None


def _make(
    code: str,
    started: datetime,
    days: int,
    stopped: datetime | None,
    profile: Profile,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> Deadline:
    due = period_end(started, days, tz=tz, calendar=calendar)
    if stopped is None:
        state: State = "running"
    else:
        state = "met" if stopped <= due.due_at else "missed"
    return Deadline(
        code=code,
        basis=code,
        description=profile.basis(code).description,
        started_at=started,
        due_at=due.due_at,
        stopped_at=stopped,
        state=state,
        provisional=due.provisional,
    )


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def compute_claim_deadlines(
    facts: ClaimFacts, profile: Profile, calendar: WorkCalendar
) -> list[Deadline]:
    """Every deadline whose clock has started: legal ones first, then internal stage targets."""
    _require_aware(facts.reported_at, "reported_at")
    for move in facts.moves:
        _require_aware(move.occurred_at, "occurred_at")
        _require_aware(move.recorded_at, "recorded_at")
    tz = ZoneInfo(profile.timezone)
    moves = facts.moves
    withdrawn = _first(moves, lambda m: m.to_stage == "withdrawn")
    withdrawn_at = withdrawn.occurred_at if withdrawn else None
    settled = _first(moves, lambda m: m.to_stage == "settled")
    rejected = _first(moves, lambda m: m.to_stage == "rejected")
    result: list[Deadline] = []

    complete = _first(
        moves,
        lambda m: (
            m.to_stage == "adjustment"
            or (m.to_stage == "document_review" and m.missing_documents == ())
        ),
    )
    if complete is not None:
        days = (
            profile.claim_determination_days_compulsory
            if facts.coverage_type == "compulsory_tpl"
            else profile.claim_determination_days
        )
        stop = _first(
            moves,
            lambda m: m.to_stage in ("settled", "rejected"),
            after=complete.occurred_at,
        )
        stopped = _earliest(stop.occurred_at if stop else None, withdrawn_at)
        result.append(
            _make("claim.determination", complete.occurred_at, days, stopped, profile, calendar, tz)
        )

    agreed = _first(moves, lambda m: m.to_stage == "approval" and m.amount is not None)
    if agreed is not None:
        stop = _first(moves, lambda m: m.to_stage == "settled", after=agreed.occurred_at)
        stopped = _earliest(stop.occurred_at if stop else None, withdrawn_at)
        result.append(
            _make(
                "claim.payment",
                agreed.occurred_at,
                profile.claim_payment_days,
                stopped,
                profile,
                calendar,
                tz,
            )
        )

    review = _first(moves, lambda m: m.to_stage == "document_review")
    if review is not None:
        advance = facts.advance_paid_at
        if advance is not None:
            _require_aware(advance, "advance_paid_at")
        stopped = _earliest(
            settled.occurred_at if settled else None,
            rejected.occurred_at if rejected else None,
            advance if advance is not None and advance >= review.occurred_at else None,
            withdrawn_at,
        )
        result.append(
            _make(
                "claim.advance_payment",
                review.occurred_at,
                profile.advance_payment_days,
                stopped,
                profile,
                calendar,
                tz,
            )
        )

    if rejected is not None:
        result.append(
            _make(
                "claim.rejection_notice",
                rejected.occurred_at,
                profile.rejection_notice_days,
                rejected.recorded_at,
                profile,
                calendar,
                tz,
            )
        )

    # Internal targets: the latest visit of each open stage the claim has entered.
    visits: dict[str, tuple[datetime, datetime | None]] = {"reported": (facts.reported_at, None)}
    current = "reported"
    for move in moves:
        if move.to_stage == current:
            continue
        entered, _ = visits[current]
        visits[current] = (entered, move.occurred_at)
        current = move.to_stage
        visits[current] = (move.occurred_at, None)
    for stage in STAGES_WITH_TARGETS:
        if stage in visits:
            entered, left = visits[stage]
            result.append(
                _make(
                    f"internal.{stage}",
                    entered,
                    profile.internal_stage_days[stage],
                    left,
                    profile,
                    calendar,
                    tz,
                )
            )
    return result


def _normalise(name: str) -> str:
    return name.strip().casefold()


def repeat_document_request(facts: ClaimFacts) -> bool:
    """True when a later missing-documents list names a document the first list did not."""
    lists = [m.missing_documents for m in facts.moves if m.missing_documents]
    if len(lists) < 2:
        return False
    first = {_normalise(d) for d in lists[0]}
    return any(_normalise(d) not in first for later in lists[1:] for d in later)


def outstanding_documents(facts: ClaimFacts) -> tuple[str, ...]:
    """Documents still missing: the latest stated list, unless the claim has moved past review."""
    outstanding: tuple[str, ...] = ()
    for move in facts.moves:
        if move.to_stage == "document_review":
            if move.missing_documents is not None:
                outstanding = move.missing_documents
        else:
            outstanding = ()
    return outstanding
