"""Teaching case request and response bodies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.fields import PlainText
from app.core.pagination import Page

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText
]
Body = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8000), PlainText
]


class TeachingCaseWrite(BaseModel):
    """A supervisor's write-up of a resolved complaint (實際案例分析)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "材料分次索要，客戶跑了四趟",
                    "what_went_wrong": "The handler asked for documents one at a time.",
                    "remedy": "Apology, full checklist by SMS, documents collected at home.",
                    "outcome": "Paid within 5 working days; survey 4/5.",
                    "lessons": "Send the full checklist at first notice of loss.",
                }
            ]
        },
    )

    title: Title
    what_went_wrong: Body
    remedy: Body
    outcome: Body
    lessons: Body | None = None


class SurveySummary(BaseModel):
    """A satisfaction survey of the case."""

    round: int
    method: str
    score: int
    resolved: bool


class ImprovementSummary(BaseModel):
    """An improvement action the case fed."""

    id: int
    title: str
    status: str


class TeachingCaseRead(BaseModel):
    """A teaching case with personal data removed (from the fields and from the text)."""

    id: int
    complaint_id: int
    reference: str = Field(examples=["CMP-20261124-000123"])
    title: str
    category: str
    category_label: str
    subcause: str
    subcause_label: str
    channel: str
    claim_stage: str | None = Field(description="The claim's stage when the complaint came in.")
    received_on: date
    handling_days: float | None = Field(description="Days from receipt to resolution.")
    reopen_count: int
    escalation_level: str | None
    text: str = Field(description="The complaint as the customer put it, personal data removed.")
    what_went_wrong: str
    remedy: str
    outcome: str
    lessons: str | None
    surveys: list[SurveySummary]
    improvement_actions: list[ImprovementSummary]
    marked_by: str
    marked_at: datetime


class TeachingCasePage(Page[TeachingCaseRead]):
    """A page of teaching cases."""
