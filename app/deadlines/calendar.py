"""Working days of a jurisdiction, from the `holidays` package plus operator-loaded schedules."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays


@dataclass(frozen=True)
class YearSchedule:
    """An announced year: its holidays and its adjusted working days (調休)."""

    holidays: frozenset[date]
    workdays: frozenset[date]


def _last_official_year(country: str) -> int | None:
    """The last year whose official schedule the library knows; None if rule-based."""
    if country != "CN":
        return None
    # Mainland China's schedule is announced each year; the library lists each announced year's
    # adjustments in `special_public_holidays`.
    from holidays.countries.china import ChinaStaticHolidays

    return max(ChinaStaticHolidays.special_public_holidays)


class WorkCalendar:
    """Whether a local date is a working day, including adjusted working weekends."""

    def __init__(
        self,
        country: str,
        subdiv: str | None = None,
        overrides: Mapping[int, YearSchedule] | None = None,
    ) -> None:
        self.country = country
        self.subdiv = subdiv
        self.overrides = dict(overrides or {})
        self.last_official_year = _last_official_year(country)
        self._years: dict[int, tuple[frozenset[date], frozenset[date], bool]] = {}

    def _year(self, year: int) -> tuple[frozenset[date], frozenset[date], bool]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        if year in self.overrides:
            schedule = self.overrides[year]
            result = (schedule.holidays, schedule.workdays, False)
        else:
            calendar: Any = holidays.country_holidays(self.country, subdiv=self.subdiv, years=year)
            days = frozenset(calendar.keys())
            provisional = self.last_official_year is not None and year > self.last_official_year
            # An unannounced year has no adjusted working weekends yet: weekends and holidays only.
            workdays = (
                frozenset()
                if provisional
                else frozenset(
                    d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year
                )
            )
            result = (days, workdays, provisional)
        self._years[year] = result
        return result

    def is_working_day(self, day: date) -> bool:
        """True on a working day: a weekday that is no holiday, or an adjusted working day."""
        off, workdays, _ = self._year(day.year)
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in off

    def is_provisional(self, year: int) -> bool:
        """True when the year's official schedule is not known yet."""
        return self._year(year)[2]

    def next_working_day_on_or_after(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def _parse_dates(values: Any, year: int, what: str) -> frozenset[date]:
    if not isinstance(values, list):
        raise ValueError(f"years.{year}.{what} must be a list of YYYY-MM-DD dates")
    result = set()
    for value in values:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError(f"years.{year}.{what}: {value!r} is not a YYYY-MM-DD date") from None
        if day.year != year:
            raise ValueError(f"years.{year}.{what}: {value} is not in {year}")
        result.add(day)
    return frozenset(result)


def load_schedule_file(path: str | Path) -> dict[int, YearSchedule]:
    """Read announced schedules: {"years": {"2027": {"holidays": [...], "workdays": [...]}}}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read holiday schedule {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise ValueError('a holiday schedule is {"years": {"YYYY": {...}}}')
    result: dict[int, YearSchedule] = {}
    for key, entry in data["years"].items():
        if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
            raise ValueError(f"{key!r} is not a year")
        year = int(key)
        if not isinstance(entry, dict):
            raise ValueError(f"years.{year} must be an object with holidays and workdays")
        off = _parse_dates(entry.get("holidays", []), year, "holidays")
        work = _parse_dates(entry.get("workdays", []), year, "workdays")
        both = off & work
        if both:
            raise ValueError(f"years.{year}: {sorted(both)[0]} is both a holiday and a workday")
        result[year] = YearSchedule(holidays=off, workdays=work)
    return result
