"""The cause taxonomy (domain.md §2): four categories, sixteen sub-causes, three languages."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cause:
    """A category or sub-cause with its labels."""

    code: str
    zh_hant: str
    zh_hans: str
    en: str

    def label(self, lang: str) -> str:
        """The label in `zh-Hant`, `zh-Hans` or `en`."""
        return {"zh-Hant": self.zh_hant, "zh-Hans": self.zh_hans}.get(lang, self.en)

    @property
    def category(self) -> str:
        """The category code (the prefix of a sub-cause)."""
        return self.code.split(".", 1)[0]


CATEGORIES: tuple[Cause, ...] = (
    Cause("service_quality", "服務質量不佳", "服务质量不佳", "Poor service quality"),
    Cause("payout_dispute", "賠付金額爭議", "赔付金额争议", "Payout amount dispute"),
    Cause("timeliness", "理賠時效問題", "理赔时效问题", "Claim timeliness"),
    Cause("other", "其他原因", "其他原因", "Other causes"),
)

SUBCAUSES: tuple[Cause, ...] = (
    Cause(
        "service_quality.insufficient_knowledge",
        "專業知識不足",
        "专业知识不足",
        "Staff lack professional knowledge (cannot explain terms or process)",
    ),
    Cause(
        "service_quality.progress_not_communicated",
        "未及時告知進度",
        "未及时告知进度",
        "Progress or result not communicated in time",
    ),
    Cause(
        "service_quality.inflexible_handling",
        "處理缺乏靈活與人性化",
        "处理缺乏灵活与人性化",
        "Rigid handling, no flexibility or care",
    ),
    Cause(
        "service_quality.poor_attitude",
        "服務態度冷淡或傲慢",
        "服务态度冷淡或傲慢",
        "Cold, arrogant or impatient attitude",
    ),
    Cause(
        "payout_dispute.assessment_below_expectation",
        "定損金額低於預期",
        "定损金额低于预期",
        "Assessed loss below the customer's expectation",
    ),
    Cause(
        "payout_dispute.terms_not_explained",
        "免賠額或賠償比例未解釋",
        "免赔额或赔偿比例未解释",
        "Deductible or compensation ratio never explained",
    ),
    Cause(
        "payout_dispute.partial_loss_disagreement",
        "部分損失認定分歧",
        "部分损失认定分歧",
        "Disagreement over recognising part of the loss",
    ),
    Cause(
        "payout_dispute.evidence_not_accepted",
        "證明材料未被採納",
        "证明材料未被采纳",
        "Customer's proofs or documents not accepted",
    ),
    Cause(
        "timeliness.cumbersome_process", "理賠流程繁瑣", "理赔流程繁琐", "Process too cumbersome"
    ),
    Cause(
        "timeliness.internal_miscommunication",
        "內部溝通不暢",
        "内部沟通不畅",
        "Internal miscommunication delays the claim",
    ),
    Cause(
        "timeliness.slow_assessment",
        "定損核賠耗時過長",
        "定损核赔耗时过长",
        "Survey, assessment or review takes too long",
    ),
    Cause(
        "timeliness.payment_delay",
        "賠款未及時到賬",
        "赔款未及时到账",
        "Payment not received in time",
    ),
    Cause(
        "other.unclear_special_case_policy",
        "特殊情況政策不明確",
        "特殊情况政策不明确",
        "Policy for special cases unclear",
    ),
    Cause(
        "other.distrust_of_outcome",
        "對理賠結果缺乏信任",
        "对理赔结果缺乏信任",
        "Distrust of the insurer or the outcome",
    ),
    Cause(
        "other.malicious_or_fraudulent",
        "惡意投訴或欺詐",
        "恶意投诉或欺诈",
        "Malicious complaint or fraud signals",
    ),
    Cause(
        "other.staff_misconduct", "員工違規操作", "员工违规操作", "Staff misconduct or violation"
    ),
)

BY_CODE: dict[str, Cause] = {c.code: c for c in (*CATEGORIES, *SUBCAUSES)}
SUBCAUSE_CODES: tuple[str, ...] = tuple(c.code for c in SUBCAUSES)
# Serious causes raise priority and go to a supervisor; never auto-closed (domain.md §2).
SERIOUS: frozenset[str] = frozenset({"other.malicious_or_fraudulent", "other.staff_misconduct"})


def category_of(subcause: str) -> str:
    """The category code of a sub-cause code."""
    return BY_CODE[subcause].category
