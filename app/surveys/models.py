"""Satisfaction surveys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class Survey(SQLModel, table=True):
    """One survey of one resolution round; at most one per method per round."""

    __tablename__ = "survey"
    __table_args__ = (
        UniqueConstraint("complaint_id", "round", "method"),
        Index("ix_survey_dissatisfied_id", "dissatisfied", "id"),
        Index("ix_survey_created_at_id", "created_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaint.id", ondelete="CASCADE"), nullable=False)
    )
    round: int = Field(sa_column=Column(Integer, nullable=False))
    method: str = Field(sa_column=Column(String(20), nullable=False))
    score: int = Field(sa_column=Column(Integer, nullable=False))
    resolved: bool = Field(sa_column=Column(Boolean, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    dissatisfied: bool = Field(sa_column=Column(Boolean, nullable=False))
    reopened: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
