"""Leases that keep a singleton job to one process."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class WorkerLease(SQLModel, table=True):
    """Who runs a job that only one process may run (the SQLite worker), and until when."""

    __tablename__ = "worker_lease"

    name: str = Field(sa_column=Column(String(40), primary_key=True))
    holder: str = Field(sa_column=Column(String(100), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
