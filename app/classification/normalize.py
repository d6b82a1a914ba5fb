"""Text normalisation before classification: width, case, Traditional → Simplified."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, Traditional → Simplified, single spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _t2s().convert(text)
    return _SPACES.sub(" ", text).strip()
