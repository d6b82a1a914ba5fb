"""Survey request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from app.core.fields import PlainText
from app.core.pagination import Page
from app.surveys.rules import Method


class SurveyCreate(BaseModel):
    """The customer's answer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"method": "phone_callback", "score": 4, "resolved": True},
                {
                    "method": "questionnaire",
                    "score": 2,
                    "resolved": False,
                    "comment": "錢到了，但少了拖車費。",
                },
            ]
        },
    )

    method: Method
    score: StrictInt = Field(ge=1, le=5, description="1 (very dissatisfied) … 5 (very satisfied).")
    resolved: StrictBool = Field(description="Does the customer consider the problem resolved?")
    comment: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
            PlainText,
        ]
        | None
    ) = None


class SurveyRead(BaseModel):
    """A recorded survey."""

    id: int
    complaint_id: int
    complaint_reference: str
    round: int = Field(description="The resolution round it measured (0, then 1 after a reopen…).")
    method: Method
    score: int
    resolved: bool
    comment: str | None
    dissatisfied: bool = Field(description="Score ≤ 2 or not resolved: supervisors see these.")
    reopened: bool = Field(description="Whether this survey reopened the complaint.")
    complaint_status: str = Field(description="The complaint's status after the survey.")
    created_by: str
    created_at: datetime


class SurveyPage(Page[SurveyRead]):
    """A page of surveys."""
