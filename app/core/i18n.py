"""Accept-Language → one of the three supported languages."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh-Hans", "zh-Hant", "en"]
SUPPORTED: tuple[Lang, ...] = ("zh-Hans", "zh-Hant", "en")

_ALIASES: dict[str, Lang] = {
    "zh-hans": "zh-Hans",
    "zh-cn": "zh-Hans",
    "zh-sg": "zh-Hans",
    "zh": "zh-Hans",
    "zh-hant": "zh-Hant",
    "zh-tw": "zh-Hant",
    "zh-hk": "zh-Hant",
    "zh-mo": "zh-Hant",
    "en": "en",
}


def negotiate(header: str | None, default: Lang) -> Lang:
    """Pick the best supported language from an Accept-Language header (q-values honoured)."""
    if not header:
        return default
    choices: list[tuple[float, int, Lang]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        tag = tag.strip().lower()
        lang = _ALIASES.get(tag)
        if lang is None:
            # zh-Hant-TW, en-GB …: fall back through the primary subtags.
            pieces = tag.split("-")
            for size in range(len(pieces) - 1, 0, -1):
                lang = _ALIASES.get("-".join(pieces[:size]))
                if lang:
                    break
        if lang and quality > 0:
            choices.append((-quality, index, lang))
    return min(choices)[2] if choices else default
