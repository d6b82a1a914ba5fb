"""Follow-ups of a complaint (the table, and how a new one starts)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import Money, UTCDateTime
from app.followups.rules import NO_DUE_DATE, Kind, State


class FollowUp(SQLModel, table=True):
    """One piece of work on a complaint: contact, analysis, proposal, assessment, callback."""

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_status_due", "status", "due_sort", "id"),
        Index("ix_follow_up_assignee_due", "assignee", "status", "due_sort", "id"),
        Index("ix_follow_up_complaint", "complaint_id", "round", "kind"),
        Index("ix_follow_up_due_check_at", "due_check_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaint.id", ondelete="CASCADE"), nullable=False)
    )
    # The complaint's resolution round (its reopen count when the follow-up was recorded).
    round: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(30), nullable=False))
    status: str = Field(sa_column=Column(String(12), nullable=False))
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # due_at, or far in the future when there is none: the work list's sort key.
    due_sort: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # due_at while the follow-up is open and its `follow_up.due` event not yet sent.
    due_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    assignee: str | None = Field(default=None, sa_column=Column(String(100)))
    note: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    assessor: str | None = Field(default=None, sa_column=Column(String(200)))
    result_amount: Decimal | None = Field(default=None, sa_column=Column(Money()))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    completed_by: str | None = Field(default=None, sa_column=Column(String(100)))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def new_follow_up(
    complaint: Any,
    *,
    kind: Kind,
    note: str,
    due_at: datetime | None,
    assignee: str | None,
    assessor: str | None,
    created_by: str,
    now: datetime,
) -> FollowUp:
    """An open follow-up in the complaint's current round."""
    return FollowUp(
        complaint_id=complaint.id,  # type: ignore[arg-type]
        round=complaint.reopen_count,
        kind=kind.value,
        status=State.open.value,
        due_at=due_at,
        due_sort=due_at or NO_DUE_DATE,
        due_check_at=due_at,
        assignee=assignee,
        note=note,
        assessor=assessor,
        created_by=created_by,
        created_at=now,
        version=1,
        updated_at=now,
    )
