"""API keys: stored as SHA-256 digests, never in clear."""

from __future__ import annotations

from datetime import datetime

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
