"""The classification object the API returns (contract: Complaints → `classification`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.core.fields import PlainText


class Alternative(BaseModel):
    """A runner-up sub-cause."""

    subcause: str
    confidence: float = Field(ge=0, le=1)


class Classification(BaseModel):
    """A complaint's cause, how sure, why, and what else it might be."""

    category: str = Field(examples=["timeliness"])
    subcause: str = Field(examples=["timeliness.slow_assessment"])
    confidence: float = Field(ge=0, le=1, examples=[0.82])
    method: Literal["rules", "model", "manual"] = Field(examples=["rules"])
    model_version: str | None = Field(default=None, examples=["interim-keywords-1"])
    evidence: list[str] = Field(
        default_factory=list,
        description="Phrases that drove the result.",
        examples=[["等了两个月"]],
    )
    alternatives: list[Alternative] = Field(default_factory=list)
    needs_review: bool = Field(description="Confidence below the review threshold.")


SubcauseCode = Literal[
    "service_quality.insufficient_knowledge",
    "service_quality.progress_not_communicated",
    "service_quality.inflexible_handling",
    "service_quality.poor_attitude",
    "payout_dispute.assessment_below_expectation",
    "payout_dispute.terms_not_explained",
    "payout_dispute.partial_loss_disagreement",
    "payout_dispute.evidence_not_accepted",
    "timeliness.cumbersome_process",
    "timeliness.internal_miscommunication",
    "timeliness.slow_assessment",
    "timeliness.payment_delay",
    "other.unclear_special_case_policy",
    "other.distrust_of_outcome",
    "other.malicious_or_fraudulent",
    "other.staff_misconduct",
]

ComplaintText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10000), PlainText
]


class ClassifyRequest(BaseModel):
    """A text to classify (nothing is stored)."""

    text: ComplaintText = Field(
        description="Complaint text in Simplified or Traditional Chinese or English, "
        "1–10000 characters after trimming.",
        examples=["態度倒是挺好的，就是等了兩個月錢還沒到賬"],
    )

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {"examples": [{"text": "態度倒是挺好的，就是等了兩個月錢還沒到賬"}]},
    }


class ClassificationOverrideCreate(BaseModel):
    """A supervisor's correction of a complaint's cause."""

    subcause: SubcauseCode = Field(examples=["service_quality.poor_attitude"])
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), PlainText
    ] = Field(
        description="Why the cause is corrected (kept with the labelled example).",
        examples=["The customer's main grievance is the handler hanging up, not the delay."],
    )

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "examples": [
                {
                    "subcause": "service_quality.poor_attitude",
                    "reason": "The main grievance is the handler hanging up, not the delay.",
                }
            ]
        },
    }


class LanguageFigures(BaseModel):
    """Accuracy on the texts of one language."""

    size: int
    accuracy: float
    category_accuracy: float
    subcause_macro_f1: float
    category_macro_f1: float


class EvaluationFigures(BaseModel):
    """Quality figures of a model on labelled texts it was not trained on."""

    size: int = Field(description="Number of texts.", examples=[160])
    subcause_macro_f1: float = Field(examples=[0.9])
    category_macro_f1: float = Field(examples=[0.96])
    accuracy: float = Field(examples=[0.9])
    category_accuracy: float = Field(examples=[0.96])
    calibration_error: float = Field(
        description="Expected calibration error (10 bins): how far confidence is from accuracy.",
        examples=[0.03],
    )
    by_language: dict[str, LanguageFigures]


class CrossValidationFigures(EvaluationFigures):
    """Figures of out-of-fold predictions on the training data."""

    folds: int = Field(examples=[5])


class ModelFigures(BaseModel):
    """How a model was measured."""

    evaluation: EvaluationFigures | None = Field(
        default=None, description="On the evaluation set (the development set by default)."
    )
    cross_validation: CrossValidationFigures | None = None


class RetrainAttempt(BaseModel):
    """The most recent retrain, accepted or refused."""

    version: str
    accepted: bool
    decision: str
    overrides: int
    created_by: str
    created_at: datetime


class ClassifierInfo(BaseModel):
    """The classifier in use."""

    version: str = Field(examples=["hybrid-2-0dc149f555"])
    source: Literal["builtin", "retrained"] = Field(
        description="`builtin`: trained on the built-in data; `retrained`: includes overrides."
    )
    trained_at: datetime
    training_size: int = Field(examples=[1872])
    overrides_recorded: int = Field(description="Complaints with a supervisor's override.")
    review_threshold: float = Field(examples=[0.6])
    temperature: float = Field(description="Calibration temperature of the combiner.")
    rule_weight: float = Field(description="Weight of the rule layer in the combiner.")
    figures: ModelFigures
    last_retrain: RetrainAttempt | None = None


class RetrainResult(BaseModel):
    """What a retrain produced and whether it is now in use."""

    accepted: bool
    decision: str = Field(
        examples=["accepted: evaluation subcause_macro_f1 0.905 (in use 0.901); …"]
    )
    version: str = Field(description="The retrained model's version.")
    previous_version: str
    active_version: str = Field(description="The version in use after the retrain.")
    training_size: int
    overrides: int
    figures: ModelFigures
