"""Day counting (Civil Code Arts. 201, 203) and claim deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.deadlines.calendar import WorkCalendar, YearSchedule
from app.deadlines.compute import (
    ClaimFacts,
    Deadline,
    StageMove,
    business_days_end,
    compute_claim_deadlines,
    hours_end,
    is_overdue,
    outstanding_documents,
    period_end,
    repeat_document_request,
)
from app.deadlines.rules import get_profile

SHANGHAI = ZoneInfo("Asia/Shanghai")
LONDON = ZoneInfo("Europe/London")
BJT = timezone(timedelta(hours=8))
CN_CAL = WorkCalendar("CN")
UK_CAL = WorkCalendar("GB", "ENG")
CN = get_profile("cn")


def t(value: str) -> datetime:
    """A Beijing-time instant from 'YYYY-MM-DD HH:MM' (or a full ISO string with offset)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BJT)


# --- period_end -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        # regulation.md's example: 2026-10-13 (a Tuesday) is a working day, so it stays.
        ("2026-09-28 10:00", 15, "2026-10-14T00:00:00+08:00"),
        # The same instant given in UTC counts from the Beijing date.
        ("2026-09-28T02:00:00+00:00", 15, "2026-10-14T00:00:00+08:00"),
        # 2026-09-27 20:00 UTC is already 2026-09-28 in Beijing.
        ("2026-09-27T20:00:00+00:00", 15, "2026-10-14T00:00:00+08:00"),
        # Last day 2026-10-01 falls in the National Day holiday → first working day 2026-10-08.
        ("2026-09-16 09:00", 15, "2026-10-09T00:00:00+08:00"),
        # Last day 2026-10-10 is an adjusted working Saturday: it stays.
        ("2026-09-25 09:00", 15, "2026-10-11T00:00:00+08:00"),
        # Last day 2026-11-01 is a plain Sunday → Monday.
        ("2026-10-17 09:00", 15, "2026-11-03T00:00:00+08:00"),
        # Last day 2026-01-03 is a Saturday → the adjusted working Sunday 2026-01-04.
        ("2025-12-29 23:59", 5, "2026-01-05T00:00:00+08:00"),
        # Start at midnight: the start day is still not counted.
        ("2026-03-02 00:00", 1, "2026-03-04T00:00:00+08:00"),
        ("2026-03-02 10:00", 0, "2026-03-03T00:00:00+08:00"),
    ],
)
def test_period_end_cn(start: str, days: int, due: str) -> None:
    result = period_end(t(start), days, tz=SHANGHAI, calendar=CN_CAL)
    assert result.due_at == datetime.fromisoformat(due)
    assert result.due_at.isoformat() == due
    assert result.provisional is False


def test_period_end_is_local_midnight_across_dst() -> None:
    # 2026-03-30 is after the clocks go forward in London: midnight is at +01:00.
    result = period_end(datetime(2026, 3, 20, 9, tzinfo=LONDON), 10, tz=LONDON, calendar=UK_CAL)
    assert result.due_at.isoformat() == "2026-03-31T00:00:00+01:00"


@pytest.mark.parametrize(
    ("start", "days", "calendar", "due", "provisional"),
    [
        # 2030-01-19 is a Saturday → Monday 2030-01-21; 2030 has no official schedule yet.
        ("2029-12-20 09:00", 30, CN_CAL, "2030-01-22T00:00:00+08:00", True),
        # The same with 2030 announced by an operator: the Saturday is made a working day.
        (
            "2029-12-20 09:00",
            30,
            WorkCalendar(
                "CN",
                overrides={
                    2029: YearSchedule(frozenset(), frozenset()),
                    2030: YearSchedule(frozenset(), frozenset({date(2030, 1, 19)})),
                },
            ),
            "2030-01-20T00:00:00+08:00",
            False,
        ),
        # Only the last day's year matters; an early start in a known year is not provisional.
        ("2026-03-02 09:00", 30, CN_CAL, "2026-04-02T00:00:00+08:00", False),
    ],
)
def test_period_end_provisional(
    start: str, days: int, calendar: WorkCalendar, due: str, provisional: bool
) -> None:
    result = period_end(t(start), days, tz=SHANGHAI, calendar=calendar)
    assert result.due_at == datetime.fromisoformat(due)
    assert result.provisional is provisional


def test_period_end_provisional_when_moved_into_unknown_year() -> None:
    # The last day 2026-12-31 is known, but a schedule declaring it off moves the end into 2027,
    # which is not announced in this calendar.
    cal = WorkCalendar(
        "CN", overrides={2026: YearSchedule(frozenset({date(2026, 12, 31)}), frozenset())}
    )
    result = period_end(t("2026-12-21 09:00"), 10, tz=SHANGHAI, calendar=cal)
    assert result.due_at.date() == date(2027, 1, 5)  # 1 Jan holiday, 2-3 weekend, 4 Jan Monday
    assert result.provisional is True


@pytest.mark.parametrize("days", [-1, 1.5, True])
def test_period_end_rejects_bad_days(days: object) -> None:
    with pytest.raises(ValueError):
        period_end(t("2026-03-02 09:00"), days, tz=SHANGHAI, calendar=CN_CAL)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "n", "calendar", "tz", "due"),
    [
        # Golden Week off; 8, 9 and the adjusted working Saturday 10 October count.
        (t("2026-09-30 09:00"), 3, CN_CAL, SHANGHAI, "2026-10-11T00:00:00+08:00"),
        (t("2026-03-02 09:00"), 5, CN_CAL, SHANGHAI, "2026-03-10T00:00:00+08:00"),
        # Christmas, weekend and the Boxing Day substitute are skipped in England.
        (datetime(2026, 12, 24, 9, tzinfo=LONDON), 3, UK_CAL, LONDON, "2027-01-01T00:00:00+00:00"),
    ],
)
def test_business_days_end(
    start: datetime, n: int, calendar: WorkCalendar, tz: ZoneInfo, due: str
) -> None:
    assert business_days_end(start, n, tz=tz, calendar=calendar).due_at.isoformat() == due


def test_business_days_end_provisional() -> None:
    assert business_days_end(t("2029-12-28 09:00"), 3, tz=SHANGHAI, calendar=CN_CAL).provisional


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (t("2026-03-02 09:00"), 24, t("2026-03-03 09:00")),
        # Across the spring DST change 24 elapsed hours end at 13:00 BST, not 12:00.
        (
            datetime(2026, 3, 28, 12, tzinfo=LONDON),
            24,
            datetime(2026, 3, 29, 13, tzinfo=LONDON),
        ),
    ],
)
def test_hours_end(start: datetime, hours: int, expected: datetime) -> None:
    result = hours_end(start, hours)
    assert result == expected
    assert result.utcoffset() == expected.utcoffset()


NAIVE = datetime(2026, 3, 2, 9, 0)


@pytest.mark.parametrize(
    "call",
    [
        lambda: period_end(NAIVE, 15, tz=SHANGHAI, calendar=CN_CAL),
        lambda: business_days_end(NAIVE, 3, tz=SHANGHAI, calendar=CN_CAL),
        lambda: hours_end(NAIVE, 24),
        lambda: StageMove("survey_assessment", NAIVE, t("2026-03-02 09:00"), None, None),
        lambda: StageMove("survey_assessment", t("2026-03-02 09:00"), NAIVE, None, None),
        lambda: ClaimFacts(NAIVE, "commercial", None, ()),
        lambda: ClaimFacts(t("2026-03-02 09:00"), "commercial", NAIVE, ()),
    ],
)
def test_naive_datetime_rejected(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: StageMove("closed", t("2026-03-02 09:00"), t("2026-03-02 09:00"), None, None),
        lambda: ClaimFacts(t("2026-03-02 09:00"), "comprehensive", None, ()),
    ],
)
def test_unknown_codes_rejected(call) -> None:
    with pytest.raises(ValueError, match="unknown"):
        call()


# --- claim deadlines --------------------------------------------------------------------------


def mv(
    stage: str,
    when: str,
    missing: tuple[str, ...] | None = None,
    amount: str | None = None,
    recorded: str | None = None,
) -> StageMove:
    """A stage move, recorded when it occurred unless told otherwise."""
    return StageMove(
        to_stage=stage,
        occurred_at=t(when),
        recorded_at=t(recorded or when),
        missing_documents=missing,
        amount=None if amount is None else Decimal(amount),
    )


def facts(
    *moves: StageMove,
    coverage: str = "commercial",
    advance_paid_at: str | None = None,
    reported: str = "2026-03-02 09:00",
) -> ClaimFacts:
    return ClaimFacts(
        reported_at=t(reported),
        coverage_type=coverage,
        advance_paid_at=None if advance_paid_at is None else t(advance_paid_at),
        moves=tuple(moves),
    )


SURVEY = mv("survey_assessment", "2026-03-03 10:00")
REVIEW = mv("document_review", "2026-03-05 10:00", missing=("police report",))
COMPLETE = mv("document_review", "2026-03-10 10:00", missing=())
ADJUST = mv("adjustment", "2026-03-12 10:00")
APPROVE = mv("approval", "2026-03-20 10:00", amount="3800")
SETTLE = mv("settled", "2026-03-25 10:00")
FULL = facts(SURVEY, REVIEW, COMPLETE, ADJUST, APPROVE, SETTLE)

# (name, facts, code, started_at, due_at, stopped_at, state); due_at is 24:00 Beijing time of
# the (holiday-adjusted) last day, written as the next midnight.
# fmt: off
CLAIM_CASES = [
    # determination starts at the review that states nothing missing, stops at settlement.
    ("determination met", FULL, "claim.determination",
     "2026-03-10 10:00", "2026-04-10 00:00", "2026-03-25 10:00", "met"),
    # without an explicit empty list, documents are complete on entering adjustment;
    # 2026-04-11 is a Saturday → Monday 13 April.
    ("determination from adjustment", facts(SURVEY, REVIEW, ADJUST), "claim.determination",
     "2026-03-12 10:00", "2026-04-14 00:00", None, "running"),
    # compulsory third-party cover: 5 days; 2026-03-15 is a Sunday → Monday 16 March.
    ("determination compulsory missed",
     facts(SURVEY, REVIEW, COMPLETE, ADJUST, APPROVE, SETTLE, coverage="compulsory_tpl"),
     "claim.determination", "2026-03-10 10:00", "2026-03-17 00:00", "2026-03-25 10:00", "missed"),
    ("determination compulsory met",
     facts(SURVEY, COMPLETE, mv("rejected", "2026-03-16 23:59"), coverage="compulsory_tpl"),
     "claim.determination",
     "2026-03-10 10:00", "2026-03-17 00:00", "2026-03-16 23:59", "met"),
    ("determination stopped by rejection",
     facts(SURVEY, REVIEW, ADJUST, mv("rejected", "2026-05-01 10:00")), "claim.determination",
     "2026-03-12 10:00", "2026-04-14 00:00", "2026-05-01 10:00", "missed"),
    # a settlement stopped at exactly 24:00 of the last day is still in time.
    ("determination stop at due instant",
     facts(SURVEY, COMPLETE, mv("adjustment", "2026-03-11 10:00"),
           mv("approval", "2026-03-12 10:00"), mv("settled", "2026-04-10 00:00")),
     "claim.determination", "2026-03-10 10:00", "2026-04-10 00:00", "2026-04-10 00:00", "met"),
    ("payment met", FULL, "claim.payment",
     "2026-03-20 10:00", "2026-03-31 00:00", "2026-03-25 10:00", "met"),
    # an approval without an amount does not start it; a later one with an amount does.
    ("payment from approval with amount",
     facts(SURVEY, REVIEW, ADJUST, mv("approval", "2026-03-16 10:00"),
           mv("adjustment", "2026-03-17 10:00"), mv("approval", "2026-03-18 10:00", amount="1"),
           mv("settled", "2026-04-01 10:00")),
     # 2026-03-28 is a Saturday → Monday 30 March.
     "claim.payment", "2026-03-18 10:00", "2026-03-31 00:00", "2026-04-01 10:00", "missed"),
    # rejection does not stop the payment clock (regulation.md: stops at settled only).
    ("payment running after approval", facts(SURVEY, REVIEW, ADJUST, APPROVE), "claim.payment",
     "2026-03-20 10:00", "2026-03-31 00:00", None, "running"),
    # advance payment: 60 days from entering review; 2026-05-04 and 05 are Labour Day holidays.
    ("advance met by settlement", FULL, "claim.advance_payment",
     "2026-03-05 10:00", "2026-05-07 00:00", "2026-03-25 10:00", "met"),
    ("advance met by payment", facts(SURVEY, REVIEW, ADJUST, advance_paid_at="2026-04-20 10:00"),
     "claim.advance_payment", "2026-03-05 10:00", "2026-05-07 00:00", "2026-04-20 10:00", "met"),
    ("advance missed", facts(SURVEY, REVIEW, ADJUST, advance_paid_at="2026-05-07 00:01"),
     "claim.advance_payment", "2026-03-05 10:00", "2026-05-07 00:00", "2026-05-07 00:01",
     "missed"),
    ("advance stopped by rejection", facts(SURVEY, REVIEW, mv("rejected", "2026-03-06 10:00")),
     "claim.advance_payment", "2026-03-05 10:00", "2026-05-07 00:00", "2026-03-06 10:00", "met"),
    ("advance running", facts(SURVEY, REVIEW), "claim.advance_payment",
     "2026-03-05 10:00", "2026-05-07 00:00", None, "running"),
    # rejection notice: from the determination (occurred_at) to the recorded notice.
    ("rejection notice met",
     facts(SURVEY, REVIEW, mv("rejected", "2026-03-20 10:00", recorded="2026-03-23 18:00")),
     "claim.rejection_notice", "2026-03-20 10:00", "2026-03-24 00:00", "2026-03-23 18:00", "met"),
    ("rejection notice missed",
     facts(SURVEY, REVIEW, mv("rejected", "2026-03-20 10:00", recorded="2026-03-24 09:00")),
     "claim.rejection_notice", "2026-03-20 10:00", "2026-03-24 00:00", "2026-03-24 09:00",
     "missed"),
    # internal targets, from the latest entry into each stage.
    ("internal reported met", FULL, "internal.reported",
     "2026-03-02 09:00", "2026-03-04 00:00", "2026-03-03 10:00", "met"),
    ("internal survey met", FULL, "internal.survey_assessment",
     "2026-03-03 10:00", "2026-03-07 00:00", "2026-03-05 10:00", "met"),
    # the review update on 10 March is not a new entry.
    ("internal review missed", FULL, "internal.document_review",
     "2026-03-05 10:00", "2026-03-11 00:00", "2026-03-12 10:00", "missed"),
    ("internal adjustment missed", FULL, "internal.adjustment",
     "2026-03-12 10:00", "2026-03-18 00:00", "2026-03-20 10:00", "missed"),
    ("internal approval missed", FULL, "internal.approval",
     "2026-03-20 10:00", "2026-03-24 00:00", "2026-03-25 10:00", "missed"),
    ("internal reported running", facts(), "internal.reported",
     "2026-03-02 09:00", "2026-03-04 00:00", None, "running"),
    ("internal latest visit",
     facts(SURVEY, REVIEW, ADJUST, mv("approval", "2026-03-16 10:00"),
           mv("adjustment", "2026-03-17 10:00")),
     # 2026-03-22 is a Sunday → Monday 23 March.
     "internal.adjustment", "2026-03-17 10:00", "2026-03-24 00:00", None, "running"),
    ("internal earlier visit closed",
     facts(SURVEY, REVIEW, ADJUST, mv("approval", "2026-03-16 10:00"),
           mv("adjustment", "2026-03-17 10:00")),
     "internal.approval", "2026-03-16 10:00", "2026-03-20 00:00", "2026-03-17 10:00", "met"),
    ("internal review re-entered",
     facts(SURVEY, REVIEW, ADJUST, mv("document_review", "2026-03-13 10:00", missing=("x",))),
     "internal.document_review", "2026-03-13 10:00", "2026-03-19 00:00", None, "running"),
    # withdrawal stops every running clock at the withdrawal.
    ("withdrawn stops determination",
     facts(SURVEY, REVIEW, ADJUST, mv("withdrawn", "2026-03-15 10:00")), "claim.determination",
     "2026-03-12 10:00", "2026-04-14 00:00", "2026-03-15 10:00", "met"),
    ("withdrawn stops advance",
     facts(SURVEY, REVIEW, ADJUST, mv("withdrawn", "2026-05-08 10:00")),
     "claim.advance_payment", "2026-03-05 10:00", "2026-05-07 00:00", "2026-05-08 10:00",
     "missed"),
    ("withdrawn stops payment",
     facts(SURVEY, REVIEW, ADJUST, APPROVE, mv("withdrawn", "2026-03-21 10:00")),
     "claim.payment", "2026-03-20 10:00", "2026-03-31 00:00", "2026-03-21 10:00", "met"),
    ("withdrawn stops internal",
     facts(SURVEY, REVIEW, ADJUST, mv("withdrawn", "2026-03-20 10:00")), "internal.adjustment",
     "2026-03-12 10:00", "2026-03-18 00:00", "2026-03-20 10:00", "missed"),
    ("withdrawn before advance payment",
     facts(SURVEY, REVIEW, mv("withdrawn", "2026-03-20 10:00"),
           advance_paid_at="2026-04-01 10:00"),
     "claim.advance_payment", "2026-03-05 10:00", "2026-05-07 00:00", "2026-03-20 10:00", "met"),
]
# fmt: on


@pytest.mark.parametrize(
    ("claim", "code", "started", "due", "stopped", "state"),
    [case[1:] for case in CLAIM_CASES],
    ids=[case[0] for case in CLAIM_CASES],
)
def test_claim_deadline(
    claim: ClaimFacts, code: str, started: str, due: str, stopped: str | None, state: str
) -> None:
    found = {d.code: d for d in compute_claim_deadlines(claim, CN, CN_CAL)}
    deadline = found[code]
    assert deadline.basis == code
    assert deadline.description == CN.basis(code).description_en
    assert deadline.started_at == t(started)
    assert deadline.due_at == t(due)
    assert deadline.due_at.utcoffset() == timedelta(hours=8)
    assert deadline.stopped_at == (None if stopped is None else t(stopped))
    assert deadline.state == state
    assert deadline.provisional is False


# (name, facts, codes that must not be present): a clock that has not started is not listed.
# fmt: off
ABSENT_CASES = [
    ("nothing yet", facts(), {"claim.determination", "claim.payment", "claim.advance_payment",
                              "claim.rejection_notice", "internal.survey_assessment"}),
    # missing_documents None means "not stated": documents are not complete.
    ("review without list", facts(SURVEY, mv("document_review", "2026-03-05 10:00")),
     {"claim.determination", "claim.payment", "claim.rejection_notice"}),
    ("review with list", facts(SURVEY, REVIEW), {"claim.determination"}),
    ("approval without amount",
     facts(SURVEY, REVIEW, ADJUST, mv("approval", "2026-03-16 10:00")), {"claim.payment"}),
    ("settled without rejection", FULL, {"claim.rejection_notice"}),
]
# fmt: on


@pytest.mark.parametrize(
    ("claim", "absent"),
    [case[1:] for case in ABSENT_CASES],
    ids=[case[0] for case in ABSENT_CASES],
)
def test_claim_deadline_not_started(claim: ClaimFacts, absent: set[str]) -> None:
    codes = {d.code for d in compute_claim_deadlines(claim, CN, CN_CAL)}
    assert codes.isdisjoint(absent)
    assert "internal.reported" in codes


@pytest.mark.parametrize(
    ("claim", "codes"),
    [
        (
            FULL,
            [
                "claim.determination",
                "claim.payment",
                "claim.advance_payment",
                "internal.reported",
                "internal.survey_assessment",
                "internal.document_review",
                "internal.adjustment",
                "internal.approval",
            ],
        ),
        (
            facts(SURVEY, REVIEW, ADJUST, mv("rejected", "2026-03-20 10:00")),
            [
                "claim.determination",
                "claim.advance_payment",
                "claim.rejection_notice",
                "internal.reported",
                "internal.survey_assessment",
                "internal.document_review",
                "internal.adjustment",
            ],
        ),
        (facts(), ["internal.reported"]),
    ],
)
def test_claim_deadline_order(claim: ClaimFacts, codes: list[str]) -> None:
    assert [d.code for d in compute_claim_deadlines(claim, CN, CN_CAL)] == codes


def test_claim_deadlines_use_profile_numbers() -> None:
    profile = CN.with_internal_targets({"reported": 3})
    found = {d.code: d for d in compute_claim_deadlines(facts(), profile, CN_CAL)}
    # 2026-03-05 is a Thursday: reported 2 March + 3 days.
    assert found["internal.reported"].due_at == t("2026-03-06 00:00")


def test_claim_deadlines_provisional_in_unannounced_year() -> None:
    claim = facts(reported="2030-03-04 09:00")
    (deadline,) = compute_claim_deadlines(claim, CN, CN_CAL)
    assert deadline.provisional is True
    assert deadline.due_at == t("2030-03-06 00:00")


# --- is_overdue -------------------------------------------------------------------------------

# fmt: off
RUNNING = Deadline("claim.payment", "claim.payment", "", t("2026-03-20 10:00"),
                   t("2026-03-31 00:00"), None, False)
MISSED = Deadline("claim.payment", "claim.payment", "", t("2026-03-20 10:00"),
                  t("2026-03-31 00:00"), t("2026-04-02 10:00"), False)
MET = Deadline("claim.payment", "claim.payment", "", t("2026-03-20 10:00"),
               t("2026-03-31 00:00"), t("2026-03-25 10:00"), False)
# fmt: on


@pytest.mark.parametrize(
    ("deadline", "now", "overdue"),
    [
        (RUNNING, "2026-03-30 23:59", False),
        (RUNNING, "2026-03-31 00:00", True),
        (RUNNING, "2026-03-30T16:00:00+00:00", True),  # the same instant in UTC
        (RUNNING, "2026-04-05 10:00", True),
        (MISSED, "2026-04-05 10:00", False),
        (MET, "2026-04-05 10:00", False),
    ],
)
def test_is_overdue(deadline: Deadline, now: str, overdue: bool) -> None:
    assert is_overdue(deadline, t(now)) is overdue


@pytest.mark.parametrize(
    ("deadline", "state"),
    [(RUNNING, "running"), (MISSED, "missed"), (MET, "met")],
)
def test_deadline_state(deadline: Deadline, state: str) -> None:
    assert deadline.state == state


def test_is_overdue_rejects_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_overdue(RUNNING, datetime(2026, 4, 1, 0, 0))


def test_deadline_times_are_utc_comparable() -> None:
    deadline = compute_claim_deadlines(facts(), CN, CN_CAL)[0]
    assert deadline.due_at.astimezone(UTC) == datetime(2026, 3, 3, 16, 0, tzinfo=UTC)


# --- missing documents ------------------------------------------------------------------------


def review(when: str, missing: tuple[str, ...] | None) -> StageMove:
    return mv("document_review", when, missing=missing)


# fmt: off
REPEAT_CASES = [
    ("no lists", facts(SURVEY, mv("document_review", "2026-03-05 10:00")), False),
    ("one list", facts(SURVEY, REVIEW), False),
    ("same list again", facts(SURVEY, REVIEW, review("2026-03-06 10:00", ("police report",))),
     False),
    ("subset of first",
     facts(SURVEY, review("2026-03-05 10:00", ("police report", "invoice")),
           review("2026-03-06 10:00", ("invoice",))), False),
    ("case and spaces ignored",
     facts(SURVEY, REVIEW, review("2026-03-06 10:00", ("  Police Report ",))), False),
    ("new document", facts(SURVEY, REVIEW, review("2026-03-06 10:00", ("repair invoice",))), True),
    ("new document after empty list",
     facts(SURVEY, REVIEW, review("2026-03-06 10:00", ()),
           review("2026-03-07 10:00", ("repair invoice",))), True),
    ("new document after going back",
     facts(SURVEY, REVIEW, ADJUST,
           mv("document_review", "2026-03-13 10:00", missing=("police report", "licence"))),
     True),
    ("empty first list is not the first list",
     facts(SURVEY, review("2026-03-05 10:00", ()), review("2026-03-06 10:00", ("invoice",))),
     False),
]
# fmt: on


@pytest.mark.parametrize(
    ("claim", "expected"),
    [case[1:] for case in REPEAT_CASES],
    ids=[case[0] for case in REPEAT_CASES],
)
def test_repeat_document_request(claim: ClaimFacts, expected: bool) -> None:
    assert repeat_document_request(claim) is expected


# fmt: off
OUTSTANDING_CASES = [
    ("none stated", facts(SURVEY, mv("document_review", "2026-03-05 10:00")), ()),
    ("first list", facts(SURVEY, REVIEW), ("police report",)),
    ("update replaces",
     facts(SURVEY, REVIEW, review("2026-03-06 10:00", ("invoice", "licence"))),
     ("invoice", "licence")),
    ("update not stating keeps list", facts(SURVEY, REVIEW, review("2026-03-06 10:00", None)),
     ("police report",)),
    ("later review states none", facts(SURVEY, REVIEW, COMPLETE), ()),
    ("moved past review", facts(SURVEY, REVIEW, ADJUST), ()),
    ("rejected", facts(SURVEY, REVIEW, mv("rejected", "2026-03-06 10:00")), ()),
    ("back to review without list", facts(SURVEY, REVIEW, ADJUST, review("2026-03-13 10:00", None)),
     ()),
    ("back to review with list",
     facts(SURVEY, REVIEW, ADJUST, review("2026-03-13 10:00", ("licence",))), ("licence",)),
]
# fmt: on


@pytest.mark.parametrize(
    ("claim", "expected"),
    [case[1:] for case in OUTSTANDING_CASES],
    ids=[case[0] for case in OUTSTANDING_CASES],
)
def test_outstanding_documents(claim: ClaimFacts, expected: tuple[str, ...]) -> None:
    assert outstanding_documents(claim) == expected


def test_missing_documents_list_becomes_tuple() -> None:
    move = StageMove(
        "document_review", t("2026-03-05 10:00"), t("2026-03-05 10:00"), ["invoice"], None
    )
    assert move.missing_documents == ("invoice",)
