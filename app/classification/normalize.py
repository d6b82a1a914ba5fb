"""Text normalisation before classification: width, case, Traditional → Simplified.

Both layers of the classifier read the normalised text. `source_span` maps a span of it back to
the caller's original text, so evidence is shown in the words the customer used.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, partial

_SPACES = re.compile(r"\s+")
_NFKC = partial(unicodedata.normalize, "NFKC")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, single spaces, Traditional → Simplified."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", text).lower()).strip()
    return _t2s().convert(text)


def _offsets(text: str) -> tuple[str, list[int]] | None:
    """Normalise while remembering where each output character came from. None when that is
    not character for character (compositions, expansions, phrase conversions)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        return None
    if not unicodedata.is_normalized("NFKC", text):
        # Equal lengths can still hide a composition and an expansion: check char by char.
        if "".join(map(_NFKC, text)).lower() != folded:
            return None
    chars: list[str] = []
    origin: list[int] = []
    position = 0
    for space in _SPACES.finditer(folded):
        if space.start() > position:
            chars.append(folded[position : space.start()])
            origin.extend(range(position, space.start()))
            chars.append(" ")
            origin.append(space.start())
        position = space.end()
    chars.append(folded[position:])
    origin.extend(range(position, len(folded)))
    joined = "".join(chars)
    if joined.endswith(" "):
        joined = joined[:-1]
        origin.pop()
    converted = _t2s().convert(joined)
    if len(converted) != len(joined):
        return None
    return converted, origin


def source_offsets(text: str, normalized: str) -> list[int] | None:
    """For each character of `normalized` (= `normalize(text)`), its index in `text`; None when
    the normalisation is not character for character (then show the normalised form)."""
    mapped = _offsets(text)
    if mapped is None or mapped[0] != normalized:
        return None
    return mapped[1]


def normalize_mapped(text: str) -> tuple[str, list[int] | None]:
    """`normalize(text)` and its `source_offsets`, sharing the work when they can."""
    mapped = _offsets(text)
    if mapped is not None:
        return mapped
    return normalize(text), None


def guess_language(text: str) -> str:
    """`zh-Hant`, `zh-Hans` or `en`: Chinese when Han characters outnumber Latin letters, and
    Traditional when converting to Simplified changes it."""
    han = sum(1 for char in text if "\u4e00" <= char <= "\u9fff")
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    if han == 0 or han * 2 < latin:
        return "en"
    return "zh-Hant" if _t2s().convert(text) != text else "zh-Hans"
