"""Claims and their append-only stage history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import Money, UTCDateTime


class Claim(SQLModel, table=True):
    """A motor claim as pushed by the core claims system, with its current stage."""

    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_stage_id", "stage", "id"),
        Index("ix_claim_region_id", "region", "id"),
        Index("ix_claim_next_due_at", "next_due_at"),
        Index("ix_claim_policy_no", "policy_no"),
        Index("ix_claim_plate_no", "plate_no"),
        Index("ix_claim_breach_check_at", "breach_check_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_no: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    policy_no: str = Field(sa_column=Column(String(40), nullable=False))
    plate_no: str = Field(sa_column=Column(String(20), nullable=False))
    insured_name: str = Field(sa_column=Column(String(100), nullable=False))
    insured_phone: str = Field(sa_column=Column(String(30), nullable=False))
    accident_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    region: str | None = Field(default=None, sa_column=Column(String(40)))
    coverage_type: str = Field(sa_column=Column(String(20), nullable=False))
    advance_paid_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stage: str = Field(sa_column=Column(String(24), nullable=False))
    stage_entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    repeat_document_request: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, default=False)
    )
    # Earliest due instant among running deadlines: the `overdue` filter is an index range.
    next_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # When the deadline scanner should next look at the claim: set to next_due_at by every
    # change, moved past announced breaches by the scanner.
    breach_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The customer's progress view, precomputed in the transaction of each change, so the
    # portal's read is one indexed select (see claims/progress.py).
    progress_doc: str = Field(sa_column=Column(Text, nullable=False))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ClaimStageEvent(SQLModel, table=True):
    """One recorded stage move; never updated or deleted."""

    __tablename__ = "claim_stage_event"
    __table_args__ = (
        UniqueConstraint("claim_id", "seq"),
        UniqueConstraint("claim_id", "event_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(
        sa_column=Column(Integer, ForeignKey("claim.id", ondelete="RESTRICT"), nullable=False)
    )
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    event_id: str | None = Field(default=None, sa_column=Column(String(100)))
    from_stage: str = Field(sa_column=Column(String(24), nullable=False))
    to_stage: str = Field(sa_column=Column(String(24), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    actor: str | None = Field(default=None, sa_column=Column(String(100)))
    missing_documents: list[str] | None = Field(default=None, sa_column=Column(JSON))
    amount: Decimal | None = Field(default=None, sa_column=Column(Money()))
    recorded_by: str = Field(sa_column=Column(String(100), nullable=False))
