"""Teaching cases: a resolved complaint written up by a supervisor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class TeachingCase(SQLModel, table=True):
    """The supervisor's write-up; personal data is removed when it is read, not stored."""

    __tablename__ = "teaching_case"

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("complaint.id", ondelete="CASCADE"), nullable=False, unique=True
        )
    )
    title: str = Field(sa_column=Column(String(200), nullable=False))
    what_went_wrong: str = Field(sa_column=Column(Text, nullable=False))
    remedy: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(sa_column=Column(Text, nullable=False))
    lessons: str | None = Field(default=None, sa_column=Column(Text))
    marked_by: str = Field(sa_column=Column(String(100), nullable=False))
    marked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
