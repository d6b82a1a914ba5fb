"""The classification object the API returns (contract: Complaints → `classification`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
