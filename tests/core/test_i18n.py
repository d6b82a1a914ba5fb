"""Accept-Language negotiation."""

from __future__ import annotations

import pytest

from app.core.i18n import negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-Hans"),
        ("", "zh-Hans"),
        ("en", "en"),
        ("en-GB,en;q=0.8", "en"),
        ("zh-TW", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("fr, en;q=0.5", "en"),
        ("fr", "zh-Hans"),
        ("en;q=0.2, zh-Hant;q=0.9", "zh-Hant"),
        ("en;q=bogus, zh-Hant", "zh-Hant"),
    ],
)
def test_negotiate(header: str | None, expected: str) -> None:
    assert negotiate(header, "zh-Hans") == expected
