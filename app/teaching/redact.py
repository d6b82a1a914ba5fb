"""Redaction of personal data in free complaint text, for anonymised teaching cases.

Texts are Simplified Chinese, Traditional Chinese or English, often run-on phone transcripts
with full-width digits and punctuation. Matching runs on a width-folded copy of the text that
has exactly one character per original character (each character NFKC-folded on its own, kept
as it is when it would fold to several), so every span found maps straight back to the
original, and everything outside the replaced spans is returned untouched.

Order of work:

1. tokens already in the text (``[phone]`` …) are left alone, so redacting twice is a no-op;
2. values the caller knows belong to the case (``known``) are replaced wherever they appear;
3. pattern candidates of every kind are collected and accepted longest first (ties: the more
   specific kind first), skipping any that overlap what is already taken — so an ID number is
   never half-eaten by a phone pattern, nor a claim number by a plate pattern.

Pure module: standard library only.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

TOKENS = {
    "name": "[name]",
    "phone": "[phone]",
    "id": "[id]",
    "plate": "[plate]",
    "number": "[number]",
    "email": "[email]",
}

Span = tuple[int, int, str]

_TOKEN_RE = re.compile(r"\[(?:" + "|".join(TOKENS) + r")\]")

# ── width folding ────────────────────────────────────────────────────────────────────────────


def _fold(text: str) -> str:
    """Full-width → half-width, one output character per input character."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    out = []
    for ch in text:
        folded = unicodedata.normalize("NFKC", ch)
        out.append(folded if len(folded) == 1 else ch)
    return "".join(out)


# ── building blocks ──────────────────────────────────────────────────────────────────────────

_B = r"(?<![0-9A-Za-z])"  # no ASCII letter or digit before
_E = r"(?![0-9A-Za-z])"  # … nor after
_S = r"[ \t\-‐‑–]"  # one separator inside a number (never a line break)

# Separators ignored inside known values: spaces, hyphens, dots, slashes, brackets, plate dots.
_KNOWN_SEPS = " \t\u3000-‐‑–·•・._/()"
_KNOWN_GAP = r"[ \t\u3000\-‐‑–·•・._/()]*"


@dataclass(frozen=True)
class _Rule:
    """A pattern for one kind. `group` is the part to replace; `accept` vets a match."""

    kind: str
    pattern: re.Pattern[str]
    group: int | str = 0
    accept: Callable[[re.Match[str]], bool] | None = None

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        for m in self.pattern.finditer(text):
            if self.accept is None or self.accept(m):
                start, end = m.span(self.group)
                if end > start:
                    yield start, end


# ── emails ───────────────────────────────────────────────────────────────────────────────────

_EMAIL = _Rule(
    "email",
    re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    ),
)

# ── ID numbers ───────────────────────────────────────────────────────────────────────────────

_IDS = [
    # Mainland resident ID, 18 characters, optionally grouped 6-8-4.
    _Rule("id", re.compile(_B + rf"[0-9]{{6}}{_S}?[0-9]{{8}}{_S}?[0-9]{{3}}[0-9Xx]" + _E)),
    # Masked mainland ID: 440301********1234.
    _Rule("id", re.compile(_B + r"[0-9]{3,6}\*{6,11}[0-9]{3}[0-9Xx]" + _E)),
    # Taiwan ID: A123456789.
    _Rule("id", re.compile(_B + r"[A-Za-z][12][0-9]{8}" + _E)),
    # Hong Kong ID: A123456(7), AB987654(3), A1234567.
    _Rule("id", re.compile(_B + r"[A-Z]{1,2}[0-9]{6}(?:\([0-9A]\)|[0-9A]" + _E + ")")),
    # UK National Insurance number: AB123456C, AB 12 34 56 C.
    _Rule(
        "id",
        re.compile(
            _B + r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]" + _E
        ),
    ),
    # Mainland old 15-digit ID.
    _Rule("id", re.compile(_B + r"[0-9]{15}" + _E)),
]

# ── phone numbers ────────────────────────────────────────────────────────────────────────────

_CN = r"(?:\(?(?:\+|00)?86\)?" + _S + "?)?"


def _uk_national_ok(m: re.Match[str]) -> bool:
    return len(re.sub(r"\D", "", m.group("nat"))) in (9, 10)


_PHONES = [
    # Masked: 138****5678, 020****9999, +86 138-****-5678.
    _Rule("phone", re.compile(_B + _CN + rf"[0-9]{{3,4}}{_S}?[*xX]{{4}}{_S}?[0-9]{{4}}" + _E)),
    # Mainland mobile: 13812345678, 138 1234 5678, 1381-234-5678, +86 138-1234-5678.
    _Rule(
        "phone",
        re.compile(
            _B
            + _CN
            + rf"1[3-9][0-9](?:{_S}?[0-9]{{4}}{_S}?[0-9]{{4}}|[0-9]{_S}?[0-9]{{3}}{_S}?[0-9]{{4}})"
            + _E
        ),
    ),
    # Mainland landline: 010-12345678, 0755 8888 6666, (020)88889999.
    _Rule(
        "phone",
        re.compile(
            _B + _CN + rf"(?:\(0[0-9]{{2,3}}\)|0[0-9]{{2,3}}){_S}?[0-9]{{3,4}}{_S}?[0-9]{{4}}" + _E
        ),
    ),
    # Taiwan mobile: 0912-345-678, +886 912 345 678.
    _Rule(
        "phone",
        re.compile(_B + rf"(?:(?:\+|00)886{_S}?9|09)[0-9]{{2}}{_S}?[0-9]{{3}}{_S}?[0-9]{{3}}" + _E),
    ),
    # Taiwan landline: 02-2345-6789, (02)2345-6789, +886 2 2345 6789.
    _Rule(
        "phone",
        re.compile(
            _B
            + rf"(?:(?:\+|00)886{_S}?[2-8]|\(0[2-8]\)|0[2-8]){_S}?[0-9]{{3,4}}{_S}?[0-9]{{4}}"
            + _E
        ),
    ),
    # Hong Kong: 91234567, 9123 4567, +852 9123 4567.
    _Rule("phone", re.compile(_B + rf"(?:\+?852{_S}?)?[5689][0-9]{{3}}{_S}?[0-9]{{4}}" + _E)),
    # UK mobiles and landlines: 07700 900123, +44 7700 900123, 020 7946 0958, 01632 960123.
    _Rule(
        "phone",
        re.compile(
            _B
            + rf"(?:(?:\+|00)44{_S}?(?:\(0\){_S}?)?|0)"
            + rf"(?P<nat>7[0-9]{{3}}{_S}?[0-9]{{3}}{_S}?[0-9]{{3}}"
            + rf"|[12][0-9]{{1,4}}{_S}?[0-9]{{3,4}}{_S}?[0-9]{{3,4}})"
            + _E
        ),
        accept=_uk_national_ok,
    ),
]

# ── licence plates ───────────────────────────────────────────────────────────────────────────

_PROVINCES = (
    "京津沪滬渝冀豫云雲辽遼黑湘皖鲁魯新苏蘇浙赣贛鄂桂甘晋晉蒙陕陝吉闽閩贵貴粤粵青藏川宁寧琼瓊"
)


def _has_digit_in_tail(m: re.Match[str]) -> bool:
    return any(c.isdigit() or c == "*" for c in m.group("tail"))


_PLATES = [
    # Mainland: 粤B·12345, 京A12345, 沪C·8K321, 粵B 3K9X7, new-energy 粤B·D12345; masked 粵B·***45.
    _Rule(
        "plate",
        re.compile(f"[{_PROVINCES}][A-Za-z][·•・. \\-]?(?P<tail>[A-Za-z0-9*]{{5,6}})" + _E),
        accept=_has_digit_in_tail,
    ),
    # UK: AB12 CDE, AB12CDE.
    _Rule("plate", re.compile(_B + r"[A-Z]{2}[0-9]{2} ?[A-Z]{3}" + _E)),
    # Hong Kong, only right after a plate keyword: 車牌 AB 1234, plate: XY 88.
    _Rule(
        "plate",
        re.compile(
            r"(?:(?<![A-Za-z])(?i:plates?|reg(?:istration)?)(?:\s+(?i:no\.?|number))?|車牌|车牌)"
            r"(?:號碼|号码|號|号)?"
            r"(?:\s*(?:[:：#]|(?i:is|was)(?![A-Za-z])|是|係|為|为))*\s*"
            r"(?P<p>[A-Z]{1,2} ?[0-9]{1,4})" + _E
        ),
        group="p",
    ),
    # Taiwan: ABC-1234, AB-1234, 1234-AB, 123-ABC.
    _Rule(
        "plate",
        re.compile(
            r"(?<![0-9A-Za-z\-])(?!(?:ISO|GB|EN|BS|DIN|IEC)-)"  # standards, not plates
            r"(?:[A-Z]{2,3}-[0-9]{4}|[0-9]{4}-[A-Z]{2}|[0-9]{3}-[A-Z]{3})"
            r"(?![0-9A-Za-z]|-[0-9A-Za-z])"
        ),
    ),
]

# ── names with a title ───────────────────────────────────────────────────────────────────────

_SURNAMES = frozenset(
    "王李张張刘劉陈陳杨楊黄黃赵趙吴吳周徐孙孫马馬朱胡郭何高林罗羅郑鄭梁谢謝宋唐许許韩韓冯馮"
    "邓鄧曹彭曾肖田董袁潘于蒋蔣蔡余杜叶葉程苏蘇魏吕呂丁任沈姚卢盧姜崔钟鍾鐘谭譚陆陸汪范金石"
    "廖贾賈夏韦韋付傅方白邹鄒孟熊秦邱江尹薛闫閆段雷侯龙龍史陶黎贺賀顾顧毛郝龚龔邵万萬钱錢"
    "严嚴覃武戴莫孔向汤湯赖賴洪庄莊萧蕭蕭简簡游詹施颜顏柯翁温溫麦麥伍岑冼邝鄺甄欧歐关關"
)
_COMPOUND_SURNAMES = frozenset(
    "欧阳 歐陽 司马 司馬 诸葛 諸葛 上官 东方 東方 皇甫 令狐 慕容 夏侯 尉迟 尉遲 公孙 公孫 "
    "长孙 長孫 宇文 司徒 西门 西門".split()
)
# Surnames that are also everyday words and often sit right before another surname + title
# (向王经理反映, 江西王先生): a shorter reading without them is preferred.
_WEAK_SURNAMES = frozenset("向于於付万萬方马馬高白金石钱錢余叶葉江武龙龍毛田史夏任程关關欧歐")
# Characters that are never part of a given name (particles, pronouns, classifiers, verbs).
_NOT_GIVEN = frozenset(
    "的了是在和与與跟给給向找问問说說叫被把对對位个個这這那我你他她它们們也都就还還又及或总總副"
)
_CN_TITLE_RE = re.compile(
    "总经理|總經理|副经理|副經理|副主任|先生|女士|小姐|太太|经理|經理|师傅|師傅|主任|专员|專員|姐|哥"
)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _is_cn_name(seg: str) -> bool:
    """A surname (single or compound) followed by at most two given-name characters."""
    if not all(_is_cjk(c) for c in seg):
        return False
    for surname in (seg[:2], seg[:1]):
        if surname in _SURNAMES or surname in _COMPOUND_SURNAMES:
            given = seg[len(surname) :]
            if len(given) <= 2 and not any(c in _NOT_GIVEN for c in given):
                return True
    return False


def _cn_name_spans(text: str) -> Iterator[tuple[int, int]]:
    """Chinese surname (+ given name) before a title: the name only, the title stays."""
    for m in _CN_TITLE_RE.finditer(text):
        end = m.start()
        valid = [k for k in range(1, 5) if end - k >= 0 and _is_cn_name(text[end - k : end])]
        if not valid:
            continue
        strong = [k for k in valid if text[end - k] not in _WEAK_SURNAMES]
        k = max(strong) if strong else min(valid)
        yield end - k, end


_EN_NAME_WORD = r"[A-Z][A-Za-z'’\-]+"
_EN_NAME_RE = re.compile(
    r"(?<![A-Za-z])(?:Mrs|Mr|Ms|Miss|Mx|Dr|MRS|MR|MISS)(?:\.\s*|\s+)"
    rf"(?P<name>(?:[A-Z]\.?\s+)?(?P<first>{_EN_NAME_WORD})(?:\s+(?P<second>{_EN_NAME_WORD}))?)"
)
# Capitalised words that can follow a surname in a transcript and are not part of the name.
_EN_NOT_NAME = frozenset(
    """a an and as at but by for from had has he her his i if in is it of on or our said says
    she so that the their then they this to told was we were what when who will with would
    yes no ok okay please thanks called asked rang phoned emailed wrote replied""".split()
)


def _en_name_spans(text: str) -> Iterator[tuple[int, int]]:
    """Mr/Mrs/Ms/Miss/Dr + (first name) surname: the name only, the title stays."""
    for m in _EN_NAME_RE.finditer(text):
        if m.group("first").lower() in _EN_NOT_NAME:
            continue
        second = m.group("second")
        end = m.end("first") if second and second.lower() in _EN_NOT_NAME else m.end("name")
        yield m.start("name"), end


# ── claim, policy, report, reference numbers ─────────────────────────────────────────────────

_REF_RE = re.compile(_B + r"[A-Za-z0-9]+(?:[\-_/][A-Za-z0-9]+)*" + _E)
_UNIT_SEGMENT = re.compile(r"[0-9]+(?:am|pm|st|nd|rd|th|km|kg|cm|mm|ml|h|hr|hrs|min|s|x)?", re.I)
_ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{1,2}", re.I)
_LONG_DIGITS = re.compile(r"[0-9]{10,}")
_CARD_RE = re.compile(_B + rf"[0-9]{{4}}(?:{_S}[0-9]{{4}}){{3}}(?:{_S}?[0-9]{{1,4}})?" + _E)


def _is_reference(m: re.Match[str]) -> bool:
    token = m.group(0)
    chars = re.sub(r"[\-_/]", "", token)
    digits = sum(c.isdigit() for c in chars)
    letters = len(chars) - digits
    if letters == 0:
        # Bare digit runs: ≥ 10 in one piece, or ≥ 12 across separators (dates stay: ≤ 8).
        return bool(_LONG_DIGITS.search(token)) or digits >= 12
    if len(chars) < 8 or digits < 3:
        return False
    segments = re.split(r"[\-_/]", token)
    if all(_UNIT_SEGMENT.fullmatch(s) for s in segments):  # 10am-11am, 100km-200km
        return False
    return not _ISO_DATETIME.fullmatch(token)


_NUMBERS = [
    _Rule("number", _CARD_RE),  # bank cards written in groups of four
    _Rule("number", _REF_RE, accept=_is_reference),
]

# Pattern rules, most specific kind first (this order breaks ties between equally long matches).
_RULES: list[_Rule] = [_EMAIL, *_IDS, *_PHONES, *_PLATES, *_NUMBERS]

# ── known values ─────────────────────────────────────────────────────────────────────────────

_COUNTRY_CODES = (
    ("852", 11, ""),
    ("853", 11, ""),
    ("886", 12, "0"),
    ("86", 13, ""),
    ("44", 12, "0"),
)
_PHONE_PREFIX = r"(?:(?:\+|00)?(?:86|852|853|886|44)[ \t\-]*(?:\(0\)[ \t\-]*)?)?"


def _gapped(chars: str) -> str:
    return _KNOWN_GAP.join(re.escape(c) for c in chars)


def _known_pattern(kind: str, value: str) -> re.Pattern[str] | None:
    """A case-insensitive pattern for `value` that ignores separators, None if too short."""
    core = "".join(c for c in _fold(value) if c not in _KNOWN_SEPS and not c.isspace())
    if kind == "phone":
        digits = re.sub(r"\D", "", core)
        if digits.startswith("00"):
            digits = digits[2:]
        for code, length, national_prefix in _COUNTRY_CODES:
            if digits.startswith(code) and len(digits) == length:
                digits = national_prefix + digits[len(code) :]
                break
        if len(digits) < 5:
            return None
        body = ("0?" + _KNOWN_GAP + _gapped(digits[1:])) if digits[0] == "0" else _gapped(digits)
        return re.compile(_B + _PHONE_PREFIX + body + _E)
    if len(core) < 2:
        return None
    head = _B if core[0].isascii() and core[0].isalnum() else ""
    tail = _E if core[-1].isascii() and core[-1].isalnum() else ""
    return re.compile(head + _gapped(core) + tail, re.IGNORECASE)


def _known_patterns(
    known: Mapping[str, Iterable[str | None]] | None,
) -> list[tuple[str, re.Pattern[str]]]:
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for kind, values in (known or {}).items():
        if kind not in TOKENS:
            raise ValueError(f"unknown kind of personal data: {kind!r}")
        if values is None:
            continue
        if isinstance(values, str):  # a single value passed bare
            values = [values]
        for value in values:
            if value is None:
                continue
            pattern = _known_pattern(kind, str(value))
            if pattern is not None:
                patterns.append((kind, pattern))
    return patterns


# ── selection ────────────────────────────────────────────────────────────────────────────────


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    """Does [start, end) overlap a span of `taken` (sorted, pairwise disjoint)?"""
    i = bisect.bisect_left(taken, (start, start))
    if i < len(taken) and taken[i][0] < end:
        return True
    return i > 0 and taken[i - 1][1] > start


def _select(
    candidates: list[tuple[int, int, int, str]],
    taken: list[tuple[int, int]],
    found: list[Span],
) -> None:
    """Accept candidates (start, end, priority, kind) longest first, never overlapping."""
    for start, end, _priority, kind in sorted(candidates, key=lambda c: (c[0] - c[1], c[2], c[0])):
        if not _overlaps(start, end, taken):
            bisect.insort(taken, (start, end))
            found.append((start, end, kind))


def find_personal_data(
    text: str, known: Mapping[str, Iterable[str | None]] | None = None
) -> list[Span]:
    """(start, end, kind) of every piece of personal data in `text`, in order of position.

    Offsets index the original `text`. Tokens already present (``[phone]`` …) are not reported.
    See `redact` for `known`.
    """
    known_patterns = _known_patterns(known)
    if not text:
        return []
    folded = _fold(text)
    taken = [m.span() for m in _TOKEN_RE.finditer(folded)]
    found: list[Span] = []

    candidates = [
        (m.start(), m.end(), priority, kind)
        for priority, (kind, pattern) in enumerate(known_patterns)
        for m in pattern.finditer(folded)
        if m.end() > m.start()
    ]
    _select(candidates, taken, found)

    candidates = [
        (start, end, priority, rule.kind)
        for priority, rule in enumerate(_RULES)
        for start, end in rule.spans(folded)
    ]
    name_priority = len(_RULES)
    candidates += [(s, e, name_priority, "name") for s, e in _en_name_spans(folded)]
    candidates += [(s, e, name_priority + 1, "name") for s, e in _cn_name_spans(folded)]
    _select(candidates, taken, found)

    return sorted(found)


def redact(text: str, known: Mapping[str, Iterable[str | None]] | None = None) -> str:
    """Text with personal data replaced by tokens. `known` maps a kind ("name", "phone", "id",
    "plate", "number", "email") to values the caller knows belong to this case (the
    complainant's name and phone, the claim and policy numbers, the plate), which are replaced
    wherever they appear (also with spaces/separators varied, case-insensitive for Latin
    letters, and Traditional/Simplified variants of a Chinese name are the caller's job — just
    replace exact and separator-insensitive matches). None/empty values are ignored."""
    spans = find_personal_data(text, known)
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(TOKENS[kind])
        position = end
    parts.append(text[position:])
    return "".join(parts)
