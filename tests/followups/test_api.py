"""Follow-ups end to end on SQLite and PostgreSQL: creation rules, completion rules, the work
list, the resolve rule and the callback it schedules, retries, roles and concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.claims.helpers import assert_problem
from tests.followups.helpers import act, file, follow_up, resolve, timeline

pytestmark = pytest.mark.usefixtures("clock")

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["contact", "analysis", "resolution_proposal", "callback", "note"])
async def test_each_kind_is_recorded_and_shown_in_the_timeline(client, keys, kind) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    response = await follow_up(
        client, h, cid, kind, due_at="2026-11-26T10:00:00+08:00", assignee="handler-07"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == kind and body["status"] == "open"
    assert body["complaint_id"] == cid and body["complaint_reference"].startswith("CMP-")
    assert body["due_at"] == "2026-11-26T02:00:00Z"
    assert body["assignee"] == "handler-07" and body["round"] == 0
    assert body["overdue"] is False and body["created_by"] == "test-call_center"
    last = (await timeline(client, h, cid))[-1]
    assert (last["kind"], last["action"]) == ("follow_up", "created")
    assert last["detail"]["follow_up_id"] == body["id"] and last["note"] == f"{kind} note"


async def test_third_party_assessment_names_its_assessor_and_records_the_amount(
    client, keys
) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    assert_problem(await follow_up(client, h, cid, "third_party_assessment"), 422)
    assert_problem(await follow_up(client, h, cid, "contact", assessor="華信公估"), 422)
    created = await follow_up(client, h, cid, "third_party_assessment", assessor="華信公估")
    assert created.status_code == 201
    fid = created.json()["id"]
    no_amount = await client.patch(
        f"/v1/follow-ups/{fid}", json={"status": "done", "outcome": "assessed"}, headers=h
    )
    assert_problem(no_amount, 422)
    done = await client.patch(
        f"/v1/follow-ups/{fid}",
        json={
            "status": "done",
            "outcome": "Assessed at the shop's quote.",
            "result_amount": "4200.50",
        },
        headers=h,
    )
    assert done.status_code == 200, done.text
    assert done.json()["result_amount"] == "4200.50"
    assert done.json()["assessor"] == "華信公估"
    last = (await timeline(client, h, cid))[-1]
    assert (last["action"], last["detail"]["result_amount"]) == ("done", "4200.50")


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "visit", "note": "x"},
        {"kind": "contact"},
        {"kind": "contact", "note": "   "},
        {"kind": "contact", "note": "x", "due_at": "2026-11-26T10:00:00"},
        {"kind": "contact", "note": "x", "extra": 1},
        {"kind": "contact", "note": "x" * 4001},
    ],
    ids=["unknown-kind", "no-note", "blank-note", "naive-due", "unknown-field", "long-note"],
)
async def test_bad_follow_ups_are_422(client, keys, body) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    response = await client.post(f"/v1/complaints/{cid}/follow-ups", json=body, headers=h)
    assert_problem(response, 422)


async def test_unknown_complaint_is_404(client, keys) -> None:
    assert_problem(await follow_up(client, keys["call_center"], 999999), 404)


async def test_a_closed_complaint_takes_no_follow_ups(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    assert (await act(client, h, cid, "close", reason="withdrawn")).status_code == 200
    body = assert_problem(await follow_up(client, h, cid), 409)
    assert body["current"] == "closed"


async def test_completion_needs_an_outcome_and_is_final(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    fid = (await follow_up(client, h, cid)).json()["id"]
    url = f"/v1/follow-ups/{fid}"
    assert_problem(await client.patch(url, json={"status": "done"}, headers=h), 422)
    assert_problem(await client.patch(url, json={}, headers=h), 422)
    assert_problem(await client.patch(url, json={"result_amount": "1.00"}, headers=h), 422)
    done = await client.patch(url, json={"status": "done", "outcome": "Called back."}, headers=h)
    assert done.status_code == 200
    assert done.json()["completed_by"] == "test-call_center"
    assert done.json()["completed_at"] == "2026-11-24T12:00:00Z"
    again = await client.patch(url, json={"status": "cancelled"}, headers=h)
    assert assert_problem(again, 409)["current"] == "done"
    moved = await client.patch(url, json={"due_at": "2026-12-01T00:00:00Z"}, headers=h)
    assert_problem(moved, 409)


async def test_completing_a_cancelled_follow_up_is_409(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    fid = (await follow_up(client, h, cid)).json()["id"]
    url = f"/v1/follow-ups/{fid}"
    assert (await client.patch(url, json={"status": "cancelled"}, headers=h)).status_code == 200
    late = await client.patch(url, json={"status": "done", "outcome": "done anyway"}, headers=h)
    assert assert_problem(late, 409)["current"] == "cancelled"


async def test_reschedule_and_reassign_with_if_match(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    fid = (await follow_up(client, h, cid, due_at="2026-11-25T00:00:00Z")).json()["id"]
    url = f"/v1/follow-ups/{fid}"
    tag = (await client.get(url, headers=h)).headers["etag"]
    moved = await client.patch(
        url, json={"due_at": "2026-11-28T00:00:00Z"}, headers={**h, "If-Match": tag}
    )
    assert moved.status_code == 200
    assert moved.json()["due_at"] == "2026-11-28T00:00:00Z" and moved.json()["status"] == "open"
    stale = await client.patch(url, json={"assignee": "x"}, headers={**h, "If-Match": tag})
    assert_problem(stale, 412)
    reassigned = await client.patch(url, json={"assignee": "handler-09"}, headers=h)
    assert reassigned.json()["assignee"] == "handler-09"
    actions = [e["action"] for e in await timeline(client, h, cid) if e["kind"] == "follow_up"]
    assert actions == ["created", "rescheduled", "reassigned"]


async def test_unknown_follow_up_is_404(client, keys) -> None:
    h = keys["call_center"]
    assert_problem(await client.get("/v1/follow-ups/999999", headers=h), 404)
    patched = await client.patch("/v1/follow-ups/999999", json={"status": "cancelled"}, headers=h)
    assert_problem(patched, 404)


async def test_work_list_orders_by_due_time_and_filters(client, keys, clock) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    other = (await file(client, h))["id"]
    made = {}
    for name, due, assignee, complaint in [
        ("late", "2026-11-23T00:00:00Z", "amy", cid),
        ("soon", "2026-11-25T00:00:00Z", "amy", cid),
        ("later", "2026-11-30T00:00:00Z", "bob", other),
        ("open-ended", None, "amy", other),
        ("earliest", "2026-11-20T00:00:00Z", "bob", cid),
    ]:
        extra = {"assignee": assignee, **({"due_at": due} if due else {})}
        made[name] = (await follow_up(client, h, complaint, **extra)).json()["id"]
    await client.patch(
        f"/v1/follow-ups/{made['earliest']}", json={"status": "done", "outcome": "ok"}, headers=h
    )

    async def names(**params) -> list[str]:
        response = await client.get("/v1/follow-ups", params=params, headers=h)
        assert response.status_code == 200, response.text
        by_id = {v: k for k, v in made.items()}
        return [by_id[item["id"]] for item in response.json()["items"]]

    assert await names() == ["earliest", "late", "soon", "later", "open-ended"]
    assert await names(assignee="amy") == ["late", "soon", "open-ended"]
    assert await names(status="open") == ["late", "soon", "later", "open-ended"]
    assert await names(status="done") == ["earliest"]
    assert await names(overdue="true") == ["late"]
    assert await names(overdue="false") == ["earliest", "soon", "later", "open-ended"]
    assert await names(due_before="2026-11-26T00:00:00Z") == ["earliest", "late", "soon"]
    assert await names(complaint_id=other) == ["later", "open-ended"]
    assert await names(kind="contact", status="open", assignee="bob") == ["later"]
    clock.now = NOW + timedelta(days=2)  # "soon" is now overdue too
    assert await names(overdue="true") == ["late", "soon"]
    items = (await client.get("/v1/follow-ups", params={"overdue": "true"}, headers=h)).json()
    assert all(item["overdue"] for item in items["items"])


async def test_work_list_pages_are_complete(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    ids = set()
    for i in range(7):
        due = {"due_at": f"2026-11-2{i % 3 + 5}T00:00:00Z"} if i % 4 else {}
        ids.add((await follow_up(client, h, cid, **due)).json()["id"])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/follow-ups", params=params, headers=h)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 7 and set(seen) == ids
    bad = await client.get("/v1/follow-ups", params={"cursor": "nonsense"}, headers=h)
    assert_problem(bad, 422)


async def test_resolve_needs_a_resolution_proposal_in_this_round(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    await act(client, h, cid, "acknowledge")
    await act(client, h, cid, "start_investigation")
    await act(client, h, cid, "propose_resolution")
    body = assert_problem(await act(client, h, cid, "resolve"), 409)
    assert body["missing"] == ["resolution_proposal"]
    # A cancelled proposal does not count.
    fid = (await follow_up(client, h, cid, "resolution_proposal")).json()["id"]
    await client.patch(f"/v1/follow-ups/{fid}", json={"status": "cancelled"}, headers=h)
    assert_problem(await act(client, h, cid, "resolve"), 409)
    await resolve(client, h, cid)
    # After a reopen the earlier round's proposal no longer counts.
    assert (await act(client, h, cid, "reopen")).status_code == 200
    await act(client, h, cid, "propose_resolution")
    assert assert_problem(await act(client, h, cid, "resolve"), 409)["missing"] == [
        "resolution_proposal"
    ]
    resolved = await resolve(client, h, cid)
    assert resolved["status"] == "resolved" and resolved["reopen_count"] == 1


async def test_resolving_schedules_a_callback_to_check_the_remedy(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    await client.patch(
        f"/v1/complaints/{cid}", json={"assignee": "handler-07"}, headers=keys["supervisor"]
    )
    await resolve(client, h, cid)
    listed = await client.get(
        "/v1/follow-ups", params={"complaint_id": cid, "kind": "callback"}, headers=h
    )
    [callback] = listed.json()["items"]
    assert callback["status"] == "open"
    assert callback["due_at"] == "2026-11-27T12:00:00Z"  # three days after resolving
    assert callback["assignee"] == "handler-07"
    entry = [e for e in await timeline(client, h, cid) if e["action"] == "scheduled"]
    assert entry and entry[0]["detail"]["follow_up_id"] == callback["id"]


@pytest.mark.parametrize("settings_overrides", [{"callback_delay": "PT2H"}], indirect=False)
async def test_callback_delay_is_configurable(client, keys, settings_overrides) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    await resolve(client, h, cid)
    listed = await client.get(
        "/v1/follow-ups", params={"complaint_id": cid, "kind": "callback"}, headers=h
    )
    assert listed.json()["items"][0]["due_at"] == "2026-11-24T14:00:00Z"


async def test_idempotency_key_replays_and_refuses_another_body(client, keys) -> None:
    h = {**keys["call_center"], "Idempotency-Key": "fu-1"}
    cid = (await file(client, keys["call_center"]))["id"]
    other = (await file(client, keys["call_center"]))["id"]
    first = await follow_up(client, h, cid, note="call the garage")
    again = await follow_up(client, h, cid, note="call the garage")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert_problem(await follow_up(client, h, cid, note="something else"), 422)
    assert_problem(await follow_up(client, h, other, note="call the garage"), 422)
    listed = await client.get(
        "/v1/follow-ups", params={"complaint_id": cid}, headers=keys["call_center"]
    )
    assert len(listed.json()["items"]) == 1


async def test_concurrent_follow_ups_keep_one_timeline_order(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    responses = await asyncio.gather(*(follow_up(client, h, cid, note=f"n{i}") for i in range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    entries = await timeline(client, h, cid)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert sum(e["kind"] == "follow_up" for e in entries) == 20


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("call_center", 201),
        ("supervisor", 201),
        ("admin", 201),
        ("portal", 403),
        ("claims_system", 403),
        (None, 401),
    ],
)
async def test_follow_up_roles(client, keys, role, status) -> None:
    cid = (await file(client, keys["call_center"]))["id"]
    response = await follow_up(client, keys[role] if role else {}, cid)
    assert response.status_code == status
    listed = await client.get("/v1/follow-ups", headers=keys[role] if role else {})
    assert listed.status_code == (200 if status == 201 else status)


async def test_an_external_assessment_the_complainant_was_told_of_pauses_the_reply_clock(
    client, keys, clock
) -> None:
    h = keys["call_center"]
    complaint = await file(client, h)
    cid = complaint["id"]
    assert complaint["due"]["reply_by"] == "2026-12-10T00:00:00+08:00"
    await act(client, h, cid, "acknowledge")
    assert_problem(await follow_up(client, h, cid, "contact", notified=True), 422)
    fid = (
        await follow_up(
            client, h, cid, "third_party_assessment", assessor="華信公估", notified=True
        )
    ).json()["id"]
    clock.now = NOW + timedelta(days=20)  # past the unpaused reply limit
    paused = (await client.get(f"/v1/complaints/{cid}", headers=h)).json()
    assert paused["overdue"] is False
    listed = await client.get("/v1/complaints", params={"overdue": "true"}, headers=h)
    assert cid not in [c["id"] for c in listed.json()["items"]]
    done = await client.patch(
        f"/v1/follow-ups/{fid}",
        json={"status": "done", "outcome": "assessed", "result_amount": "4200.00"},
        headers=h,
    )
    assert done.status_code == 200, done.text
    resumed = (await client.get(f"/v1/complaints/{cid}", headers=h)).json()
    # Paused from Nov 24 20:00 to Dec 14 20:00 (Beijing): 19 whole days are not counted.
    assert resumed["due"]["reply_by"] == "2026-12-29T00:00:00+08:00"
    assert resumed["overdue"] is False
    clock_events = [
        e["action"] for e in await timeline(client, h, cid) if e["kind"] == "reply_clock"
    ]
    assert clock_events == ["paused", "resumed"]


async def test_new_materials_restart_the_reply_period(client, keys, clock) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    clock.now = NOW + timedelta(days=6)  # 2026-11-30 20:00 Beijing
    response = await follow_up(client, h, cid, "contact", new_materials=True, note="新的维修清单")
    assert response.status_code == 201
    complaint = (await client.get(f"/v1/complaints/{cid}", headers=h)).json()
    assert complaint["due"]["reply_by"] == "2026-12-16T00:00:00+08:00"
    assert [e["action"] for e in await timeline(client, h, cid) if e["kind"] == "reply_clock"] == [
        "restarted"
    ]
    assert_problem(await follow_up(client, h, cid, "callback", new_materials=True), 422)
    await resolve(client, h, cid)
    await act(client, h, cid, "reopen")
    late = await follow_up(client, h, cid, "contact", new_materials=True)
    assert_problem(late, 409)  # a decision was given: its clock has stopped
