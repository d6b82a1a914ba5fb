"""Webhook subscription and delivery request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.core.fields import PlainText
from app.core.pagination import Page
from app.webhooks.events import EventType

DeliveryStatus = Literal["pending", "delivered", "dead", "cancelled"]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[!-~]+$")]


class WebhookSubscriptionCreate(BaseModel):
    """A receiver URL, the event types it wants, and the secret its deliveries are signed with."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://crm.internal.example/claimdesk/events",
                    "events": ["complaint.created", "complaint.sla_breached"],
                    "secret": "whsec_7d4b1f0a9c2e4e8b8f3a6c5d",
                    "description": "CRM: open a case per complaint",
                }
            ]
        },
    )

    url: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), PlainText
    ]
    events: Annotated[list[EventType], Field(min_length=1, max_length=len(EventType))]
    secret: Secret | None = Field(
        default=None,
        description="16–200 printable ASCII characters; omitted: one is generated. Returned "
        "in this response only.",
    )
    description: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), PlainText] | None
    ) = None

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[EventType]) -> list[EventType]:
        if len(set(value)) != len(value):
            raise ValueError("events has duplicates")
        return value


class WebhookSubscriptionRead(BaseModel):
    """A subscription as stored (its secret is never shown again)."""

    id: int
    url: str
    events: list[EventType]
    description: str | None
    pending: int = Field(description="Deliveries waiting to be sent.")
    dead: int = Field(description="Deliveries that failed past the retry limit.")
    blocked_until: datetime | None = Field(
        description="The oldest pending delivery failed; nothing is sent before this instant."
    )
    created_by: str
    created_at: datetime


class WebhookSubscriptionCreated(WebhookSubscriptionRead):
    """The new subscription, with its secret: the only time the secret is returned."""

    secret: str


class WebhookSubscriptionList(BaseModel):
    """Every live subscription."""

    items: list[WebhookSubscriptionRead]


class WebhookEventRead(BaseModel):
    """The event a delivery carries: exactly the body the receiver gets."""

    id: int
    type: EventType
    occurred_at: datetime
    data: dict[str, Any]


class WebhookAttemptRead(BaseModel):
    """One POST of a delivery."""

    attempted_at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    worker: str


class WebhookDeliveryRead(BaseModel):
    """One event to one subscription."""

    id: int
    subscription_id: int
    url: str
    event: WebhookEventRead
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryDetail(WebhookDeliveryRead):
    """A delivery with every attempt, oldest first."""

    attempts_log: list[WebhookAttemptRead]


WebhookDeliveryPage = Page[WebhookDeliveryRead]
