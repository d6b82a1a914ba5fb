"""WorkCalendar: official CN schedule incl. 調休, provisional years, operator overrides."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import holidays
import pytest
from holidays.countries.china import ChinaStaticHolidays

from app.deadlines import calendar as calendar_module
from app.deadlines.calendar import WorkCalendar, YearSchedule, load_schedule_file

CN = WorkCalendar("CN")


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-01-01", False),  # New Year's Day
        ("2026-01-02", False),  # Friday off, swapped for Sunday 4 January
        ("2026-01-03", False),  # plain Saturday
        ("2026-01-04", True),  # adjusted working Sunday
        ("2026-01-05", True),  # plain Monday
        ("2026-02-14", True),  # adjusted working Saturday (Spring Festival)
        ("2026-02-17", False),  # Spring Festival
        ("2026-02-28", True),  # adjusted working Saturday
        ("2026-05-04", False),  # Labour Day in lieu
        ("2026-05-09", True),  # adjusted working Saturday
        ("2026-09-20", True),  # adjusted working Sunday (National Day)
        ("2026-10-01", False),  # National Day
        ("2026-10-07", False),  # last day of the Golden Week
        ("2026-10-08", True),
        ("2026-10-10", True),  # adjusted working Saturday
        ("2026-10-11", False),  # plain Sunday
        ("2026-10-13", True),
    ],
)
def test_cn_2026_working_days(day: str, working: bool) -> None:
    assert CN.is_working_day(date.fromisoformat(day)) is working


def test_cn_2026_agrees_with_library_every_day() -> None:
    library = holidays.China(years=2026)
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert CN.is_working_day(day) is library.is_working_day(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("country", "subdiv", "day", "working"),
    [
        ("GB", "ENG", "2026-08-31", False),  # Summer bank holiday (England)
        ("GB", "ENG", "2026-12-28", False),  # Boxing Day substitute
        ("GB", "ENG", "2026-12-29", True),
        ("GB", "ENG", "2026-03-17", True),  # St Patrick's Day is a holiday in NI only
        ("TW", None, "2026-10-09", False),  # National Day (observed)
        ("TW", None, "2026-10-12", True),
    ],
)
def test_other_countries(country: str, subdiv: str | None, day: str, working: bool) -> None:
    assert WorkCalendar(country, subdiv).is_working_day(date.fromisoformat(day)) is working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-10-01", "2026-10-08"),  # through the Golden Week
        ("2026-10-10", "2026-10-10"),  # already a working (adjusted) Saturday
        ("2026-01-03", "2026-01-04"),  # Saturday → the adjusted working Sunday
        ("2026-10-11", "2026-10-12"),
    ],
)
def test_next_working_day_on_or_after(day: str, expected: str) -> None:
    assert CN.next_working_day_on_or_after(date.fromisoformat(day)) == date.fromisoformat(expected)


def test_last_official_year_derived_from_library() -> None:
    assert CN.last_official_year == max(ChinaStaticHolidays.special_public_holidays)
    assert WorkCalendar("GB", "ENG").last_official_year is None


@pytest.mark.parametrize(
    ("country", "subdiv", "year", "provisional"),
    [
        ("CN", None, 2026, False),
        ("CN", None, 2030, True),
        ("CN", None, 2050, True),
        ("GB", "ENG", 2030, False),
        ("TW", None, 2030, False),
    ],
)
def test_is_provisional(country: str, subdiv: str | None, year: int, provisional: bool) -> None:
    assert WorkCalendar(country, subdiv).is_provisional(year) is provisional


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2030-01-01", False),  # New Year's Day (statutory)
        ("2030-05-01", False),  # Labour Day (statutory)
        ("2030-10-01", False),  # National Day (statutory)
        ("2030-10-03", False),
        ("2030-10-04", True),  # no announced extension yet
        ("2030-02-06", True),  # the library's estimated in-lieu day is not used
        ("2030-10-05", False),  # Saturday: no adjusted working weekends in a provisional year
        ("2030-10-08", True),
    ],
)
def test_provisional_year_is_weekends_plus_statutory_days(day: str, working: bool) -> None:
    assert CN.is_working_day(date.fromisoformat(day)) is working


SCHEDULE_2030 = YearSchedule(
    holidays=frozenset({date(2030, 10, 4), date(2030, 10, 7)}),
    workdays=frozenset({date(2030, 9, 29), date(2030, 10, 12)}),
)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2030-10-04", False),  # override holiday on a Friday
        ("2030-10-07", False),  # override holiday on a Monday
        ("2030-09-29", True),  # override working Sunday
        ("2030-10-12", True),  # override working Saturday
        ("2030-10-01", True),  # exactly the file: a library holiday it omits is a working day
        ("2030-10-13", False),  # plain Sunday
    ],
)
def test_override_year_is_exact(day: str, working: bool) -> None:
    cal = WorkCalendar("CN", overrides={2030: SCHEDULE_2030})
    assert cal.is_working_day(date.fromisoformat(day)) is working


def test_override_year_is_known() -> None:
    cal = WorkCalendar("CN", overrides={2030: SCHEDULE_2030})
    assert cal.is_provisional(2030) is False
    assert cal.is_provisional(2031) is True


def test_library_built_once_per_year() -> None:
    cal = WorkCalendar("CN")
    with mock.patch.object(
        calendar_module.holidays,
        "country_holidays",
        wraps=holidays.country_holidays,
    ) as built:
        for offset in range(60):
            cal.is_working_day(date(2026, 3, 1) + timedelta(days=offset))
        cal.is_provisional(2026)
    assert built.call_count == 1


def _write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "schedule.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


def test_load_schedule_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "years": {
                "2027": {
                    "holidays": ["2027-01-01", "2027-02-08"],
                    "workdays": ["2027-02-06"],
                }
            }
        },
    )
    schedules = load_schedule_file(path)
    assert schedules == {
        2027: YearSchedule(
            holidays=frozenset({date(2027, 1, 1), date(2027, 2, 8)}),
            workdays=frozenset({date(2027, 2, 6)}),
        )
    }
    cal = WorkCalendar("CN", overrides=schedules)
    assert cal.is_provisional(2027) is False
    assert cal.is_working_day(date(2027, 2, 6)) is True  # Saturday made a working day
    assert cal.is_working_day(date(2027, 2, 8)) is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read"),
        ({"2027": {}}, "years"),
        ({"years": []}, "years"),
        ({"years": {"27": {}}}, "year"),
        ({"years": {"2027": []}}, "object"),
        ({"years": {"2027": {"holidays": "2027-01-01"}}}, "list"),
        ({"years": {"2027": {"holidays": ["2027-02-30"]}}}, "not a YYYY-MM-DD date"),
        ({"years": {"2027": {"holidays": [20270101]}}}, "not a YYYY-MM-DD date"),
        ({"years": {"2027": {"workdays": ["2028-01-02"]}}}, "not in 2027"),
        (
            {"years": {"2027": {"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}}},
            "both a holiday and a workday",
        ),
        ({"years": {"2027": {"holiday": ["2027-01-01"]}}}, "unknown keys"),
    ],
)
def test_malformed_schedule_file(tmp_path: Path, content: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_schedule_file(_write(tmp_path, content))


def test_missing_schedule_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_schedule_file(tmp_path / "absent.json")
