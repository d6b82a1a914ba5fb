"""Redaction of personal data from complaint text for anonymised teaching cases."""

from __future__ import annotations

import re

import pytest

from app.teaching.redact import TOKENS, find_personal_data, redact

# ── each kind, in each language ──────────────────────────────────────────────────────────────

EMAILS = [
    ("请发到 zhang.san@example.com 谢谢", "请发到 [email] 谢谢"),
    ("邮箱wang_li2024@qq.com收不到", "邮箱[email]收不到"),
    ("電郵：chan.tai.man@gmail.com.hk", "電郵：[email]"),
    ("Please reply to jane.doe+claims@example.co.uk today.", "Please reply to [email] today."),
    ("email: J.SMITH@Example.ORG", "email: [email]"),
]


@pytest.mark.parametrize(("text", "expected"), EMAILS)
def test_emails(text: str, expected: str) -> None:
    assert redact(text) == expected


PHONES = [
    # Mainland mobiles, plain, grouped, with +86 / 86, masked.
    ("手机13812345678打不通", "手机[phone]打不通"),
    ("电话138 1234 5678", "电话[phone]"),
    ("电话是138-1234-5678谢谢", "电话是[phone]谢谢"),
    ("回拨+86 139 1234 5678", "回拨[phone]"),
    ("号码8615912345678", "号码[phone]"),
    ("(+86)18612345678", "[phone]"),
    ("尾号是138****5678的客户", "尾号是[phone]的客户"),
    # Mainland landlines.
    ("座机010-12345678", "座机[phone]"),
    ("打0755 8888 6666找", "打[phone]找"),
    ("(020)88889999", "[phone]"),
    ("固话020****9999", "固话[phone]"),
    # Taiwan.
    ("手機0912-345-678", "手機[phone]"),
    ("手機 0912345678 聯絡", "手機 [phone] 聯絡"),
    ("+886 912 345 678", "[phone]"),
    ("市話02-2345-6789", "市話[phone]"),
    # Hong Kong.
    ("電話9123 4567", "電話[phone]"),
    ("打 +852 6123 4567 搵我", "打 [phone] 搵我"),
    ("whatsapp 51234567 please", "whatsapp [phone] please"),
    # UK.
    ("Call me on 07700 900123 after five", "Call me on [phone] after five"),
    ("my mobile is +44 7700 900123.", "my mobile is [phone]."),
    ("office 020 7946 0958", "office [phone]"),
    ("landline 01632 960123", "landline [phone]"),
]


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_phones(text: str, expected: str) -> None:
    assert redact(text) == expected


IDS = [
    ("身份证440301199001011234", "身份证[id]"),
    ("身份证号11010519491231002X，", "身份证号[id]，"),
    ("证件 440301 19900101 123x", "证件 [id]"),
    ("老身份证130503670401001", "老身份证[id]"),
    ("证件号440301********1234", "证件号[id]"),
    ("身分證字號A123456789", "身分證字號[id]"),
    ("身分證A123456(7)", "身分證[id]"),
    ("HKID AB987654(3) 已核實", "HKID [id] 已核實"),
    ("NI number AB123456C", "NI number [id]"),
    ("National Insurance AB 12 34 56 C.", "National Insurance [id]."),
]


@pytest.mark.parametrize(("text", "expected"), IDS)
def test_id_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


PLATES = [
    ("车牌粤B·12345被追尾", "车牌[plate]被追尾"),
    ("京A12345在路口", "[plate]在路口"),
    ("沪C·8K321", "[plate]"),
    ("車牌粵B 3K9X7", "車牌[plate]"),
    ("新能源车粤B·D12345", "新能源车[plate]"),
    ("車牌 AB 1234 嘅車", "車牌 [plate] 嘅車"),
    ("車牌號碼係 XY 88", "車牌號碼係 [plate]"),
    ("車牌ABC-1234", "車牌[plate]"),
    ("機車 1234-AB 與 AB-1234 擦撞", "機車 [plate] 與 [plate] 擦撞"),
    ("reg AB12 CDE was hit", "reg [plate] was hit"),
    ("the other car AB12CDE drove off", "the other car [plate] drove off"),
    ("plate is HK 88", "plate is [plate]"),
]


@pytest.mark.parametrize(("text", "expected"), PLATES)
def test_plates(text: str, expected: str) -> None:
    assert redact(text) == expected


NUMBERS = [
    ("保单号PDAA202644010000123", "保单号[number]"),
    ("报案号 RB20240312008817 已受理", "报案号 [number] 已受理"),
    ("理賠編號CLM-2026-000123", "理賠編號[number]"),
    ("claim ref CLM-2026-000123, thanks", "claim ref [number], thanks"),
    ("policy no. ab12cd34ef", "policy no. [number]"),
    ("流水号2024031200881", "流水号[number]"),
    ("card 6222 0212 3456 7890 used", "card [number] used"),
    ("单号 2024-0312-008817", "单号 [number]"),
]


@pytest.mark.parametrize(("text", "expected"), NUMBERS)
def test_reference_numbers(text: str, expected: str) -> None:
    assert redact(text) == expected


NAMES = [
    ("王先生来电投诉", "[name]先生来电投诉"),
    ("保险公司的刘经理说", "保险公司的[name]经理说"),
    ("陈师傅说配件没到", "[name]师傅说配件没到"),
    ("张三明先生不同意", "[name]先生不同意"),
    ("这位张先生很着急", "这位[name]先生很着急"),
    ("向王经理反映过", "向[name]经理反映过"),
    ("找了理赔专员黄专员", "找了理赔专员[name]专员"),
    ("李小姐和赵女士", "[name]小姐和[name]女士"),
    ("张总经理没回复", "[name]总经理没回复"),
    ("欧阳娜娜女士", "[name]女士"),
    ("李經理話要等", "[name]經理話要等"),
    ("陳太太同鄭師傅", "[name]太太同[name]師傅"),
    ("周姐和马哥都在", "[name]姐和[name]哥都在"),
    ("I spoke to Mr John Smith yesterday", "I spoke to Mr [name] yesterday"),
    ("Mrs. Patel called", "Mrs. [name] called"),
    ("Dr O'Brien and Ms Wong", "Dr [name] and Ms [name]"),
    ("Miss Chan said no", "Miss [name] said no"),
    ("Mr J. Smith wrote", "Mr [name] wrote"),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_names_with_title(text: str, expected: str) -> None:
    assert redact(text) == expected


FULL_WIDTH = [
    ("电话：１３８１２３４５６７８。", "电话：[phone]。"),
    ("身份证４４０３０１１９９００１０１１２３４", "身份证[id]"),
    (
        "保单号ＰＤＡＡ２０２６４４０１００００１２３，赔款３８００元",
        "保单号[number]，赔款３８００元",
    ),
    ("車牌粵Ｂ・１２３４５", "車牌[plate]"),
    ("手機０９１２－３４５－６７８", "手機[phone]"),
    ("身分證Ａ１２３４５６（７）", "身分證[id]"),
]


@pytest.mark.parametrize(("text", "expected"), FULL_WIDTH)
def test_full_width(text: str, expected: str) -> None:
    assert redact(text) == expected


# ── whole transcripts ────────────────────────────────────────────────────────────────────────

TRANSCRIPTS = [
    (
        "喂你好我姓王 王先生 我的手机是138 1234 5678 身份证440301199001011234 "
        "车牌粤B·12345 上个月3月12日被追尾 定损3800元 保险公司说只赔80% 你们刘经理一直不回电话",
        ["13812345678", "440301199001011234", "粤B", "12345", "王先生", "刘经理"],
    ),
    (
        "我係陳太太 電話9123 4567 身分證A123456(7) 車牌 AB 1234 報案編號CLM-2026-000123 "
        "李經理話賠HK$12,000 但係修車要HK$18,500",
        ["91234567", "A1234567", "AB1234", "2026000123", "陳太", "李經"],
    ),
    (
        "Hi this is Mrs Sarah Jones calling about claim PDAA202644010000123 my number is "
        "07700 900123 NI AB 12 34 56 C the car reg AB12 CDE was hit on 12/03/2024 "
        "and Mr Brown from your team offered £4,200 which is 20% less",
        ["Sarah", "Jones", "07700900123", "AB123456C", "AB12CDE", "Brown", "2644010000123"],
    ),
]


def _squeezed(text: str) -> str:
    return re.sub(r"[\s\-·()]", "", text)


@pytest.mark.parametrize(("text", "secrets"), TRANSCRIPTS)
def test_transcript_keeps_nothing_personal(text: str, secrets: list[str]) -> None:
    out = redact(text)
    for secret in secrets:
        assert secret not in _squeezed(out), (secret, out)
    assert find_personal_data(out) == []


def test_simplified_transcript_exact() -> None:
    text = (
        "王先生 手机138 1234 5678 身份证440301199001011234 车牌粤B·12345 赔款3800元 2024年3月12日"
    )
    assert redact(text) == "[name]先生 手机[phone] 身份证[id] 车牌[plate] 赔款3800元 2024年3月12日"


def test_traditional_transcript_exact() -> None:
    text = "陳先生電話0912-345-678身分證A123456789車牌ABC-1234賠償NT$38,000"
    assert redact(text) == "[name]先生電話[phone]身分證[id]車牌[plate]賠償NT$38,000"


def test_english_transcript_exact() -> None:
    text = "Mr John Smith, 07700 900123, AB123456C, reg AB12CDE, paid £4,200 on 2026-11-24"
    assert redact(text) == "Mr [name], [phone], [id], reg [plate], paid £4,200 on 2026-11-24"


# ── known values ─────────────────────────────────────────────────────────────────────────────

KNOWN = [
    ("案件CLM-1已结案", {"number": ["CLM-1"]}, "案件[number]已结案"),
    ("ref clm 1 and CLM1", {"number": ["CLM-1"]}, "ref [number] and [number]"),
    ("CLM-12 is another case", {"number": ["CLM-1"]}, "CLM-12 is another case"),
    ("保单P-77已过期", {"number": ["P-77"]}, "保单[number]已过期"),
    ("张三明说他不接受", {"name": ["张三明"]}, "[name]说他不接受"),
    ("张 三 明 签字", {"name": ["张三明"]}, "[name] 签字"),
    (
        "john smith called; John Smith again",
        {"name": ["John Smith"]},
        "[name] called; [name] again",
    ),
    ("reach 5551234 anytime", {"phone": ["555-1234"]}, "reach [phone] anytime"),
    ("call +86 138 1234 5678", {"phone": ["13812345678"]}, "call [phone]"),
    ("plate 粤b 12345", {"plate": ["粤B·12345"]}, "plate [plate]"),
    ("李四来过", {"name": [None, "", "李四"], "phone": []}, "[name]来过"),
    ("陈先生", {"name": "陈"}, "[name]先生"),  # one character is too short to be known …
    ("保单K9X已撤", {"number": "K9X"}, "保单[number]已撤"),  # … a bare string is one value
]


@pytest.mark.parametrize(("text", "known", "expected"), KNOWN)
def test_known_values(text: str, known: dict, expected: str) -> None:
    assert redact(text, known) == expected


def test_known_values_win_over_patterns() -> None:
    text = "王先生的保单PDAA202644010000123"
    assert redact(text, {"name": ["王"], "number": ["PDAA202644010000123"]}) == (
        "[name]先生的保单[number]"
    )


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="address"):
        redact("x", {"address": ["1 High St"]})


def test_none_known_is_fine() -> None:
    assert redact("王先生", None) == redact("王先生", {}) == "[name]先生"


# ── what must survive ────────────────────────────────────────────────────────────────────────

UNCHANGED = [
    "赔款3800元",
    "保险公司只赔了3,800，差了20%",
    "2024年3月12日出险，2026-11-24结案",
    "賠償NT$38,000，HK$12,000已到帳",
    "paid £4,200 on 12/03/2024",
    "报案时间2024-03-12 10:30:00，共计12000元",
    "修理厂师傅说要等两周，理赔专员说先生的车要等配件",
    "一位女士 那位先生 他太太 大哥 大姐 老师傅",
    "新车买了3年 云南 苏州 京东 马上处理 高速路上",
    "The insurer refused; my 2019 Ford Focus did 45,000 miles in 3 weeks.",
    "Model 3, A4 paper, MP3, 24/7, version 2.0.1, 10am-11am, COVID-19-related, iPhone15Pro",
    "ordered 2 parts at 5000 and 6000 yuan",
    "Mr and Mrs, Dr. and Ms — nobody named",
    "ISO-9001 certified garage",
    "",
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert redact(text) == text
    assert find_personal_data(text) == []


def test_empty_string() -> None:
    assert redact("") == ""
    assert redact("", {"name": ["张三"]}) == ""
    assert find_personal_data("") == []


# ── properties ───────────────────────────────────────────────────────────────────────────────

ALL_TEXTS = (
    [t for t, _ in EMAILS + PHONES + IDS + PLATES + NUMBERS + NAMES + FULL_WIDTH]
    + [t for t, _ in TRANSCRIPTS]
    + UNCHANGED
)


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@pytest.mark.parametrize(("text", "known", "_expected"), KNOWN)
def test_idempotent_with_known(text: str, known: dict, _expected: str) -> None:
    once = redact(text, known)
    assert redact(once, known) == once


def test_spans_index_the_original_text() -> None:
    text = "电话：１３８１２３４５６７８，王先生"
    spans = find_personal_data(text)
    assert spans == [(3, 14, "phone"), (15, 16, "name")]
    assert text[3:14] == "１３８１２３４５６７８"


def test_tokens_are_the_documented_ones() -> None:
    assert set(TOKENS) == {"name", "phone", "id", "plate", "number", "email"}
    assert all(v == f"[{k}]" for k, v in TOKENS.items())
