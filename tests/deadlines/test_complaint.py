"""Complaint deadlines: acknowledgement, reply, extensions, pauses and withdrawal."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from app.deadlines.calendar import WorkCalendar
from app.deadlines.complaint import (
    ComplaintFacts,
    Extension,
    Pause,
    compute_complaint_deadlines,
    extension_allowed,
    reply_limit_days,
)
from app.deadlines.rules import get_profile

BJT = timezone(timedelta(hours=8))
CN_CAL = WorkCalendar("CN")
CN = get_profile("cn")
TW = get_profile("tw")
UK = get_profile("uk")


def t(value: str) -> datetime:
    """A Beijing-time instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(value).replace(tzinfo=BJT)


RECEIVED = t("2026-09-28 10:00")
FACTS = ComplaintFacts(
    received_at=RECEIVED, acknowledged_at=None, replied_at=None, withdrawn_at=None
)
COMPLEX = Extension("complex", t("2026-10-10 09:00"))
VERY = Extension("very_complex", t("2026-10-25 09:00"))


def facts(**changes: object) -> ComplaintFacts:
    return dataclasses.replace(FACTS, **changes)  # type: ignore[arg-type]


def deadlines(f: ComplaintFacts, now: datetime = RECEIVED) -> dict[str, object]:
    return {d.code: d for d in compute_complaint_deadlines(f, CN, CN_CAL, now)}


def test_regulation_example() -> None:
    reply = deadlines(FACTS)["complaint.reply"]
    assert reply.due_at == datetime.fromisoformat("2026-10-14T00:00:00+08:00")
    assert reply.started_at == RECEIVED
    assert reply.basis == "complaint.reply"
    assert "15 days" in reply.description
    assert reply.state == "running"
    assert reply.provisional is False


def test_order_and_codes() -> None:
    result = compute_complaint_deadlines(FACTS, CN, CN_CAL, RECEIVED)
    assert [d.code for d in result] == ["complaint.acknowledge", "complaint.reply"]


@pytest.mark.parametrize(
    ("acknowledged", "state"),
    [
        (None, "running"),
        ("2026-09-29 09:59", "met"),
        ("2026-09-29 10:00", "met"),
        ("2026-09-29 10:01", "missed"),
    ],
)
def test_acknowledge_24_hours(acknowledged: str | None, state: str) -> None:
    ack = deadlines(facts(acknowledged_at=acknowledged and t(acknowledged)))[
        "complaint.acknowledge"
    ]
    assert ack.due_at == t("2026-09-29 10:00")
    assert ack.basis == "complaint.acknowledge"
    assert ack.state == state


@pytest.mark.parametrize(
    ("replied", "state"),
    [("2026-10-13 23:59", "met"), ("2026-10-14 00:00", "met"), ("2026-10-14 00:01", "missed")],
)
def test_reply_met_or_missed(replied: str, state: str) -> None:
    reply = deadlines(facts(replied_at=t(replied)))["complaint.reply"]
    assert reply.stopped_at == t(replied)
    assert reply.state == state


@pytest.mark.parametrize(
    ("extensions", "days", "due"),
    [
        ((), 15, "2026-10-14 00:00"),
        ((COMPLEX,), 30, "2026-10-29 00:00"),
        ((COMPLEX, VERY), 60, "2026-11-28 00:00"),
        ((VERY, COMPLEX), 60, "2026-11-28 00:00"),  # the highest granted wins, not the last
    ],
)
def test_extensions_raise_the_limit(extensions: tuple[Extension, ...], days: int, due: str) -> None:
    f = facts(extensions=extensions)
    assert reply_limit_days(f, CN) == days
    assert deadlines(f)["complaint.reply"].due_at == t(due)


@pytest.mark.parametrize("profile", [TW, UK])
def test_no_extension_on_tw_uk(profile: object) -> None:
    assert reply_limit_days(FACTS, profile) == profile.complaint_reply_days  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="no complex extension"):
        reply_limit_days(facts(extensions=(COMPLEX,)), profile)  # type: ignore[arg-type]
    for reason in ("complex", "very_complex"):
        ok, why = extension_allowed(FACTS, profile, reason)  # type: ignore[arg-type]
        assert not ok
        assert profile.code in why  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("changes", "reason", "ok", "why"),
    [
        ({}, "complex", True, ""),
        ({}, "very_complex", False, "only allowed after a complex"),
        ({"extensions": (COMPLEX,)}, "complex", False, "already been granted"),
        ({"extensions": (COMPLEX,)}, "very_complex", True, ""),
        ({"extensions": (COMPLEX, VERY)}, "very_complex", False, "already been granted"),
        ({"extensions": (COMPLEX, VERY)}, "complex", False, "already been granted"),
        ({"replied_at": t("2026-10-01 10:00")}, "complex", False, "already been given"),
        ({"withdrawn_at": t("2026-10-01 10:00")}, "complex", False, "withdrawn"),
    ],
)
def test_extension_allowed(changes: dict[str, object], reason: str, ok: bool, why: str) -> None:
    allowed, explanation = extension_allowed(facts(**changes), CN, reason)
    assert allowed is ok
    assert why in explanation
    assert bool(explanation) is not ok


def test_extension_never_beyond_60_days() -> None:
    generous = dataclasses.replace(CN, complaint_very_complex_total_days=90)
    ok, why = extension_allowed(facts(extensions=(COMPLEX,)), generous, "very_complex")
    assert not ok
    assert "60" in why


def test_unknown_extension_reason() -> None:
    with pytest.raises(ValueError):
        extension_allowed(FACTS, CN, "simple")
    with pytest.raises(ValueError):
        Extension("simple", RECEIVED)


@pytest.mark.parametrize(
    ("pauses", "now", "due"),
    [
        # Finished: Oct 9 and Oct 10 are whole days inside the pause → +2 days.
        (
            (Pause(t("2026-10-08 10:00"), t("2026-10-11 15:00")),),
            "2026-10-12 09:00",
            "2026-10-16 00:00",
        ),
        # Whole-day boundaries: exactly Oct 9 00:00 → Oct 11 00:00 covers two days.
        (
            (Pause(t("2026-10-09 00:00"), t("2026-10-11 00:00")),),
            "2026-10-12 09:00",
            "2026-10-16 00:00",
        ),
        # Running: up to now (Oct 10 12:00) only Oct 9 is whole → +1 day.
        ((Pause(t("2026-10-08 10:00"), None),), "2026-10-10 12:00", "2026-10-15 00:00"),
        # Running, later: Oct 9..11 whole → +3 days.
        ((Pause(t("2026-10-08 10:00"), None),), "2026-10-12 12:00", "2026-10-17 00:00"),
        # Shorter than a whole day → nothing.
        (
            (Pause(t("2026-10-08 10:00"), t("2026-10-09 09:00")),),
            "2026-10-12 09:00",
            "2026-10-14 00:00",
        ),
        # Overlapping pauses count each day once: Oct 9, 10, 11 → +3.
        (
            (
                Pause(t("2026-10-08 10:00"), t("2026-10-11 15:00")),
                Pause(t("2026-10-10 10:00"), t("2026-10-12 15:00")),
            ),
            "2026-10-13 09:00",
            "2026-10-17 00:00",
        ),
    ],
)
def test_pause_adds_whole_days(pauses: tuple[Pause, ...], now: str, due: str) -> None:
    reply = deadlines(facts(pauses=pauses), now=t(now))["complaint.reply"]
    assert reply.due_at == t(due)


def test_new_materials_restart_the_reply_period() -> None:
    f = facts(restarted_at=t("2026-10-05 16:00"))
    reply = deadlines(f, now=t("2026-10-06 09:00"))["complaint.reply"]
    assert reply.started_at == t("2026-10-05 16:00")
    assert reply.due_at == t("2026-10-21 00:00")  # 15 days from the new materials
    # A restart before receipt (bad data) never shortens the period.
    early = deadlines(facts(restarted_at=t("2026-09-01 00:00")), now=t("2026-10-06 09:00"))
    assert early["complaint.reply"].started_at == RECEIVED


def test_pause_after_reply_does_not_count() -> None:
    f = facts(replied_at=t("2026-10-08 12:00"), pauses=(Pause(t("2026-10-09 00:00"), None),))
    assert deadlines(f, now=t("2026-10-20 09:00"))["complaint.reply"].due_at == t(
        "2026-10-14 00:00"
    )


def test_withdrawal_stops_both() -> None:
    withdrawn = t("2026-09-28 12:00")
    result = deadlines(facts(withdrawn_at=withdrawn))
    for code in ("complaint.acknowledge", "complaint.reply"):
        assert result[code].stopped_at == withdrawn
        assert result[code].state == "met"


def test_earlier_of_reply_and_withdrawal_stops() -> None:
    f = facts(replied_at=t("2026-10-20 09:00"), withdrawn_at=t("2026-10-02 09:00"))
    reply = deadlines(f)["complaint.reply"]
    assert reply.stopped_at == t("2026-10-02 09:00")
    assert reply.state == "met"


@pytest.mark.parametrize(
    "make",
    [
        lambda naive: facts(received_at=naive),
        lambda naive: facts(acknowledged_at=naive),
        lambda naive: facts(replied_at=naive),
        lambda naive: facts(withdrawn_at=naive),
        lambda naive: Extension("complex", naive),
        lambda naive: Pause(naive, None),
        lambda naive: Pause(RECEIVED, naive),
        lambda naive: compute_complaint_deadlines(FACTS, CN, CN_CAL, naive),
    ],
)
def test_naive_datetime_is_rejected(make: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make(datetime(2026, 9, 28, 10, 0))  # type: ignore[operator]


def test_pause_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        Pause(t("2026-10-09 00:00"), t("2026-10-08 00:00"))


def test_uk_reply_is_eight_weeks() -> None:
    received = datetime.fromisoformat("2026-03-02T10:00:00+00:00")  # a Monday
    f = facts(received_at=received)
    reply = compute_complaint_deadlines(f, UK, WorkCalendar("GB", "ENG"), received)[1]
    assert reply.due_at == datetime.fromisoformat("2026-04-28T00:00:00+01:00")
