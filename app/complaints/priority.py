"""A complaint's priority: the rules that fire, the highest wins, supervisor routing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Priority(StrEnum):
    """How urgently a complaint is handled; declaration order is the ranking."""

    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"

    @property
    def rank(self) -> int:
        """Position in the ranking: low 0 … urgent 3 (string comparison would be alphabetical)."""
        return list(Priority).index(self)


def max_priority(*priorities: Priority) -> Priority:
    """The highest of the given priorities (normal when none is given)."""
    return max(priorities, key=lambda p: p.rank, default=Priority.normal)


@dataclass(frozen=True)
class PriorityReason:
    """A rule that fired: its code, the priority it asks for and an English explanation."""

    code: str
    priority: Priority
    detail: str


@dataclass(frozen=True)
class PriorityInputs:
    """What the priority rules look at."""

    channel: str
    text: str
    disputed_amount: Decimal | None
    amount_threshold: Decimal
    repeat_on_claim: bool
    claim_past_legal_deadline: bool
    subcause: str | None
    escalation_level: str | None


# Chinese has no word boundaries: plain substrings. Negated mentions still count (better safe).
_THREAT_ZH = (
    "媒体",
    "媒體",
    "曝光",
    "记者",
    "記者",
    "律师",
    "律師",
    "起诉",
    "起訴",
    "法院",
    "诉讼",
    "訴訟",
    "12378",
    "银保监",
    "銀保監",
    "金融监管",
    "金融監管",
)
# English needs word boundaries so that "issue", "pursue", "pressure" and "courteous" don't fire.
_THREAT_EN = re.compile(
    r"\b(?:journalists?|media|press|newspapers?|lawyers?|attorneys?|sue|suing|sued|"
    r"courts?|legal action|regulators?|expose|exposure)\b",
    re.IGNORECASE,
)

_SERIOUS_SUBCAUSES = frozenset({"other.malicious_or_fraudulent", "other.staff_misconduct"})

_ESCALATION: dict[str, Priority] = {
    "supervisor": Priority.high,
    "management": Priority.urgent,
    "regulator": Priority.urgent,
}


def escalation_reason(level: str) -> PriorityReason:
    """The priority rule an escalation to `level` fires (at intake or by the escalate action)."""
    if level not in _ESCALATION:
        raise ValueError(f"unknown escalation_level {level!r}")
    return PriorityReason(
        f"escalated_{level}", _ESCALATION[level], f"Complaint was escalated to {level}."
    )


def threat_mentions(text: str) -> list[str]:
    """Media, legal or regulator mentions in the text, in order of the keyword lists."""
    found = [word for word in _THREAT_ZH if word in text]
    found += [m.group(0) for m in _THREAT_EN.finditer(text)]
    return found


def serious_cause_reason(subcause: str) -> PriorityReason:
    """The rule a serious cause (malice or fraud, staff misconduct) fires."""
    return PriorityReason(
        "serious_cause",
        Priority.high,
        f"Serious cause {subcause}: a supervisor must handle it.",
    )


def is_serious(subcause: str) -> bool:
    """Causes that raise priority and go to a supervisor, never closed without one."""
    return subcause in _SERIOUS_SUBCAUSES


def recause(
    priority: Priority, reasons: list[PriorityReason], subcause: str
) -> tuple[Priority, list[PriorityReason]]:
    """Priority and reasons after the cause is corrected to `subcause`.

    The serious-cause rule is re-applied: added (raising priority) for a serious cause, removed
    otherwise. Priority only falls when it was no higher than what the rules asked for, so a
    supervisor's manual priority is kept.
    """
    kept = [r for r in reasons if r.code != "serious_cause"]
    if is_serious(subcause):
        kept.append(serious_cause_reason(subcause))
        return max_priority(priority, Priority.high), kept
    implied_before = max_priority(*(r.priority for r in reasons))
    if priority.rank > implied_before.rank:
        return priority, kept
    return max_priority(*(r.priority for r in kept)), kept


def assess_priority(inputs: PriorityInputs) -> tuple[Priority, list[PriorityReason], bool]:
    """The priority, every rule that fired (in rule order), and whether to route to a supervisor."""
    if inputs.escalation_level is not None and inputs.escalation_level not in _ESCALATION:
        raise ValueError(f"unknown escalation_level {inputs.escalation_level!r}")
    reasons: list[PriorityReason] = []
    route = False

    if inputs.channel == "regulator_referral":
        reasons.append(
            PriorityReason(
                "regulator_referral", Priority.urgent, "Complaint was forwarded by the regulator."
            )
        )
    mentions = threat_mentions(inputs.text)
    if mentions:
        shown = ", ".join(dict.fromkeys(mentions))
        reasons.append(
            PriorityReason(
                "media_or_legal_threat",
                Priority.high,
                f"Text mentions media, legal action or the regulator: {shown}.",
            )
        )
    if inputs.repeat_on_claim:
        reasons.append(
            PriorityReason(
                "repeat_complaint",
                Priority.high,
                "Another complaint about the same claim already exists.",
            )
        )
    if inputs.disputed_amount is not None and inputs.disputed_amount > inputs.amount_threshold:
        reasons.append(
            PriorityReason(
                "amount_above_threshold",
                Priority.high,
                f"Disputed amount {inputs.disputed_amount} is above the threshold "
                f"{inputs.amount_threshold}.",
            )
        )
    if inputs.claim_past_legal_deadline:
        reasons.append(
            PriorityReason(
                "claim_past_legal_deadline",
                Priority.high,
                "The related claim has missed or passed a legal deadline.",
            )
        )
    if inputs.subcause in _SERIOUS_SUBCAUSES:
        route = True
        reasons.append(serious_cause_reason(inputs.subcause))
    if inputs.escalation_level is not None:
        reasons.append(escalation_reason(inputs.escalation_level))

    priority = max_priority(*(r.priority for r in reasons)) if reasons else Priority.normal
    return priority, reasons, route
