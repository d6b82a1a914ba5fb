"""UTCDateTime: every value read back is timezone-aware UTC, whatever text SQLite holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import DateTime
from sqlalchemy.dialects.postgresql import dialect as pg_dialect
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect

from app.core.db import UTCDateTime

INSTANT = datetime(2026, 6, 1, 4, 34, 56, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-06-01 04:34:56.123456", INSTANT),  # as SQLAlchemy writes it
        ("2026-06-01 04:34:56", INSTANT.replace(microsecond=0)),
        ("2026-06-01T04:34:56.123456", INSTANT),
        ("2026-06-01T12:34:56.123456+08:00", INSTANT),  # written with an offset by hand
        ("2026-06-01T04:34:56.123456Z", INSTANT),
        ("2026-06-01", datetime(2026, 6, 1, tzinfo=UTC)),
        (None, None),
    ],
)
def test_sqlite_text_reads_back_as_aware_utc(stored: str | None, expected: datetime) -> None:
    dialect = sqlite_dialect()
    process = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    value = process(stored)
    assert value == expected
    if value is not None:
        assert value.utcoffset() == timedelta(0)


def test_a_round_trip_through_sqlite_keeps_the_instant() -> None:
    dialect = sqlite_dialect()
    column = UTCDateTime().dialect_impl(dialect)  # as a statement compiles it
    bind = column.bind_processor(dialect)
    result = column.result_processor(dialect, None)
    local = INSTANT.astimezone(timezone(timedelta(hours=8)))
    stored = bind(local)
    assert isinstance(stored, str)
    assert result(stored) == INSTANT


def test_naive_values_are_refused() -> None:
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 6, 1), pg_dialect())


@pytest.mark.parametrize(
    "value",
    [
        INSTANT,
        INSTANT.replace(microsecond=0),  # isoformat would drop zero microseconds without timespec
        INSTANT.replace(microsecond=7),
        INSTANT.astimezone(timezone(timedelta(hours=8))),
        INSTANT.astimezone(timezone(timedelta(hours=-3, minutes=-30))),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ],
)
def test_sqlite_bind_writes_the_dialects_own_text(value: datetime | None) -> None:
    """The one-call bind writes exactly what SQLAlchemy's SQLite DATETIME writes, so stored
    text compares and sorts as before (ranges, keyset cursors, old rows)."""
    dialect = sqlite_dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    reference = DateTime().dialect_impl(dialect).bind_processor(dialect)
    expected = None if value is None else reference(value.astimezone(UTC).replace(tzinfo=None))
    assert bind(value) == expected


def test_sqlite_bind_refuses_naive_values() -> None:
    dialect = sqlite_dialect()
    bind = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    with pytest.raises(ValueError):
        bind(datetime(2026, 6, 1))
