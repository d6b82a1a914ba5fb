"""Stored models (every retrain, accepted or refused) and supervisors' overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, Text
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class ClassifierModel(SQLModel, table=True):
    """A retrained classifier. The model in use is the latest accepted one (or, when there is
    none, the model trained on the built-in data, which every process builds itself)."""

    __tablename__ = "classifier_model"
    __table_args__ = (Index("ix_classifier_model_accepted_id", "accepted", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(sa_column=Column(String(40), nullable=False))
    accepted: bool = Field(sa_column=Column(Boolean, nullable=False))
    decision: str = Field(sa_column=Column(Text, nullable=False))
    training_size: int = Field(sa_column=Column(Integer, nullable=False))
    overrides: int = Field(sa_column=Column(Integer, nullable=False))
    metrics: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # The serialised model (numpy archive, no pickle); only kept for accepted models.
    artifact: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ClassificationOverride(SQLModel, table=True):
    """A supervisor's correction of a complaint's cause: a labelled training example."""

    __tablename__ = "classification_override"
    __table_args__ = (Index("ix_classification_override_complaint", "complaint_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(
        sa_column=Column(Integer, ForeignKey("complaint.id", ondelete="CASCADE"), nullable=False)
    )
    text: str = Field(sa_column=Column(Text, nullable=False))
    subcause: str = Field(sa_column=Column(String(60), nullable=False))
    previous_subcause: str = Field(sa_column=Column(String(60), nullable=False))
    previous_model_version: str | None = Field(default=None, sa_column=Column(String(40)))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
