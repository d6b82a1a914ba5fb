"""What the deadline scanners have already announced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class DeadlineNotice(SQLModel, table=True):
    """A breach (or due time) announced once: the unique key makes a second notice impossible."""

    __tablename__ = "deadline_notice"
    __table_args__ = (UniqueConstraint("event_type", "entity_id", "deadline", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    event_type: str = Field(sa_column=Column(String(40), nullable=False))
    entity_id: str = Field(sa_column=Column(String(60), nullable=False))
    deadline: str = Field(sa_column=Column(String(60), nullable=False))
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    noticed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
