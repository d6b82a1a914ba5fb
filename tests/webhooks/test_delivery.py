"""Outbox and delivery, in process, against a real local receiver, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from app.webhooks import delivery, outbox
from app.webhooks.signing import sign
from app.worker import Worker
from tests.claims.helpers import assert_problem, move, put_claim
from tests.followups.helpers import act, file
from tests.webhooks.receiver import Receiver

SECRET = "whsec_test_0123456789abcdef"
T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A receiver that verifies signatures with SECRET."""
    r = Receiver(secret=SECRET)
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Short timeouts and retry steps, so failure paths run in test time."""
    return {
        "webhook_timeout_seconds": 0.5,
        "webhook_retry_base": timedelta(seconds=10),
        "webhook_retry_max_delay": timedelta(minutes=10),
        "webhook_retry_limit": timedelta(hours=1),
    }


async def subscribe(client, keys, url: str, events: list[str], secret: str = SECRET) -> dict:
    """Create a subscription (admin) and return it."""
    response = await client.post(
        "/v1/webhook-subscriptions",
        json={"url": url, "events": events, "secret": secret},
        headers=keys["admin"],
    )
    assert response.status_code == 201, response.text
    return response.json()


class Driver:
    """The app's worker, driven batch by batch with a fixed jitter."""

    def __init__(self, app, client: httpx.AsyncClient) -> None:
        self.app = app
        self.worker = Worker(
            app.state.db, app.state.settings, ctx=app.state.deadlines, clock=app.state.clock
        )
        cfg = delivery.DeliveryConfig.from_settings(app.state.settings)
        self.sender = delivery.Sender(
            client, cfg, worker="test", clock=lambda: app.state.clock(), jitter=lambda: 0.0
        )

    async def drain(self) -> int:
        """Send batches until nothing is due; the number of attempts."""
        total = 0
        while (sent := await self.worker.deliver_once(self.sender)) > 0:
            total += sent
        return total


@pytest.fixture
async def driver(app, clock) -> AsyncIterator[Driver]:
    """A worker over a real HTTP client (the receiver is a real server)."""
    async with httpx.AsyncClient(timeout=0.5, trust_env=False) as http:
        yield Driver(app, http)


async def rows(app, sql: str) -> list[tuple]:
    """Rows of a query on the app's database."""
    async with app.state.db.read_engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(text(sql))).all()]


async def test_events_are_delivered_signed_in_order(client, keys, receiver, driver, clock):
    await subscribe(client, keys, receiver.url, ["claim.stage_changed", "complaint.created"])
    claims = keys["claims_system"]
    assert (await put_claim(client, claims, "CLM-W1")).status_code == 201
    for stage, at in (
        ("survey_assessment", "2026-11-03T10:00:00+08:00"),
        ("document_review", "2026-11-05T10:00:00+08:00"),
        ("adjustment", "2026-11-06T10:00:00+08:00"),
    ):
        assert (await move(client, claims, stage, at, "CLM-W1")).status_code == 201
    complaint = await file(client, keys["call_center"], claim_no="CLM-W1")
    assert await driver.drain() == 4
    bodies = receiver.delivered
    assert [b["type"] for b in bodies] == ["claim.stage_changed"] * 3 + ["complaint.created"]
    assert [b["data"].get("seq") for b in bodies[:3]] == [1, 2, 3]
    assert [b["data"]["to_stage"] for b in bodies[:3]] == [
        "survey_assessment",
        "document_review",
        "adjustment",
    ]
    created = bodies[3]["data"]
    assert created["complaint_id"] == complaint["id"]
    assert created["reference"] == complaint["reference"]
    assert "complainant" not in created and "text" not in created  # no personal data
    assert all(r.signature_ok for r in receiver.requests)
    assert set(bodies[0]) == {"id", "type", "occurred_at", "data"}
    ids = [b["id"] for b in bodies]
    assert ids == sorted(ids) and len(set(ids)) == 4
    first = receiver.requests[0]
    assert first.headers["x-claimdesk-event"] == "claim.stage_changed"
    assert first.headers["x-claimdesk-attempt"] == "1"
    # nothing left; a second drain sends nothing
    assert await driver.drain() == 0
    assert (await rows(driver.app, "SELECT count(*) FROM webhook_delivery "
                       "WHERE status = 'delivered'"))[0][0] == 4  # fmt: skip


async def test_signature_is_hmac_of_the_exact_body(client, keys, receiver, driver):
    await subscribe(client, keys, receiver.url, ["complaint.created"])
    await file(client, keys["call_center"])
    await driver.drain()
    (request,) = receiver.requests
    import orjson

    raw = orjson.dumps(request.body)
    assert request.headers["x-signature"] == sign(raw, SECRET)
    assert request.headers["x-signature"].startswith("sha256=")


async def test_only_subscribed_types_and_live_subscriptions_get_events(
    client, keys, receiver, driver
):
    other = Receiver(secret=SECRET)
    await other.start()
    try:
        await subscribe(client, keys, receiver.url, ["complaint.status_changed"])
        gone = await subscribe(client, keys, other.url, ["complaint.created"])
        complaint = await file(client, keys["call_center"])
        deleted = await client.delete(
            f"/v1/webhook-subscriptions/{gone['id']}", headers=keys["admin"]
        )
        assert deleted.status_code == 204
        await file(client, keys["call_center"])  # after the delete: no delivery at all
        assert (
            await act(client, keys["call_center"], complaint["id"], "acknowledge")
        ).status_code == 200
        await driver.drain()
        assert [b["type"] for b in receiver.delivered] == ["complaint.status_changed"]
        change = receiver.delivered[0]["data"]
        assert (change["from_status"], change["to_status"], change["action"]) == (
            "received",
            "acknowledged",
            "acknowledge",
        )
        assert other.requests == []  # its one pending delivery was cancelled
        cancelled = await client.get(
            "/v1/webhook-deliveries",
            params={"status": "cancelled", "subscription_id": gone["id"]},
            headers=keys["admin"],
        )
        assert len(cancelled.json()["items"]) == 1
    finally:
        await other.stop()


async def test_a_change_that_fails_after_its_event_leaves_neither(
    client, keys, receiver, driver, monkeypatch
):
    await subscribe(client, keys, receiver.url, ["complaint.status_changed"])
    complaint = await file(client, keys["call_center"])
    real_emit = outbox.emit

    async def emit_then_crash(*args, **kwargs):
        await real_emit(*args, **kwargs)
        raise RuntimeError("crash after the event was written")

    monkeypatch.setattr(outbox, "emit", emit_then_crash)
    crashed = await act(client, keys["call_center"], complaint["id"], "acknowledge")
    assert crashed.status_code == 500
    monkeypatch.setattr(outbox, "emit", real_emit)
    assert await rows(driver.app, "SELECT count(*) FROM outbox_event") == [(1,)]  # the intake
    assert await rows(driver.app, "SELECT count(*) FROM webhook_delivery") == [(0,)]
    again = await client.get(f"/v1/complaints/{complaint['id']}", headers=keys["call_center"])
    assert again.json()["status"] == "received"
    await driver.drain()
    assert receiver.requests == []


async def test_receiver_errors_are_retried_with_back_off(client, keys, receiver, driver, clock):
    await subscribe(client, keys, receiver.url, ["complaint.created"])
    receiver.status = 500
    await file(client, keys["call_center"])
    await file(client, keys["call_center"])
    assert await driver.drain() == 1  # the head failed; the second waits behind it
    delivery_row = (await client.get("/v1/webhook-deliveries", headers=keys["admin"])).json()
    head = delivery_row["items"][-1]
    assert head["status"] == "pending" and head["attempts"] == 1
    assert head["last_status_code"] == 500 and head["last_error"] == "HTTP 500"
    # back-off: base 10 s, jitter 0 → half a step (5 s); not sent before that
    assert datetime.fromisoformat(head["next_attempt_at"]) == clock.now + timedelta(seconds=5)
    clock.now += timedelta(seconds=4)
    assert await driver.drain() == 0
    clock.now += timedelta(seconds=1)
    assert await driver.drain() == 1  # second failure: next step 10 s
    clock.now += timedelta(seconds=9)
    assert await driver.drain() == 0
    receiver.status = 200
    clock.now += timedelta(seconds=1)
    assert await driver.drain() == 2
    assert [b["data"]["complaint_id"] for b in receiver.delivered] == sorted(
        b["data"]["complaint_id"] for b in receiver.delivered
    )
    detail = (
        await client.get(f"/v1/webhook-deliveries/{head['id']}", headers=keys["admin"])
    ).json()
    assert detail["status"] == "delivered" and detail["attempts"] == 3
    assert [a["status_code"] for a in detail["attempts_log"]] == [500, 500, 200]
    assert all(a["latency_ms"] >= 0 for a in detail["attempts_log"])


async def test_receiver_down_then_back_gets_everything(client, keys, receiver, driver, clock):
    await subscribe(client, keys, receiver.url, ["complaint.created"])
    await receiver.stop()
    filed = [(await file(client, keys["call_center"]))["id"] for _ in range(5)]
    for _ in range(3):
        assert await driver.drain() == 1
        clock.now += timedelta(minutes=10)
    detail = (await client.get("/v1/webhook-deliveries", headers=keys["admin"])).json()
    assert "ConnectError" in detail["items"][-1]["last_error"]
    await receiver.start()
    assert await driver.drain() == 5
    assert [b["data"]["complaint_id"] for b in receiver.delivered] == filed


async def test_stuck_receiver_times_out_and_is_retried(client, keys, receiver, driver, clock):
    await subscribe(client, keys, receiver.url, ["complaint.created"])
    receiver.delay = 2.0  # longer than the 0.5 s timeout
    await file(client, keys["call_center"])
    assert await driver.drain() == 1
    items = (await client.get("/v1/webhook-deliveries", headers=keys["admin"])).json()["items"]
    assert items[0]["status"] == "pending"
    assert items[0]["last_error"] == "timeout after 0.5 s"
    receiver.delay = 0.0
    clock.now += timedelta(seconds=5)
    assert await driver.drain() == 1
    assert len(receiver.delivered) == 1


async def test_past_the_retry_limit_a_delivery_is_dead_and_can_be_redelivered(
    client, keys, receiver, driver, clock
):
    await subscribe(client, keys, receiver.url, ["complaint.created"])
    receiver.status = 503
    first = await file(client, keys["call_center"])
    second = await file(client, keys["call_center"])
    await driver.drain()
    clock.now += timedelta(hours=1)  # the limit
    # the head dies and the next one is tried at once (dead is not pending); its retry window
    # starts at its own first attempt, so it is not dead yet
    assert await driver.drain() == 2
    dead = await client.get(
        "/v1/webhook-deliveries", params={"status": "dead"}, headers=keys["admin"]
    )
    (item,) = dead.json()["items"]
    assert item["event"]["data"]["complaint_id"] == first["id"]
    assert item["status"] == "dead" and item["next_attempt_at"] is None
    receiver.status = 200
    clock.now += timedelta(minutes=30)
    redelivered = await client.post(
        f"/v1/webhook-deliveries/{item['id']}/redeliver", headers=keys["admin"]
    )
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json()["status"] == "pending"
    again = await client.post(
        f"/v1/webhook-deliveries/{item['id']}/redeliver", headers=keys["admin"]
    )
    assert_problem(again, 409)
    await driver.drain()
    delivered_ids = [b["data"]["complaint_id"] for b in receiver.delivered]
    assert first["id"] in delivered_ids and second["id"] in delivered_ids
    listing = await client.get("/v1/webhook-subscriptions", headers=keys["admin"])
    (sub,) = listing.json()["items"]
    assert sub["pending"] == 0 and sub["dead"] == 0


async def test_bad_signature_secret_is_a_failed_delivery(client, keys, receiver, driver):
    await subscribe(client, keys, receiver.url, ["complaint.created"], secret="x" * 16)
    await file(client, keys["call_center"])
    await driver.drain()
    assert receiver.requests[0].signature_ok is False
    assert receiver.delivered == []


async def test_a_slow_receiver_never_holds_up_changes(client, keys, receiver, driver):
    await subscribe(client, keys, receiver.url, ["claim.stage_changed"])
    claims = keys["claims_system"]
    assert (await put_claim(client, claims, "CLM-W3")).status_code == 201
    at = "2026-11-03T10:00:00+08:00"
    assert (await move(client, claims, "survey_assessment", at, "CLM-W3")).status_code == 201
    receiver.delay = 0.4  # under the 0.5 s timeout: the batch is in flight for a while
    sending = asyncio.create_task(driver.drain())
    while not receiver.begun and not sending.done():  # noqa: ASYNC110 - polls a counter
        await asyncio.sleep(0.01)
    started = time.perf_counter()
    # a change that writes a delivery for the subscription being sent to
    moved = await move(client, claims, "document_review", "2026-11-04T10:00:00+08:00", "CLM-W3")
    waited = time.perf_counter() - started
    assert moved.status_code == 201
    await sending
    assert waited < 0.3, f"the stage event waited {waited:.2f} s for a delivery batch"
    receiver.delay = 0.0
    await driver.drain()
    assert [b["data"]["seq"] for b in receiver.delivered] == [1, 2]


async def test_an_undeliverable_url_is_a_failed_attempt_not_a_stuck_worker(
    client, keys, receiver, driver
):
    good = await subscribe(client, keys, receiver.url, ["complaint.created"])
    # stored before today's validation existed: httpx refuses it at send time
    async with driver.app.state.db.transaction() as conn:
        await conn.execute(
            text(
                "UPDATE webhook_subscription SET url = 'http://xn--zz.example/hook' WHERE id = :id"
            ),
            {"id": good["id"]},
        )
    other = await subscribe(client, keys, receiver.url, ["complaint.created"])
    await file(client, keys["call_center"])
    assert await driver.drain() == 2
    assert len(receiver.delivered) == 1  # the healthy subscription got its event
    items = (
        await client.get(
            "/v1/webhook-deliveries",
            params={"subscription_id": good["id"]},
            headers=keys["admin"],
        )
    ).json()["items"]
    assert items[0]["status"] == "pending" and items[0]["last_error"]
    assert other["id"] != good["id"]
