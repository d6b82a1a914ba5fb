"""The rule layer: each sub-cause's lexicon in three languages, negation, concession, and the
customer's primary grievance."""

from __future__ import annotations

import pytest

from app.classification import rules
from app.classification.normalize import normalize
from app.classification.taxonomy import SUBCAUSE_CODES

CASES = {
    "service_quality.insufficient_knowledge": (
        "客服连免赔额是什么都解释不了，问了三次说法都不一样。",
        "理賠員一問三不知，連代位求償是什麼都說不清楚。",
        "Your agent could not explain what subrogation means and gave me conflicting answers.",
    ),
    "service_quality.progress_not_communicated": (
        "报案一个月了没人通知我进度，每次都是我打电话去问。",
        "案件到哪一步了完全沒人告訴我，說好回電也沒有回電。",
        "Nobody told me anything about my claim; I had to chase you for every update.",
    ),
    "service_quality.inflexible_handling": (
        "我在住院行动不便，你们非要本人到场签字，一点都不通融。",
        "規定就是規定，完全不能變通，處理得太死板了。",
        "Computer says no: they would not make an exception even after my bereavement. So rigid.",
    ),
    "service_quality.poor_attitude": (
        "客服态度恶劣，不耐烦地挂了我电话。",
        "那個專員態度很差，講話陰陽怪氣，還直接掛我電話。",
        "The handler was rude and condescending, then hung up on me.",
    ),
    "payout_dispute.assessment_below_expectation": (
        "定损金额太低了，4S店报价一万二，你们只给六千。",
        "估價太低了，修理廠報價差了一大截，根本不夠修。",
        "Your offer is far too low: the garage quoted £4,200 and you valued the repair at £2,100.",
    ),
    "payout_dispute.terms_not_explained": (
        "赔款被扣了20%的免赔率，投保的时候业务员从来没说过。",
        "自負額和賠償比例，買保險的時候根本沒有解釋。",
        "An excess of £500 was deducted, which was never explained when I bought the policy.",
    ),
    "payout_dispute.partial_loss_disagreement": (
        "后视镜的损坏你们说是旧伤不认，只赔了前保险杠。",
        "底盤的損失說是自然磨損不予認定，代步車費用也不賠。",
        "You only covered the bumper and called the cracked headlamp wear and tear, pre-existing.",
    ),
    "payout_dispute.evidence_not_accepted": (
        "我提供了行车记录仪视频和维修发票，你们不采纳。",
        "醫院的診斷證明和收據都交了，理賠說不認可。",
        "I sent dashcam footage and receipts but they were not accepted as evidence.",
    ),
    "timeliness.cumbersome_process": (
        "材料交了一次又说要补交，跑了四趟，手续太繁琐了。",
        "流程太複雜，表格填了一堆，每次又要補材料。",
        "So much paperwork: form after form, and you asked for more documents again and again.",
    ),
    "timeliness.internal_miscommunication": (
        "理赔部和客服部互相推诿踢皮球，材料丢了还让我重新提交。",
        "分公司說總公司在處理，總公司說沒有記錄，推來推去。",
        "I was passed between different departments and they lost my file twice.",
    ),
    "timeliness.slow_assessment": (
        "查勘员迟迟没来定损，车在修理厂放了两个多月。",
        "定損拖了很久，一直在審核，等了兩個月還沒有結果。",
        "Still waiting for the engineer to inspect the car; the assessment is taking forever.",
    ),
    "timeliness.payment_delay": (
        "审批通过已经一个月了赔款还没到账。",
        "理賠說已經審批了，錢還沒到帳，說好的打款遲遲沒有。",
        "The settlement was approved weeks ago but the money still isn't in my account.",
    ),
    "other.unclear_special_case_policy": (
        "车借给朋友开出的险，网约车的情况到底赔不赔，没有明确规定。",
        "車子改裝過，這種特殊情況到底怎麼賠，政策不明確。",
        "My friend drove my modified car; nobody knows which policy covers this special case",
    ),
    "other.distrust_of_outcome": (
        "你们和修理厂串通，暗箱操作，我不相信这个结果。",
        "我懷疑你們有黑幕，就是想少賠，根本不信任你們。",
        "I don't trust this outcome; it looks rigged and you are colluding with the garage.",
    ),
    "other.malicious_or_fraudulent": (
        "不赔我十万精神损失费，我就天天来闹，这次的损伤其实是上次的同一处损伤。",
        "不給就去鬧，發票是假的也無所謂，反正要賠我精神損失。",
        "Pay me £50,000 or else I go to the press; the staged photos are all you get.",
    ),
    "other.staff_misconduct": (
        "理赔员私下索要好处费，还冒签了我的名字。",
        "業務員收了回扣，指定修理廠，還洩露我的個人信息。",
        "The assessor asked me for money in cash and forged my signature on the form.",
    ),
}


def test_every_subcause_has_cases_in_three_languages() -> None:
    assert set(CASES) == set(SUBCAUSE_CODES)
    assert set(rules.LEXICON) == set(SUBCAUSE_CODES)


@pytest.mark.parametrize(
    ("subcause", "text"),
    [(code, text) for code, texts in CASES.items() for text in texts],
    ids=[f"{code}-{lang}" for code in CASES for lang in ("zh-Hans", "zh-Hant", "en")],
)
def test_lexicon_recognises_the_subcause(subcause: str, text: str) -> None:
    predicted, result = rules.classify_rules(text)
    assert predicted == subcause, result.scores
    assert result.evidence(subcause)


def test_each_phrase_belongs_to_one_subcause() -> None:
    phrases = rules._phrases()
    assert len(phrases) > 16 * 20
    for phrase, (subcause, weight) in phrases.items():
        assert phrase == normalize(phrase)
        assert subcause in SUBCAUSE_CODES
        assert weight in (rules.STRONG, rules.NORMAL, rules.WEAK)


def test_traditional_entries_and_text_are_folded_to_simplified() -> None:
    assert rules.score(normalize("態度惡劣")).scores == rules.score(normalize("态度恶劣")).scores


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("态度倒是挺好的，就是等了两个月", "态度"),  # conceded
        ("不是态度问题，是钱还没到账", "态度"),  # negated
        ("金额我没意见，问题是打款太慢", "金额"),
        ("Nobody was rude, but the money still hasn't arrived", "rude"),
        ("The amount is fair; my problem is the payment is late", "amount"),
    ],
)
def test_negated_or_conceded_phrases_do_not_count(text: str, negated: str) -> None:
    result = rules.score(normalize(text))
    hit = next(h for h in result.hits if h.phrase == negated)
    assert hit.negated and hit.weight == 0
    assert hit.subcause not in result.scores


def test_a_negated_praise_is_not_a_concession() -> None:
    result = rules.score(normalize("态度不是很好"))
    assert result.scores.get("service_quality.poor_attitude", 0) > 0


def test_the_grievance_after_a_contrast_outweighs_the_context_before_it() -> None:
    text = normalize("查勘员有点不耐烦，但是最主要的是审批通过一个月了赔款还没到账")
    predicted = max(rules.score(text).scores.items(), key=lambda kv: kv[1])[0]
    assert predicted == "timeliness.payment_delay"
    hits = {h.phrase: h for h in rules.score(text).hits}
    assert hits["不耐烦"].weight == pytest.approx(rules.STRONG * rules.BEFORE_CONTRAST)
    assert hits["还没到账"].weight >= rules.STRONG * rules.AFTER_CONTRAST


def test_a_primary_grievance_cue_doubles_what_follows() -> None:
    hits = rules.score(normalize("材料是多了点，关键是定损太低")).hits
    low = next(h for h in hits if h.phrase == "定损太低")
    assert low.weight == pytest.approx(rules.STRONG * rules.AFTER_PRIMARY)


def test_english_phrases_match_whole_words_only() -> None:
    assert not rules.score(normalize("A prudent driver")).hits  # "rude" inside "prudent"
    assert rules.score(normalize("She was rude.")).scores


def test_no_phrase_no_cause() -> None:
    predicted, result = rules.classify_rules("你好，我想咨询一下。")
    assert predicted is None and not result.scores


def test_lexicon_digest_is_stable() -> None:
    assert rules.lexicon_digest() == rules.lexicon_digest()
    assert len(rules.lexicon_digest()) == 8
