"""API keys: stored as SHA-256 digests, never in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class ApiKey(SQLModel, table=True):
    """A named bearer key with one role."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    role: str = Field(sa_column=Column(String(20), nullable=False))
    # Keys are 256-bit random tokens, so a fast digest is enough: no dictionary to guess from.
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    prefix: str = Field(sa_column=Column(String(12), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Requests per minute; NULL takes CLAIMDESK_RATE_LIMIT_PER_MINUTE, 0 means unlimited.
    rate_limit: int | None = Field(default=None, sa_column=Column(Integer()))


class RateWindow(SQLModel, table=True):
    """Requests reserved for one key in one one-minute window, summed over replicas."""

    __tablename__ = "rate_window"

    key_id: int = Field(sa_column=Column(Integer(), primary_key=True, autoincrement=False))
    # Minutes since the epoch.
    window_start: int = Field(sa_column=Column(BigInteger(), primary_key=True))
    requested: int = Field(sa_column=Column(BigInteger(), nullable=False))
