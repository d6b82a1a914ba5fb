"""Complaint deadlines (CBIRC Order 2020 No. 3): acknowledgement, reply, extensions and pauses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.deadlines.calendar import WorkCalendar
from app.deadlines.compute import Deadline, hours_end, period_end
from app.deadlines.rules import Profile

EXTENSION_REASONS: tuple[str, ...] = ("complex", "very_complex")
# The measure allows 30 days plus "a further 30": no profile may extend a reply beyond this.
MAX_EXTENDED_DAYS = 60


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value.isoformat()}")


def _optional_aware(value: datetime | None, name: str) -> None:
    if value is not None:
        _require_aware(value, name)


@dataclass(frozen=True)
class Extension:
    """A granted extension of the reply period: `complex` or `very_complex`, and when."""

    reason: str
    at: datetime

    def __post_init__(self) -> None:
        if self.reason not in EXTENSION_REASONS:
            raise ValueError(f"unknown extension reason {self.reason!r}")
        _require_aware(self.at, "at")


@dataclass(frozen=True)
class Pause:
    """An external assessment (appraisal, testing, valuation): its days are not counted."""

    started_at: datetime
    ended_at: datetime | None

    def __post_init__(self) -> None:
        _require_aware(self.started_at, "started_at")
        _optional_aware(self.ended_at, "ended_at")
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("a pause cannot end before it starts")


@dataclass(frozen=True)
class ComplaintFacts:
    """What a complaint's deadlines depend on."""

    received_at: datetime
    acknowledged_at: datetime | None
    # Decision made and the complainant told: the reply clock stops.
    replied_at: datetime | None
    withdrawn_at: datetime | None
    extensions: tuple[Extension, ...] = ()
    pauses: tuple[Pause, ...] = ()
    # New facts and reasons received for the same complaint: the reply period runs again from
    # their receipt (the latest such moment).
    restarted_at: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(self.received_at, "received_at")
        _optional_aware(self.restarted_at, "restarted_at")
        _optional_aware(self.acknowledged_at, "acknowledged_at")
        _optional_aware(self.replied_at, "replied_at")
        _optional_aware(self.withdrawn_at, "withdrawn_at")
        # Callers often hold lists; tuples keep the facts hashable and immutable.
        object.__setattr__(self, "extensions", tuple(self.extensions))
        object.__setattr__(self, "pauses", tuple(self.pauses))


def _total_for(reason: str, profile: Profile) -> int | None:
    if reason == "complex":
        return profile.complaint_complex_total_days
    return profile.complaint_very_complex_total_days


def reply_limit_days(facts: ComplaintFacts, profile: Profile) -> int:
    """Reply days: the base, or the total of the highest extension granted."""
    days = profile.complaint_reply_days
    for extension in facts.extensions:
        total = _total_for(extension.reason, profile)
        if total is None:
            raise ValueError(
                f"profile {profile.code} has no {extension.reason} extension of the reply period"
            )
        days = max(days, total)
    return days


def extension_allowed(facts: ComplaintFacts, profile: Profile, reason: str) -> tuple[bool, str]:
    """Whether one more extension for `reason` is legal, with an English reason when it is not."""
    if reason not in EXTENSION_REASONS:
        raise ValueError(f"unknown extension reason {reason!r}")
    total = _total_for(reason, profile)
    if total is None:
        return False, f"Profile {profile.code} allows no {reason} extension of the reply period."
    if facts.withdrawn_at is not None:
        return False, "The complaint was withdrawn; its reply period has ended."
    if facts.replied_at is not None:
        return False, "The complainant has already been given a decision; nothing to extend."
    granted = [e.reason for e in facts.extensions]
    if reason in granted:
        return False, f"A {reason} extension has already been granted; it is allowed once."
    if reason == "complex" and "very_complex" in granted:
        return False, "A very_complex extension already covers the complex one."
    # "可以再延长30日": the very-complex extension is a further one, so it needs the complex first.
    if reason == "very_complex" and "complex" not in granted:
        return False, "A very_complex extension is only allowed after a complex extension."
    if total > MAX_EXTENDED_DAYS:
        return False, f"The reply period may never exceed {MAX_EXTENDED_DAYS} days in total."
    if total <= reply_limit_days(facts, profile):
        return False, f"The reply period is already {reply_limit_days(facts, profile)} days."
    return True, ""


def _paused_days(pauses: tuple[Pause, ...], start: datetime, end: datetime, tz: ZoneInfo) -> int:
    """Whole local calendar days (00:00–24:00) inside a pause and within [start, end]."""
    days: set[date] = set()  # a set, so overlapping pauses are not counted twice
    for pause in pauses:
        lo = max(pause.started_at, start)
        hi = min(pause.ended_at or end, end)
        if hi <= lo:
            continue
        lo_local, hi_local = lo.astimezone(tz), hi.astimezone(tz)
        day = lo_local.date()
        if lo_local.time() != datetime.min.time():
            day += timedelta(days=1)  # a day the pause starts part-way through is still counted
        while True:
            day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
            if day_end > hi_local:
                break
            days.add(day)
            day += timedelta(days=1)
    return len(days)


def _earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def compute_complaint_deadlines(
    facts: ComplaintFacts, profile: Profile, calendar: WorkCalendar, now: datetime
) -> list[Deadline]:
    """The acknowledgement target and the reply limit of a complaint, in that order."""
    _require_aware(now, "now")
    tz = profile.tz

    ack_code = "complaint.acknowledge"
    acknowledge = Deadline(
        code=ack_code,
        basis=ack_code,
        description=profile.basis(ack_code).description_en,
        started_at=facts.received_at,
        due_at=hours_end(facts.received_at, profile.complaint_acknowledge_hours),
        stopped_at=_earliest(facts.acknowledged_at, facts.withdrawn_at),
        provisional=False,
    )

    reply_code = "complaint.reply"
    stopped = _earliest(facts.replied_at, facts.withdrawn_at)
    start = max(facts.received_at, facts.restarted_at or facts.received_at)
    # A running pause counts up to now; nothing after the clock stopped counts.
    paused = _paused_days(facts.pauses, start, _earliest(stopped, now) or now, tz)
    due = period_end(start, reply_limit_days(facts, profile) + paused, tz=tz, calendar=calendar)
    reply = Deadline(
        code=reply_code,
        basis=reply_code,
        description=profile.basis(reply_code).description_en,
        started_at=start,
        due_at=due.due_at,
        stopped_at=stopped,
        provisional=due.provisional,
    )
    return [acknowledge, reply]


def breachable(deadlines: list[Deadline], *, reply_paused: bool) -> list[Deadline]:
    """The running deadlines that can still be breached (a paused reply clock cannot)."""
    return [
        d
        for d in deadlines
        if d.state == "running" and not (reply_paused and d.code == "complaint.reply")
    ]
