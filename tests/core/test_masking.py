"""Masking of personal data, in fields and in free text."""

from __future__ import annotations

import logging

import pytest

from app.core.masking import (
    MaskingFilter,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_plate,
    mask_text,
)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("02088889999", "020****9999"),
        ("12345", "*****"),
    ],
)
def test_mask_phone(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("張三明", "張*明"),
        ("李四", "李*"),
        ("歐陽小明", "歐**明"),
        ("John Smith", "J*** S****"),
        ("王", "*"),
    ],
)
def test_mask_name(raw: str, masked: str) -> None:
    assert mask_name(raw) == masked


def test_mask_id_number() -> None:
    assert mask_id_number("44030119900101123X") == "440***********123X"


@pytest.mark.parametrize(("raw", "masked"), [("粵B·12345", "粵B·***45"), ("京A88888", "京A***88")])
def test_mask_plate(raw: str, masked: str) -> None:
    assert mask_plate(raw) == masked


def test_mask_text_hides_phones_and_ids_in_prose() -> None:
    text = "客户13812345678来电，身份证44030119900101123X，金额3800元"
    masked = mask_text(text)
    assert "13812345678" not in masked and "44030119900101123X" not in masked
    assert "138****5678" in masked and "3800元" in masked


def test_log_filter_masks_message_and_args() -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "call %s now", ("13812345678",), None
    )
    MaskingFilter().filter(record)
    assert "13812345678" not in record.getMessage()
