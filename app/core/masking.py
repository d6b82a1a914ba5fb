"""Personal-data masking: phone numbers, ID numbers, names, and the same inside free text."""

from __future__ import annotations

import logging
import re

_PHONE_RE = re.compile(r"(?<!\d)(\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?!\d)")
# Mainland resident ID (18 chars, last may be X) and 15-digit legacy IDs.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8}|\d{6})(\d{3}[0-9Xx]|\d{1})(?![0-9A-Za-z])")


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last four digits: 13812345678 → 138****5678."""
    if phone is None:
        return None
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        local = digits[-11:]
        return f"{local[:3]}****{local[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:2]}{'*' * (len(digits) - 4)}{digits[-2:]}"
    return "*" * len(digits) if digits else "****"


def mask_id_number(value: str | None) -> str | None:
    """Keep the first three and last four characters of an ID number."""
    if value is None:
        return None
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(name: str | None) -> str | None:
    """Mask a personal name: 張三明 → 張*明, 李四 → 李*, John Smith → J*** S****."""
    if name is None:
        return None
    name = name.strip()
    if not name:
        return name
    if name.isascii():
        return " ".join(w[0] + "*" * (len(w) - 1) if len(w) > 1 else w for w in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_text(text: str) -> str:
    """Mask phone and ID numbers wherever they appear in free text (logs, notes)."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)) or "", text)
    return _PHONE_RE.sub(lambda m: f"{m.group(2)}****{m.group(4)}", text)


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in every message and its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(mask_text(a) if isinstance(a, str) else a for a in args)
        return True


def mask_plate(plate: str | None) -> str | None:
    """Keep the region prefix and the last two characters: 粵B·12345 → 粵B·***45."""
    if plate is None:
        return None
    plate = plate.strip()
    if len(plate) <= 4:
        return plate[:1] + "*" * (len(plate) - 1)
    head = 3 if len(plate) > 3 and not plate[2].isalnum() else 2
    return plate[:head] + "*" * (len(plate) - head - 2) + plate[-2:]
