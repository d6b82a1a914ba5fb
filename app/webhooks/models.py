"""The outbox and webhook tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, Text
from sqlmodel import Column, Field, SQLModel, String

from app.core.db import UTCDateTime


class OutboxEvent(SQLModel, table=True):
    """An event, written in the transaction of the change it reports; never updated."""

    __tablename__ = "outbox_event"
    # AUTOINCREMENT on SQLite: ids are what receivers deduplicate on, never reused after a purge.
    __table_args__ = (
        Index("ix_outbox_event_occurred_at", "occurred_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(sa_column=Column(String(40), nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class WebhookSubscription(SQLModel, table=True):
    """A URL that receives the events it names, signed with its secret."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Kept to sign deliveries; no API response ever contains it after creation.
    secret: str = Field(sa_column=Column(String(200), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(String(200)))
    # The oldest pending delivery failed: nothing is sent to this URL before this instant
    # (deliveries to one subscription go out in order).
    blocked_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # When a worker last sent a batch here: workers take the longest-waiting subscription.
    last_batch_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_by: str = Field(sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class WebhookSubscriptionEvent(SQLModel, table=True):
    """One event type a live subscription receives: the outbox joins on this, indexed."""

    __tablename__ = "webhook_subscription_event"
    __table_args__ = (Index("ix_webhook_subscription_event_type", "event_type"),)

    subscription_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("webhook_subscription.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    event_type: str = Field(sa_column=Column(String(40), primary_key=True))


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscription: pending until delivered, or dead after the retry limit."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_subscription", "subscription_id", "status", "id"),
        Index("ix_webhook_delivery_status_id", "status", "id"),
        Index("ix_webhook_delivery_event", "event_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhook_subscription.id", ondelete="RESTRICT"), nullable=False
        )
    )
    event_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("outbox_event.id", ondelete="RESTRICT"), nullable=False
        )
    )
    status: str = Field(sa_column=Column(String(12), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    # Set by the first attempt (a redeliver sets it again): retries stop (dead) once it is
    # older than the retry limit.
    window_started_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhook_delivery.id", ondelete="CASCADE"), nullable=False
        )
    )
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    latency_ms: float = Field(sa_column=Column(Float, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    worker: str = Field(sa_column=Column(String(100), nullable=False))
