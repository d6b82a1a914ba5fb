"""Webhook subscriptions and the delivery log (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.core.db import ReadSession, WriteSession
from app.core.deps import Now, RequestId
from app.core.errors import problem_doc_responses
from app.core.fields import MAX_ID
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.webhooks import service
from app.webhooks.events import EventType
from app.webhooks.schemas import (
    DeliveryStatus,
    WebhookDeliveryDetail,
    WebhookDeliveryPage,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionList,
    WebhookSubscriptionRead,
)

router = APIRouter(tags=["webhooks"])

SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID, description="The subscription's id.")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The delivery's id.")]


@router.post(
    "/v1/webhook-subscriptions",
    operation_id="webhooks_create_subscription",
    summary="Create a webhook subscription",
    status_code=201,
    response_model=WebhookSubscriptionCreated,
    responses=problem_doc_responses(400, 401, 403, 413, 422),
)
async def create_subscription(
    body: WebhookSubscriptionCreate,
    request: Request,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
) -> WebhookSubscriptionCreated:
    """Events of the listed types written from now on are POSTed to `url` as
    `{id, type, occurred_at, data}`, signed `X-Signature: sha256=<hex HMAC-SHA256 of the body>`
    with the secret, in order, retried with back-off. The secret is returned here only."""
    return await service.create_subscription(
        session,
        body=body,
        actor=Actor(principal, request_id),
        now=now,
        allowed_hosts=request.app.state.settings.webhook_allowed_hosts,
    )


@router.get(
    "/v1/webhook-subscriptions",
    operation_id="webhooks_list_subscriptions",
    summary="List webhook subscriptions",
    response_model=WebhookSubscriptionList,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_subscriptions(principal: Caller, session: ReadSession) -> WebhookSubscriptionList:
    """Every live subscription with its pending and dead delivery counts (no secrets)."""
    return WebhookSubscriptionList(items=await service.list_subscriptions(session))


@router.get(
    "/v1/webhook-subscriptions/{subscription_id}",
    operation_id="webhooks_get_subscription",
    summary="Get a webhook subscription",
    response_model=WebhookSubscriptionRead,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_subscription(
    subscription_id: SubscriptionId, principal: Caller, session: ReadSession
) -> WebhookSubscriptionRead:
    """One live subscription (no secret)."""
    return await service.get_subscription(session, subscription_id)


@router.delete(
    "/v1/webhook-subscriptions/{subscription_id}",
    operation_id="webhooks_delete_subscription",
    summary="Delete a webhook subscription",
    status_code=204,
    response_class=Response,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def delete_subscription(
    subscription_id: SubscriptionId,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
) -> Response:
    """No further events are written for it and its pending deliveries are cancelled; its
    delivery log stays readable."""
    await service.delete_subscription(
        session, subscription_id=subscription_id, actor=Actor(principal, request_id), now=now
    )
    return Response(status_code=204)


@router.get(
    "/v1/webhook-deliveries",
    operation_id="webhooks_list_deliveries",
    summary="List webhook deliveries",
    response_model=WebhookDeliveryPage,
    responses=problem_doc_responses(401, 403, 422),
)
async def list_deliveries(
    principal: Caller,
    session: ReadSession,
    status: DeliveryStatus | None = None,
    subscription_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    event_type: EventType | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> WebhookDeliveryPage:
    """Newest first; `status=dead` lists what failed past the retry limit."""
    return await service.list_deliveries(
        session,
        filters=service.DeliveryFilter(
            status=status,
            subscription_id=subscription_id,
            event_type=None if event_type is None else event_type.value,
        ),
        limit=limit,
        cursor=cursor,
    )


@router.get(
    "/v1/webhook-deliveries/{delivery_id}",
    operation_id="webhooks_get_delivery",
    summary="Get a webhook delivery with its attempts",
    response_model=WebhookDeliveryDetail,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def get_delivery(
    delivery_id: DeliveryId, principal: Caller, session: ReadSession
) -> WebhookDeliveryDetail:
    """The event sent, its status and every attempt (status code, latency, error)."""
    return await service.get_delivery(session, delivery_id)


@router.post(
    "/v1/webhook-deliveries/{delivery_id}/redeliver",
    operation_id="webhooks_redeliver",
    summary="Redeliver a webhook delivery",
    response_model=WebhookDeliveryDetail,
    responses=problem_doc_responses(401, 403, 404, 409, 422),
)
async def redeliver(
    delivery_id: DeliveryId,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
) -> WebhookDeliveryDetail:
    """Queue a dead (or delivered) delivery again with a fresh retry window; 409 when it is
    still pending or its subscription was deleted."""
    return await service.redeliver(
        session, delivery_id=delivery_id, actor=Actor(principal, request_id), now=now
    )
