"""Webhook subscriptions (admin), the delivery log, redelivery and housekeeping."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import idna
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.pagination import decode_cursor, encode_cursor, keyset_id
from app.webhooks.models import (
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
    WebhookSubscriptionEvent,
)
from app.webhooks.schemas import (
    WebhookAttemptRead,
    WebhookDeliveryDetail,
    WebhookDeliveryPage,
    WebhookDeliveryRead,
    WebhookEventRead,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionRead,
)


def check_url(url: str, allowed_hosts: list[str]) -> None:
    """422 unless `url` is an absolute http(s) URL without credentials, on an allowed host.

    Integrations are internal, so private and loopback addresses are accepted; the optional
    allow-list (`.example.com` admits the domain and its subdomains) narrows that down.
    """
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise Unprocessable("url must not contain whitespace or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)  # what the worker will send to must parse the same way now
    except (ValueError, httpx.InvalidURL, UnicodeError) as exc:
        raise Unprocessable(f"url is not a valid URL: {exc}.") from None
    if parts.scheme not in ("http", "https"):
        raise Unprocessable("url must be an http:// or https:// URL.")
    host = parts.hostname
    if not host:
        raise Unprocessable("url has no host.")
    if parts.username is not None or parts.password is not None:
        raise Unprocessable("url must not carry credentials; deliveries are signed instead.")
    if parts.fragment:
        raise Unprocessable("url must not have a #fragment.")
    if port == 0:
        raise Unprocessable("url has port 0.")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not all(label and len(label) <= 63 for label in host.split(".")):
            raise Unprocessable("url has an invalid host name.") from None
        try:  # internationalised names must encode the way the HTTP client will encode them
            if not host.isascii():
                idna.encode(host)
            for label in host.split("."):
                if label.startswith("xn--"):
                    idna.decode(label)
        except idna.IDNAError as exc:
            raise Unprocessable(f"url has an invalid host name: {exc}.") from None
    if allowed_hosts and not any(
        host == allowed
        or (allowed.startswith(".") and (host.endswith(allowed) or host == allowed[1:]))
        for allowed in (a.lower() for a in allowed_hosts)
    ):
        raise Unprocessable(
            f"url host {host} is not in the allowed hosts (CLAIMDESK_WEBHOOK_ALLOWED_HOSTS).",
            allowed_hosts=allowed_hosts,
        )


async def _counts(session: AsyncSession, ids: list[int]) -> dict[tuple[int, str], int]:
    if not ids:
        return {}
    rows = await session.execute(
        select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count())
        .where(
            WebhookDelivery.subscription_id.in_(ids),  # type: ignore[attr-defined]
            WebhookDelivery.status.in_(("pending", "dead")),  # type: ignore[attr-defined]
        )
        .group_by(WebhookDelivery.subscription_id, WebhookDelivery.status)
    )
    return {(sid, status): n for sid, status, n in rows}


def _read(s: WebhookSubscription, counts: dict[tuple[int, str], int]) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": s.url,
        "events": s.events,
        "description": s.description,
        "pending": counts.get((s.id, "pending"), 0),  # type: ignore[arg-type]
        "dead": counts.get((s.id, "dead"), 0),  # type: ignore[arg-type]
        "blocked_until": s.blocked_until,
        "created_by": s.created_by,
        "created_at": s.created_at,
    }


async def create_subscription(
    session: AsyncSession,
    *,
    body: WebhookSubscriptionCreate,
    actor: Actor,
    now: datetime,
    allowed_hosts: list[str],
) -> WebhookSubscriptionCreated:
    """Store a subscription; it receives events written from now on."""
    check_url(body.url, allowed_hosts)
    secret = body.secret or "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        url=body.url,
        events=[e.value for e in body.events],
        secret=secret,
        description=body.description or None,
        created_by=actor.principal.name,
        created_at=now,
    )
    session.add(subscription)
    await session.flush()
    for event_type in body.events:
        session.add(
            WebhookSubscriptionEvent(
                subscription_id=subscription.id,  # type: ignore[arg-type]
                event_type=event_type.value,
            )
        )
    await session.flush()
    await audit.record(
        await session.connection(),
        actor,
        action="webhook_subscription.created",
        entity_type="webhook_subscription",
        entity_id=str(subscription.id),
        at=now,
        detail={"url": body.url, "events": subscription.events},  # never the secret
    )
    return WebhookSubscriptionCreated(**_read(subscription, {}), secret=secret)


async def list_subscriptions(session: AsyncSession) -> list[WebhookSubscriptionRead]:
    """Every live subscription, oldest first, with its pending and dead counts."""
    rows = (
        await session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.deleted_at.is_(None))  # type: ignore[union-attr]
            .order_by(WebhookSubscription.id)
        )
    ).all()
    counts = await _counts(session, [s.id for s in rows])  # type: ignore[misc]
    return [WebhookSubscriptionRead(**_read(s, counts)) for s in rows]


async def _live(session: AsyncSession, subscription_id: int) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.deleted_at is not None:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return subscription


async def get_subscription(session: AsyncSession, subscription_id: int) -> WebhookSubscriptionRead:
    """One live subscription."""
    subscription = await _live(session, subscription_id)
    counts = await _counts(session, [subscription_id])
    return WebhookSubscriptionRead(**_read(subscription, counts))


async def delete_subscription(
    session: AsyncSession, *, subscription_id: int, actor: Actor, now: datetime
) -> None:
    """Stop a subscription: no new deliveries, pending ones cancelled, the log kept."""
    subscription = await _live(session, subscription_id)
    subscription.deleted_at = now
    await session.execute(
        delete(WebhookSubscriptionEvent).where(
            WebhookSubscriptionEvent.subscription_id == subscription_id  # type: ignore[arg-type]
        )
    )
    cancelled = (
        await session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == subscription_id,  # type: ignore[arg-type]
                WebhookDelivery.status == "pending",  # type: ignore[arg-type]
            )
            .values(status="cancelled", next_attempt_at=None)
        )
    ).rowcount
    await session.flush()
    await audit.record(
        await session.connection(),
        actor,
        action="webhook_subscription.deleted",
        entity_type="webhook_subscription",
        entity_id=str(subscription_id),
        at=now,
        detail={"cancelled_deliveries": cancelled},
    )


# ---------------------------------------------------------------- deliveries


@dataclass(frozen=True)
class DeliveryFilter:
    """Filters of the delivery log."""

    status: str | None = None
    subscription_id: int | None = None
    event_type: str | None = None


def _delivery(d: WebhookDelivery, e: OutboxEvent, url: str) -> dict[str, Any]:
    return {
        "id": d.id,
        "subscription_id": d.subscription_id,
        "url": url,
        "event": WebhookEventRead(id=e.id, type=e.type, occurred_at=e.occurred_at, data=e.data),  # type: ignore[arg-type]
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
        "last_attempt_at": d.last_attempt_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "delivered_at": d.delivered_at,
        "created_at": d.created_at,
    }


def _joined() -> Any:
    return (
        select(WebhookDelivery, OutboxEvent, WebhookSubscription.url)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
    )


async def list_deliveries(
    session: AsyncSession, *, filters: DeliveryFilter, limit: int, cursor: str | None
) -> WebhookDeliveryPage:
    """The delivery log, newest first (keyset on id), filtered."""
    position = decode_cursor("webhook-deliveries", cursor)
    stmt = _joined().order_by(WebhookDelivery.id.desc()).limit(limit + 1)  # type: ignore[union-attr]
    if position is not None:
        stmt = stmt.where(WebhookDelivery.id < keyset_id(position))
    if filters.status is not None:
        stmt = stmt.where(WebhookDelivery.status == filters.status)
    if filters.subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == filters.subscription_id)
    if filters.event_type is not None:
        stmt = stmt.where(OutboxEvent.type == filters.event_type)
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return WebhookDeliveryPage(
        items=[WebhookDeliveryRead(**_delivery(d, e, url)) for d, e, url in rows],
        next_cursor=(
            encode_cursor("webhook-deliveries", [rows[-1][0].id]) if more and rows else None
        ),
    )


async def get_delivery(session: AsyncSession, delivery_id: int) -> WebhookDeliveryDetail:
    """One delivery with its attempts."""
    row = (await session.execute(_joined().where(WebhookDelivery.id == delivery_id))).first()
    if row is None:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    attempts = (
        await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)  # type: ignore[arg-type]
        )
    ).all()
    return WebhookDeliveryDetail(
        **_delivery(*row),
        attempts_log=[
            WebhookAttemptRead(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                latency_ms=a.latency_ms,
                error=a.error,
                worker=a.worker,
            )
            for a in attempts
        ],
    )


async def redeliver(
    session: AsyncSession, *, delivery_id: int, actor: Actor, now: datetime
) -> WebhookDeliveryDetail:
    """Send a dead (or already delivered) delivery again, with a fresh retry window.

    It goes out in its original place: deliveries to the subscription that are still
    pending wait behind it.
    """
    delivery = (
        await session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
        )
    ).first()
    if delivery is None:
        raise NotFound(f"No webhook delivery {delivery_id}.")
    if delivery.status not in ("dead", "delivered"):
        raise Conflict(
            f"This delivery is {delivery.status}; only dead or delivered ones are redelivered.",
            current=delivery.status,
        )
    subscription = await session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or subscription.deleted_at is not None:
        raise Conflict("The subscription was deleted; nothing can be delivered to it.")
    previous = delivery.status
    delivery.status = "pending"
    delivery.attempts = 0  # back-off starts over; the attempts log keeps the history
    delivery.window_started_at = now
    delivery.next_attempt_at = now
    subscription.blocked_until = None
    await session.flush()
    await audit.record(
        await session.connection(),
        actor,
        action="webhook_delivery.redelivered",
        entity_type="webhook_delivery",
        entity_id=str(delivery_id),
        at=now,
        detail={"from": previous},
    )
    return await get_delivery(session, delivery_id)


async def purge_batch(conn: Any, cutoff: datetime, batch: int = 2000) -> int:
    """Delete up to `batch` delivered or cancelled deliveries, then up to `batch` events nobody
    waits for, from before `cutoff`; the number of rows deleted (call until 0).

    Dead deliveries stay until an admin redelivers them (their events with them).
    """
    # Attempts go with their delivery (ON DELETE CASCADE).
    ids = (
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.status.in_(("delivered", "cancelled")),  # type: ignore[attr-defined]
            WebhookDelivery.created_at < cutoff,  # type: ignore[arg-type]
        )
        .limit(batch)
    )
    deliveries = await conn.execute(
        delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids))  # type: ignore[union-attr]
    )
    waited_for = select(WebhookDelivery.id).where(WebhookDelivery.event_id == OutboxEvent.id)
    orphans = (
        select(OutboxEvent.id)
        .where(OutboxEvent.occurred_at < cutoff, ~waited_for.exists())  # type: ignore[arg-type]
        .limit(batch)
    )
    events = await conn.execute(
        delete(OutboxEvent).where(OutboxEvent.id.in_(orphans))  # type: ignore[union-attr]
    )
    return deliveries.rowcount + events.rowcount
