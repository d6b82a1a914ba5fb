"""Complaints, their timeline, and the reference counter."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import Money, UTCDateTime


class Complaint(SQLModel, table=True):
    """A claim complaint from intake to closure."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_received_at_id", "received_at", "id"),
        Index("ix_complaint_status_id", "status", "id"),
        # A cause over a period (the drill-down of a report) reads received_at from the index
        # while it walks a cause newest first, and visits the table only for the page's rows.
        Index("ix_complaint_subcause_id_received", "subcause", "id", "received_at"),
        Index("ix_complaint_category_id_received", "category", "id", "received_at"),
        Index("ix_complaint_channel_id", "channel", "id"),
        Index("ix_complaint_priority_id", "priority", "id"),
        Index("ix_complaint_assignee_id", "assignee", "id"),
        Index("ix_complaint_claim_no", "claim_no"),
        # Reports: complaints so far on the same claim, policy or plate (claims at risk), read
        # from the index alone.
        Index("ix_complaint_claim_id", "claim_id", "received_at"),
        Index("ix_complaint_policy_no", "policy_no", "received_at"),
        Index("ix_complaint_plate_no", "plate_no", "received_at"),
        # Reports over a period: on PostgreSQL every column they read is in the index, so a
        # quarter is an index-only range scan instead of a scan of the whole table.
        Index(
            "ix_complaint_report",
            "received_at",
            postgresql_include=[
                "category",
                "subcause",
                "channel",
                "assignee",
                "claim_stage",
                "claim_id",
                "acknowledged_at",
                "acknowledge_due_at",
                "replied_at",
                "reply_due_at",
                "resolved_at",
                "closed_at",
                "close_reason",
                "reply_paused",
                "extensions",
                "escalation_level",
                "reopen_count",
                "handling_hours",
            ],
        ),
        Index("ix_complaint_reply_due_at", "reply_due_at"),
        # The open complaints newest first (the overdue filter reads only these): a small
        # index, since most complaints are closed.
        Index(
            "ix_complaint_open_id",
            "id",
            sqlite_where=sql_text("closed_at IS NULL"),
            postgresql_where=sql_text("closed_at IS NULL"),
        ),
        Index("ix_complaint_breach_check_at", "breach_check_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(32), nullable=False, unique=True))
    status: str = Field(sa_column=Column(String(24), nullable=False))
    channel: str = Field(sa_column=Column(String(24), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    complainant_name: str = Field(sa_column=Column(String(100), nullable=False))
    complainant_phone: str = Field(sa_column=Column(String(30), nullable=False))
    complainant_id_number: str | None = Field(default=None, sa_column=Column(String(30)))
    claim_no: str | None = Field(default=None, sa_column=Column(String(40)))
    claim_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("claim.id", ondelete="RESTRICT"))
    )
    claim_stage: str | None = Field(default=None, sa_column=Column(String(24)))
    policy_no: str | None = Field(default=None, sa_column=Column(String(40)))
    plate_no: str | None = Field(default=None, sa_column=Column(String(20)))
    disputed_amount: Decimal | None = Field(default=None, sa_column=Column(Money()))
    external_ref: str | None = Field(default=None, sa_column=Column(String(100)))
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    category: str = Field(sa_column=Column(String(40), nullable=False))
    subcause: str = Field(sa_column=Column(String(60), nullable=False))
    classification: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    priority: str = Field(sa_column=Column(String(10), nullable=False))
    priority_reasons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    route_to_supervisor: bool = Field(sa_column=Column(Boolean, nullable=False, default=False))
    assignee: str | None = Field(default=None, sa_column=Column(String(100)))
    team: str | None = Field(default=None, sa_column=Column(String(100)))
    escalation_level: str | None = Field(default=None, sa_column=Column(String(20)))
    # Facts the deadlines are computed from (deadlines/complaint.py); due instants are kept
    # for the `overdue` filter, the flag itself is derived at read time.
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    replied_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    close_reason: str | None = Field(default=None, sa_column=Column(String(20)))
    extensions: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    # External assessments that stop the reply clock: [{follow_up_id, started_at, ended_at}].
    pauses: list[dict[str, Any]] = Field(
        default_factory=list,
        # JSONB on PostgreSQL: it has an equality operator (JSON has none), which the
        # migration check needs to compare the server default.
        sa_column=Column(
            JSON().with_variant(JSONB(), "postgresql"),
            nullable=False,
            server_default=sql_text("'[]'"),
        ),
    )
    reply_paused: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # New materials received: the reply period runs again from here.
    restarted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Hours from receipt to resolution (or closure); null while open. Kept by every change so
    # the SLA report reads a column instead of computing it per row.
    handling_hours: float | None = Field(default=None, sa_column=Column(Float))
    acknowledge_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reply_due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The earliest running due instant: the deadline scanner reads rows whose time has come
    # (an index range) instead of every overdue complaint on every round.
    breach_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    reopen_count: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    version: int = Field(default=1, sa_column=Column(Integer, nullable=False, default=1))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ComplaintEvent(SQLModel, table=True):
    """One entry of a complaint's timeline; never updated or deleted."""

    __tablename__ = "complaint_event"
    __table_args__ = (UniqueConstraint("complaint_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaint.id", ondelete="RESTRICT"), nullable=False)
    )
    seq: int = Field(sa_column=Column(Integer, nullable=False))
    kind: str = Field(sa_column=Column(String(30), nullable=False))
    action: str | None = Field(default=None, sa_column=Column(String(30)))
    from_status: str | None = Field(default=None, sa_column=Column(String(24)))
    to_status: str | None = Field(default=None, sa_column=Column(String(24)))
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ReferenceCounter(SQLModel, table=True):
    """The complaint reference counter on SQLite (PostgreSQL uses a sequence)."""

    __tablename__ = "reference_counter"

    name: str = Field(sa_column=Column(String(40), primary_key=True))
    value: int = Field(sa_column=Column(Integer, nullable=False))
