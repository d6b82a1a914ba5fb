"""The audit log: who (which key) did what to which record, and when. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One audited change."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    action: str = Field(sa_column=Column(String(60), nullable=False))
    entity_type: str = Field(sa_column=Column(String(40), nullable=False))
    entity_id: str = Field(sa_column=Column(String(100), nullable=False))
    request_id: str | None = Field(default=None, sa_column=Column(String(64)))
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
