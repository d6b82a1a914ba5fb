"""Follow-up request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from app.core.fields import Instant, PlainText
from app.core.pagination import Page
from app.followups.rules import Kind

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), PlainText
]
Who = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText
]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class FollowUpCreate(BaseModel):
    """A piece of work on a complaint."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "resolution_proposal",
                    "due_at": "2026-11-27T10:00:00+08:00",
                    "assignee": "handler-07",
                    "note": "Offer to re-assess the bumper at the 4S shop's quote.",
                },
                {
                    "kind": "third_party_assessment",
                    "assessor": "華信公估",
                    "note": "Independent assessment of the disputed repair cost.",
                },
            ]
        },
    )

    kind: Kind
    note: Text = Field(description="What is to be done or what happened.")
    due_at: Instant | None = Field(
        default=None, description="When it is due (open-ended if absent)."
    )
    assignee: Who | None = None
    assessor: Who | None = Field(
        default=None, description="The third-party assessor (third_party_assessment only)."
    )
    notified: StrictBool = Field(
        default=False,
        description="third_party_assessment: the complainant was told of the external "
        "assessment, so its days do not count against the reply limit until the result is "
        "recorded (CBIRC Order 2020 No. 3).",
    )
    new_materials: StrictBool = Field(
        default=False,
        description="New facts or materials were received for the complaint: the reply period "
        "runs again from now.",
    )

    @model_validator(mode="after")
    def _assessment_fields(self) -> FollowUpCreate:
        if self.kind is Kind.third_party_assessment and self.assessor is None:
            raise ValueError("a third_party_assessment names its `assessor`")
        if self.kind is not Kind.third_party_assessment and self.assessor is not None:
            raise ValueError("`assessor` belongs to a third_party_assessment only")
        if self.kind is not Kind.third_party_assessment and self.notified:
            raise ValueError(
                "`notified` (a paused reply clock) belongs to a third_party_assessment"
            )
        if self.kind is Kind.callback and self.new_materials:
            raise ValueError("a callback does not bring new materials")
        return self


class FollowUpUpdate(BaseModel):
    """Complete, cancel, reschedule or reassign an open follow-up."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "done", "outcome": "Customer accepted the re-assessment."},
                {"due_at": "2026-11-30T10:00:00+08:00"},
                {
                    "status": "done",
                    "outcome": "Assessed at the shop's quote.",
                    "result_amount": "4200.00",
                },
            ]
        },
    )

    status: Literal["done", "cancelled"] | None = None
    outcome: Text | None = Field(default=None, description="Required to mark it done.")
    due_at: Instant | None = None
    assignee: Who | None = None
    result_amount: Amount | None = Field(
        default=None,
        description="The assessed amount; required to complete a third_party_assessment.",
    )

    @model_validator(mode="after")
    def _something(self) -> FollowUpUpdate:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        if self.status == "done" and self.outcome is None:
            raise ValueError("a follow-up marked done records its `outcome`")
        return self


class FollowUpRead(BaseModel):
    """A follow-up."""

    id: int
    complaint_id: int
    complaint_reference: str = Field(examples=["CMP-20261124-000123"])
    round: int = Field(description="The complaint's resolution round (0, then 1 after a reopen…).")
    kind: Kind
    status: Literal["open", "done", "cancelled"]
    due_at: datetime | None
    overdue: bool = Field(description="Open and past its due time (derived, never stale).")
    assignee: str | None
    note: str
    outcome: str | None
    assessor: str | None
    result_amount: Decimal | None
    created_by: str
    created_at: datetime
    completed_by: str | None
    completed_at: datetime | None
    version: int


class FollowUpPage(Page[FollowUpRead]):
    """A page of the work list."""
