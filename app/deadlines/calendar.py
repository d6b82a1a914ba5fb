"""Working days of a jurisdiction, from the `holidays` package plus operator-loaded schedules."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays


@dataclass(frozen=True)
class YearSchedule:
    """An announced year: its days off and its adjusted working days (調休)."""

    holidays: frozenset[date]
    workdays: frozenset[date]


@dataclass(frozen=True)
class _YearData:
    off: frozenset[date]
    workdays: frozenset[date]
    provisional: bool


def _last_official_year(country: str) -> int | None:
    """The last year whose official CN schedule the library knows; None if rule-based."""
    if country.upper() not in ("CN", "CHN"):
        return None
    # Each announced year's adjustments are listed in `special_public_holidays`; the newest key is
    # the last announced year. The attribute lives on the static-holidays class in holidays 0.109,
    # so look there when the country class does not expose it.
    specials = getattr(holidays.China, "special_public_holidays", None)
    if not specials:
        from holidays.countries.china import ChinaStaticHolidays

        specials = ChinaStaticHolidays.special_public_holidays
    return max(specials)


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
        self.overrides: dict[int, YearSchedule] = dict(overrides or {})
        self.last_official_year = _last_official_year(country)
        self._years: dict[int, _YearData] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"WorkCalendar({self.country!r}, subdiv={self.subdiv!r}, "
            f"override_years={sorted(self.overrides)})"
        )

    def _year(self, year: int) -> _YearData:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                cached = self._build_year(year)
                self._years[year] = cached
        return cached

    def _build_year(self, year: int) -> _YearData:
        if year in self.overrides:
            schedule = self.overrides[year]
            return _YearData(schedule.holidays, schedule.workdays, provisional=False)
        provisional = self.last_official_year is not None and year > self.last_official_year
        if provisional:
            # An unannounced year: statutory days only. The library's estimated in-lieu days are
            # left out (observed=False) so a provisional deadline errs early rather than late.
            lib: Any = holidays.country_holidays(
                self.country, subdiv=self.subdiv, years=year, observed=False
            )
            return _YearData(frozenset(lib.keys()), frozenset(), provisional=True)
        lib = holidays.country_holidays(self.country, subdiv=self.subdiv, years=year)
        # `weekend_workdays` can hold dates of other years (the library keeps some historic ones
        # on every instance); keep only this year's.
        workdays = frozenset(d for d in getattr(lib, "weekend_workdays", ()) if d.year == year)
        return _YearData(frozenset(lib.keys()), workdays, provisional=False)

    def is_working_day(self, d: date) -> bool:
        """True on a working day: a weekday that is no holiday, or an adjusted working day."""
        data = self._year(d.year)
        if d in data.workdays:
            return True
        return d.weekday() < 5 and d not in data.off

    def is_provisional(self, year: int) -> bool:
        """True when the year's official schedule is not known yet (weekends + statutory days)."""
        return self._year(year).provisional

    def next_working_day_on_or_after(self, d: date) -> date:
        """The first working day on or after `d`."""
        # Guard against a malformed override that declares a whole year off.
        for _ in range(800):
            if self.is_working_day(d):
                return d
            d += timedelta(days=1)
        raise ValueError(f"no working day within 800 days after {d}")


def _parse_dates(values: Any, year: int, what: str) -> frozenset[date]:
    if not isinstance(values, list):
        raise ValueError(f"years.{year}.{what} must be a list of YYYY-MM-DD dates")
    result: set[date] = set()
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"years.{year}.{what}: {value!r} is not a YYYY-MM-DD date")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"years.{year}.{what}: {value!r} is not a YYYY-MM-DD date") from None
        if day.year != year:
            raise ValueError(f"years.{year}.{what}: {value} is not in {year}")
        result.add(day)
    return frozenset(result)


def load_schedule_file(path: str | Path) -> dict[int, YearSchedule]:
    """Read announced schedules: {"years": {"2027": {"holidays": [...], "workdays": [...]}}}."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read holiday schedule {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("years"), dict):
        raise ValueError(f'holiday schedule {path}: expected {{"years": {{"YYYY": {{...}}}}}}')
    result: dict[int, YearSchedule] = {}
    for key, entry in data["years"].items():
        if not (isinstance(key, str) and len(key) == 4 and key.isdigit()):
            raise ValueError(f"holiday schedule {path}: {key!r} is not a four-digit year")
        year = int(key)
        if not isinstance(entry, dict):
            raise ValueError(f"holiday schedule {path}: years.{year} must be an object")
        unknown = set(entry) - {"holidays", "workdays"}
        if unknown:
            raise ValueError(
                f"holiday schedule {path}: years.{year} has unknown keys {sorted(unknown)}"
            )
        try:
            off = _parse_dates(entry.get("holidays", []), year, "holidays")
            work = _parse_dates(entry.get("workdays", []), year, "workdays")
        except ValueError as exc:
            raise ValueError(f"holiday schedule {path}: {exc}") from None
        both = off & work
        if both:
            raise ValueError(
                f"holiday schedule {path}: years.{year}: {min(both)} is both a holiday "
                "and a workday"
            )
        result[year] = YearSchedule(holidays=off, workdays=work)
    return result
