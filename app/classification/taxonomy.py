"""The cause taxonomy (domain.md §2): four categories, sixteen sub-causes, three languages."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


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


# What each cause covers (English, Simplified Chinese); Traditional is converted with OpenCC.
DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "service_quality": (
        "How the customer was served: knowledge, communication, flexibility, attitude.",
        "客户在服务过程中的感受：专业知识、沟通、灵活性和态度。",
    ),
    "service_quality.insufficient_knowledge": (
        "Staff cannot explain policy terms or the claim process, or give wrong or contradictory "
        "answers.",
        "工作人员解释不了条款或理赔流程，或者答复错误、前后矛盾。",
    ),
    "service_quality.progress_not_communicated": (
        "Nobody tells the customer the progress or the result; the customer has to chase.",
        "没有主动告知进度或结果，客户只能自己反复追问。",
    ),
    "service_quality.inflexible_handling": (
        "Rules applied mechanically, no room for the customer's circumstances.",
        "机械地套用规定，不考虑客户的实际情况，缺乏人性化。",
    ),
    "service_quality.poor_attitude": (
        "Cold, arrogant, impatient or rude staff; calls cut off.",
        "工作人员冷淡、傲慢、不耐烦或粗鲁，甚至挂断电话。",
    ),
    "payout_dispute": (
        "The customer disputes how much is paid.",
        "客户对赔付金额有异议。",
    ),
    "payout_dispute.assessment_below_expectation": (
        "The assessed loss or repair cost is lower than quotes or what the customer expected.",
        "定损金额或维修费用低于报价或客户预期。",
    ),
    "payout_dispute.terms_not_explained": (
        "A deductible, compensation ratio, depreciation or exclusion surprised the customer: it "
        "was never explained.",
        "免赔额、赔偿比例、折旧或免责条款事先没有解释清楚，客户感到意外。",
    ),
    "payout_dispute.partial_loss_disagreement": (
        "Part of the loss (some parts, injuries, hire or towing costs) is not recognised.",
        "部分损失（部分零件、人伤、代步车或施救费用）未被认定。",
    ),
    "payout_dispute.evidence_not_accepted": (
        "The customer's receipts, photos, reports or records are not accepted as proof.",
        "客户提供的发票、照片、报告或记录未被采纳。",
    ),
    "timeliness": (
        "The claim takes too long, in process, handovers, assessment or payment.",
        "理赔耗时过长：流程、交接、定损核赔或赔款支付。",
    ),
    "timeliness.cumbersome_process": (
        "Too many documents, forms or trips; documents requested piecemeal.",
        "材料、表格或往返次数过多，材料要求不一次性告知。",
    ),
    "timeliness.internal_miscommunication": (
        "Departments or handlers pass the customer around or lose the file, and the claim stalls.",
        "部门或经办人之间推诿、交接不畅或丢失材料，导致案件停滞。",
    ),
    "timeliness.slow_assessment": (
        "The survey, loss assessment or review takes too long.",
        "查勘、定损或审核耗时过长。",
    ),
    "timeliness.payment_delay": (
        "The payment was agreed or approved but has not arrived in time.",
        "赔款已同意或已审批，但没有按时到账。",
    ),
    "other": (
        "Causes outside service, amount and time.",
        "服务、金额和时效以外的原因。",
    ),
    "other.unclear_special_case_policy": (
        "No clear rule for an unusual case (flood, lent car, modified car, driving abroad).",
        "特殊情况（水淹、借车、改装、异地出险等）没有明确的处理规定。",
    ),
    "other.distrust_of_outcome": (
        "The customer does not trust the insurer or suspects collusion or cheating.",
        "客户不信任保险公司，怀疑暗箱操作或串通。",
    ),
    "other.malicious_or_fraudulent": (
        "Signs of a malicious complaint or fraud: excessive demands with threats, staged or "
        "inflated losses. Goes to a supervisor.",
        "恶意投诉或欺诈迹象：以威胁提出过高要求、摆拍或夸大损失。须由主管处理。",
    ),
    "other.staff_misconduct": (
        "Staff asked for money, forged signatures, leaked data or steered repairs for commission. "
        "Goes to a supervisor.",
        "员工索要好处、冒签、泄露信息或为提成指定修理厂。须由主管处理。",
    ),
}


def description(code: str, lang: str) -> str:
    """What a category or sub-cause covers, in `zh-Hant`, `zh-Hans` or `en`."""
    english, simplified = DESCRIPTIONS[code]
    if lang == "en":
        return english
    if lang == "zh-Hant":
        return _s2t().convert(simplified)
    return simplified


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")
