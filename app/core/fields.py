"""Field types shared by request bodies."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# Ids are int4 columns: anything larger is no id of ours (404/422, never a database error).
MAX_ID = 2**31 - 1

_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


def refuse_timestamps(value: object) -> object:
    """Date-times are RFC 3339 strings; pydantic would also read 0, 1.5 or "1732406400" as
    seconds since 1970, which the OpenAPI schema (format: date-time) does not allow."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be an RFC 3339 date-time string, not a number")
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-11-24T09:30:00+08:00")
    return value


# The instants this service reasons about: claims, complaints and their deadlines. Outside
# this range local time has no fixed offset (Asia/Shanghai kept local mean time before 1901),
# holiday calendars have no data and deadline arithmetic would leave datetime's range.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def within_range(value: datetime) -> datetime:
    """The value; a ValueError (422) when it is not between 1970 and 2099."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise ValueError("must be between 1970-01-01 and 2099-12-31")
    return value


# Instants are kept and returned in UTC whatever offset they arrived with.
Instant = Annotated[
    AwareDatetime,
    BeforeValidator(refuse_timestamps),
    AfterValidator(within_range),
    AfterValidator(lambda v: v.astimezone(UTC)),
]
# A date-time in a query string (filters); a time without an offset is read as UTC.
DateTimeQuery = Annotated[
    datetime, BeforeValidator(refuse_timestamps), AfterValidator(within_range)
]

# C0 controls but tab, line feed and carriage return; DEL; C1 controls. PostgreSQL text cannot
# hold NUL at all, and the others garble logs, terminals, CSV exports and letters, so every
# text field refuses them on both databases alike instead of storing them.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
CONTROL_CHARACTERS_RULE = (
    "must not contain control characters (U+0000-U+001F, U+007F-U+009F) other than tab, "
    "line feed and carriage return"
)


def refuse_control_characters(value: str) -> str:
    """The value unchanged; a ValueError (422 naming the field) if it holds a control character."""
    found = CONTROL_CHARACTERS.search(value)
    if found:
        raise ValueError(f"{CONTROL_CHARACTERS_RULE}; found U+{ord(found.group()):04X}")
    return value


PlainText = AfterValidator(refuse_control_characters)
"""Put last in a text field's `Annotated[str, StringConstraints(...), PlainText]`: text is
stored and returned verbatim (SQL, HTML, any script or emoji alike) except for the control
characters above, which are refused with 422. It changes nothing in the OpenAPI schema."""
