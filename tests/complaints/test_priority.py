"""Complaint priority rules."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.complaints.priority import (
    Priority,
    PriorityInputs,
    assess_priority,
    max_priority,
)

BASE = PriorityInputs(
    channel="phone",
    text="定损金额太低了，希望重新核定。",
    disputed_amount=Decimal("3800"),
    amount_threshold=Decimal("50000"),
    repeat_on_claim=False,
    claim_past_legal_deadline=False,
    subcause="payout_dispute.assessment_below_expectation",
    escalation_level=None,
)


def with_(**changes: object) -> PriorityInputs:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_no_rule_is_normal() -> None:
    assert assess_priority(BASE) == (Priority.normal, [], False)


SINGLE_RULES = [
    ({"channel": "regulator_referral"}, "regulator_referral", Priority.urgent),
    ({"repeat_on_claim": True}, "repeat_complaint", Priority.high),
    ({"disputed_amount": Decimal("50000.01")}, "amount_above_threshold", Priority.high),
    ({"claim_past_legal_deadline": True}, "claim_past_legal_deadline", Priority.high),
    ({"subcause": "other.staff_misconduct"}, "serious_cause", Priority.high),
    ({"subcause": "other.malicious_or_fraudulent"}, "serious_cause", Priority.high),
    ({"escalation_level": "supervisor"}, "escalated_supervisor", Priority.high),
    ({"escalation_level": "management"}, "escalated_management", Priority.urgent),
    ({"escalation_level": "regulator"}, "escalated_regulator", Priority.urgent),
]


@pytest.mark.parametrize(("changes", "code", "priority"), SINGLE_RULES)
def test_each_rule_alone(changes: dict[str, object], code: str, priority: Priority) -> None:
    result, reasons, _ = assess_priority(with_(**changes))
    assert result == priority
    assert [r.code for r in reasons] == [code]
    assert reasons[0].priority == priority
    assert reasons[0].detail


@pytest.mark.parametrize("amount", [Decimal("50000"), Decimal("1"), None])
def test_amount_at_or_below_threshold_does_not_fire(amount: Decimal | None) -> None:
    assert assess_priority(with_(disputed_amount=amount))[0] == Priority.normal


THREATS = [
    "再不处理我就找媒体曝光你们",  # zh-Hans
    "我已经联系了记者",
    "我要请律师起诉你们",
    "我们法院见，准备诉讼",
    "我会打12378投诉",
    "我要向银保监会反映",
    "我要去金融监管部门投诉",
    "再不處理我就找媒體曝光",  # zh-Hant
    "我已經聯絡記者",
    "我會請律師起訴你們",
    "準備訴訟",
    "向銀保監投訴",
    "I will go to the press about this",  # en
    "My LAWYER will contact you",
    "I am going to sue you",
    "See you in court",
    "We are considering legal action",
    "I will complain to the regulator",
    "a journalist friend is interested",
    "I'll tell the media",
    "My attorney says otherwise",
    "我不会找媒体的，但是请尽快处理",  # negated still counts
]


@pytest.mark.parametrize("text", THREATS)
def test_threats_in_every_language(text: str) -> None:
    priority, reasons, route = assess_priority(with_(text=text))
    assert priority == Priority.high
    assert [r.code for r in reasons] == ["media_or_legal_threat"]
    assert route is False


@pytest.mark.parametrize(
    "text",
    [
        "There is an issue with my claim",
        "I will pursue this with your manager",
        "The pressure of waiting is awful",
        "Your staff were courteous but slow",
        "等了两个月还没到账",
    ],
)
def test_lookalike_words_are_no_threat(text: str) -> None:
    assert assess_priority(with_(text=text))[0] == Priority.normal


def test_max_wins_and_all_reasons_in_rule_order() -> None:
    priority, reasons, route = assess_priority(
        with_(
            channel="regulator_referral",
            text="I will sue",
            repeat_on_claim=True,
            disputed_amount=Decimal("90000"),
            claim_past_legal_deadline=True,
            subcause="other.staff_misconduct",
            escalation_level="supervisor",
        )
    )
    assert priority == Priority.urgent
    assert [r.code for r in reasons] == [
        "regulator_referral",
        "media_or_legal_threat",
        "repeat_complaint",
        "amount_above_threshold",
        "claim_past_legal_deadline",
        "serious_cause",
        "escalated_supervisor",
    ]
    assert route is True


def test_high_rules_together_stay_high() -> None:
    priority, reasons, _ = assess_priority(with_(repeat_on_claim=True, text="媒体"))
    assert priority == Priority.high
    assert len(reasons) == 2


@pytest.mark.parametrize(
    ("subcause", "route"),
    [
        ("other.staff_misconduct", True),
        ("other.malicious_or_fraudulent", True),
        ("other.distrust_of_outcome", False),
        (None, False),
    ],
)
def test_route_to_supervisor(subcause: str | None, route: bool) -> None:
    assert assess_priority(with_(subcause=subcause))[2] is route


def test_unknown_escalation_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="escalation_level"):
        assess_priority(with_(escalation_level="ceo"))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((Priority.low, Priority.normal), Priority.normal),
        ((Priority.urgent, Priority.high), Priority.urgent),
        ((Priority.high, Priority.low), Priority.high),  # alphabetically "low" > "high"
        ((), Priority.normal),
    ],
)
def test_max_priority(values: tuple[Priority, ...], expected: Priority) -> None:
    assert max_priority(*values) == expected
