"""What the reports count and how claims-at-risk are scored. Pure: no I/O, no framework.

The SQL in `service` is built from these definitions, and the explanation of each risk score
is computed from them too, so the ranking and its reasons cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.claims.stages import Stage

# Regulatory dispute types (the regulator's quarterly notices: 理赔纠纷, 销售纠纷, 退保纠纷, 其他).
DISPUTE_TYPES: dict[str, tuple[str, str]] = {
    "claims": ("理赔纠纷", "Claim disputes"),
    "sales": ("销售纠纷", "Sales disputes"),
    "surrender": ("退保纠纷", "Surrender disputes"),
    "other": ("其他", "Other"),
}
# Every complaint here is about a motor claim, so most are claim disputes. Decided:
# - payout_dispute.terms_not_explained is a sales dispute: the duty to explain deductibles,
#   ratios and exclusions falls at the conclusion of the contract (Insurance Law Art. 17);
# - other.malicious_or_fraudulent and other.staff_misconduct are "other": they are about
#   conduct (the complainant's or an employee's), not about the claim's handling;
# - everything else (service quality, the payout, timeliness, special-case policy, distrust
#   of the outcome) is a claim dispute. No complaint here is a surrender dispute.
SUBCAUSE_DISPUTE_TYPE: dict[str, str] = {
    "payout_dispute.terms_not_explained": "sales",
    "other.malicious_or_fraudulent": "other",
    "other.staff_misconduct": "other",
}
DEFAULT_DISPUTE_TYPE = "claims"
LINE_OF_BUSINESS = ("机动车辆保险", "Motor vehicle insurance")


def dispute_type(subcause: str) -> str:
    """The regulator's dispute type of a sub-cause."""
    return SUBCAUSE_DISPUTE_TYPE.get(subcause, DEFAULT_DISPUTE_TYPE)


_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a quarter such as `2026Q3`, midnight local time."""
    match = _QUARTER.match(period)
    if not match:
        raise ValueError("period must look like 2026Q3")
    year, q = int(match.group(1)), int(match.group(2))
    start = datetime(year, 3 * q - 2, 1, tzinfo=tz)
    end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=tz)
    return start, end


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period of the same length just before [start, end)."""
    return start - (end - start), start


def p90_rank(n: int) -> int:
    """The nearest rank of the 90th percentile among n values: ⌈0.9·n⌉ (integer arithmetic,
    the same expression the SQL uses)."""
    return (9 * n + 9) // 10


def p90(values: list[float]) -> float | None:
    """The nearest-rank 90th percentile, as the SQL computes it."""
    if not values:
        return None
    return sorted(values)[p90_rank(len(values)) - 1]


# -- claims at risk -----------------------------------------------------------------------------

OPEN_STAGES: tuple[str, ...] = (
    Stage.reported.value,
    Stage.survey_assessment.value,
    Stage.document_review.value,
    Stage.adjustment.value,
    Stage.approval.value,
)
STAGE_ORDER: dict[str, int] = {stage: i for i, stage in enumerate(OPEN_STAGES)} | {
    Stage.settled.value: len(OPEN_STAGES)
}


@dataclass(frozen=True)
class Factor:
    """One reason a claim may turn into a complaint: its weight and the cap on its value."""

    code: str
    weight: float
    cap: float
    description: str


# Weights from the handling method (domain.md §3) and the complaint data: a claim stuck past its
# legal limit, asked again for documents, or already complained about is the likeliest to turn
# into a (further) complaint. Value × weight, each value capped, summed.
FACTORS: tuple[Factor, ...] = (
    Factor("stage_time", 1.0, 3.0, "time in the current stage ÷ its internal target"),
    Factor("deadline_overdue", 3.0, 1.0, "a deadline of the claim (legal or internal) has passed"),
    Factor("deadline_due_soon", 1.5, 1.0, "a deadline of the claim falls within 2 days"),
    Factor("outstanding_documents", 0.5, 4.0, "documents still outstanding"),
    Factor("repeat_document_request", 1.5, 1.0, "documents were asked for more than once"),
    Factor(
        "earlier_complaints",
        2.0,
        3.0,
        "complaints so far on the claim, its policy or its plate (the most of the three)",
    ),
    Factor("backward_moves", 1.0, 2.0, "times the claim went back a stage"),
)
DUE_SOON = timedelta(days=2)


def explain(values: dict[str, float]) -> tuple[float, list[dict[str, float | str]]]:
    """The risk score of a claim and each factor's part in it (largest first)."""
    parts = []
    for factor in FACTORS:
        value = float(values.get(factor.code, 0.0))
        counted = min(max(value, 0.0), factor.cap)
        contribution = round(counted * factor.weight, 4)
        if contribution:
            parts.append(
                {
                    "factor": factor.code,
                    "value": round(value, 4),
                    "weight": factor.weight,
                    "contribution": contribution,
                    "description": factor.description,
                }
            )
    parts.sort(key=lambda p: -float(p["contribution"]))
    return round(sum(float(p["contribution"]) for p in parts), 4), parts
