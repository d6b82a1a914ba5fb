"""Improvement actions and the complaints that fed them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class ImprovementAction(SQLModel, table=True):
    """A change the insurer makes because of a cause of complaints."""

    __tablename__ = "improvement_action"
    __table_args__ = (
        Index("ix_improvement_action_due", "due_at", "id"),
        Index("ix_improvement_action_subcause", "subcause", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subcause: str = Field(sa_column=Column(String(60), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    owner: str = Field(sa_column=Column(String(100), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(sa_column=Column(String(12), nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))


class ImprovementLink(SQLModel, table=True):
    """A complaint that fed an improvement action."""

    __tablename__ = "improvement_link"
    __table_args__ = (Index("ix_improvement_link_complaint", "complaint_id"),)

    action_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("improvement_action.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True)
    )
