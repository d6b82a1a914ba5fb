"""Improvement action request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.classification.schemas import SubcauseCode
from app.core.fields import MAX_ID, Instant, PlainText
from app.core.pagination import Page

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), PlainText
]
Owner = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText
]
ComplaintIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=500)]


def _unique(ids: list[int] | None) -> list[int] | None:
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("complaint_ids has duplicates")
    return ids


class ImprovementCreate(BaseModel):
    """A continuous-improvement action."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "subcause": "timeliness.cumbersome_process",
                    "title": "一次性告知材料清单",
                    "description": "Send the full document checklist by SMS at first notice.",
                    "owner": "claims-ops-lead",
                    "due_at": "2026-12-31T18:00:00+08:00",
                    "complaint_ids": [101, 117],
                }
            ]
        },
    )

    subcause: SubcauseCode
    title: Title
    description: LongText | None = None
    owner: Owner
    due_at: Instant
    complaint_ids: ComplaintIds = Field(default_factory=list)

    _unique_ids = field_validator("complaint_ids")(_unique)


class ImprovementUpdate(BaseModel):
    """Change an action: its fields, its status, or the complaints linked to it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "in_progress"},
                {"status": "done", "outcome": "Checklist SMS live in all branches."},
                {"complaint_ids": [101, 117, 130]},
            ]
        },
    )

    title: Title | None = None
    description: LongText | None = None
    owner: Owner | None = None
    due_at: Instant | None = None
    status: Literal["open", "in_progress", "done", "cancelled"] | None = None
    outcome: LongText | None = Field(default=None, description="Required to mark it done.")
    complaint_ids: ComplaintIds | None = Field(
        default=None, description="The full list of linked complaints (replaces the old one)."
    )

    _unique_ids = field_validator("complaint_ids")(_unique)


class ImprovementRead(BaseModel):
    """An improvement action."""

    id: int
    subcause: str
    category: str
    title: str
    description: str | None
    owner: str
    due_at: datetime
    overdue: bool = Field(description="Not finished and past its due date (derived).")
    status: Literal["open", "in_progress", "done", "cancelled"]
    allowed_statuses: list[str]
    outcome: str | None
    complaint_ids: list[int]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ImprovementPage(Page[ImprovementRead]):
    """A page of improvement actions."""
