"""Complaints API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from tests.claims.helpers import assert_problem, move, put_claim

pytestmark = pytest.mark.usefixtures("clock")

BODY = {
    "channel": "phone",
    "text": "定损拖了两个月还没结果，一直没定损，等了很久也没人通知我进度",
    "complainant": {"name": "張三明", "phone": "13812345678", "id_number": "44030119900101123X"},
}


async def file(client: httpx.AsyncClient, headers: dict[str, str], **fields) -> httpx.Response:
    """POST a complaint with the default body, fields overridden."""
    return await client.post("/v1/complaints", json={**BODY, **fields}, headers=headers)


async def test_intake_returns_the_contract_fields(client: httpx.AsyncClient, keys) -> None:
    response = await file(client, keys["call_center"])
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(r"CMP-20261124-\d{6}", body["reference"])
    assert body["status"] == "received"
    assert body["classification"]["category"] in {
        "service_quality",
        "payout_dispute",
        "timeliness",
        "other",
    }
    assert body["classification"]["method"] in {"rules", "model"}
    assert body["classification"]["model_version"].startswith("hybrid-")
    assert body["priority"] in {"low", "normal", "high", "urgent"}
    # received 2026-11-24 20:00 Beijing time: acknowledge in 24 h, reply within 15 days.
    assert body["due"]["acknowledge_by"].startswith("2026-11-25T12:00:00")
    assert body["due"]["reply_by"] == "2026-12-10T00:00:00+08:00"
    assert body["claim_stage"] is None
    assert body["allowed_actions"][0] == "acknowledge"


async def test_intake_links_a_known_claim_and_records_its_stage(
    client: httpx.AsyncClient, keys
) -> None:
    await put_claim(client, keys["claims_system"])
    await move(client, keys["claims_system"], "survey_assessment", "2026-11-03T09:00:00+08:00")
    response = await file(client, keys["call_center"], claim_no="CLM-1")
    assert response.json()["claim_stage"] == "survey_assessment"
    second = (await file(client, keys["call_center"], claim_no="CLM-1")).json()
    assert "repeat_complaint" in [r["code"] for r in second["priority_reasons"]]
    assert second["priority"] in ("high", "urgent")


async def test_complaint_before_its_claim_is_linked_when_the_claim_arrives(
    client: httpx.AsyncClient, keys
) -> None:
    filed = (await file(client, keys["call_center"], claim_no="CLM-LATE")).json()
    assert filed["claim_stage"] is None
    await put_claim(client, keys["claims_system"], "CLM-LATE")
    again = (await client.get(f"/v1/complaints/{filed['id']}", headers=keys["call_center"])).json()
    assert again["claim_stage"] == "reported"
    claim = (await client.get("/v1/claims/CLM-LATE", headers=keys["supervisor"])).json()
    assert [c["reference"] for c in claim["open_complaints"]] == [filed["reference"]]


async def test_regulator_referral_is_urgent(client: httpx.AsyncClient, keys) -> None:
    body = (await file(client, keys["call_center"], channel="regulator_referral")).json()
    assert body["priority"] == "urgent"
    assert body["priority_reasons"][0]["code"] == "regulator_referral"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", ""),
        ("text", "   "),
        ("text", "x" * 10001),
        ("channel", "fax"),
        ("complainant", {"name": "A"}),
        ("complainant", {"name": "A", "phone": "abc"}),
        ("complainant", {"name": "A", "phone": "13812345678", "id_number": "123"}),
        ("disputed_amount", "-1"),
        ("disputed_amount", "12.345"),
        ("received_at", "2026-11-24T10:00:00"),
        ("claim_no", "CLM 1"),
        ("surprise", True),
    ],
)
async def test_invalid_intake_is_422(client: httpx.AsyncClient, keys, field, value) -> None:
    body = assert_problem(await file(client, keys["call_center"], **{field: value}), 422)
    assert body["errors"]


async def test_received_in_the_future_is_422(client: httpx.AsyncClient, keys) -> None:
    assert_problem(
        await file(client, keys["call_center"], received_at="2026-12-24T10:00:00+08:00"), 422
    )


async def test_idempotency_key_replays_and_refuses_another_body(
    client: httpx.AsyncClient, keys
) -> None:
    h = {**keys["call_center"], "Idempotency-Key": "k-1"}
    first = await client.post("/v1/complaints", json=BODY, headers=h)
    again = await client.post("/v1/complaints", json=BODY, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=h)
    assert_problem(other, 422)
    listed = (await client.get("/v1/complaints", headers=keys["call_center"])).json()
    assert len(listed["items"]) == 1


async def test_fifty_concurrent_retries_of_one_key_make_one_complaint(
    app, client: httpx.AsyncClient, keys
) -> None:
    h = {**keys["call_center"], "Idempotency-Key": "same-key"}
    responses = await asyncio.gather(
        *(client.post("/v1/complaints", json=BODY, headers=h) for _ in range(50))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    listed = (await client.get("/v1/complaints?limit=100", headers=keys["supervisor"])).json()
    assert len(listed["items"]) == 1
    # The replays wrote nothing: one timeline, one audit record, one event, one stored key.
    counts = {}
    async with app.state.db.session() as session:
        for table, where in [
            ("complaint_event", ""),
            ("audit_event", " WHERE action = 'complaint.created'"),
            ("outbox_event", " WHERE type = 'complaint.created'"),
            ("idempotency_record", ""),
        ]:
            counts[table] = (
                await session.execute(text(f"SELECT count(*) FROM {table}{where}"))
            ).scalar_one()
    assert counts == {
        "complaint_event": 2,
        "audit_event": 1,
        "outbox_event": 1,
        "idempotency_record": 1,
    }


async def test_two_hundred_concurrent_intakes_get_unique_references(
    client: httpx.AsyncClient, keys
) -> None:
    responses = await asyncio.gather(*(file(client, keys["call_center"]) for _ in range(200)))
    assert {r.status_code for r in responses} == {201}
    references = {r.json()["reference"] for r in responses}
    assert len(references) == 200


async def test_a_refused_intake_among_concurrent_ones_leaves_the_others_whole(
    client: httpx.AsyncClient, keys
) -> None:
    """On SQLite concurrent intakes share one commit; a refusal inside it undoes only itself."""
    h = keys["call_center"]
    used = {**h, "Idempotency-Key": "used-before"}
    assert (await client.post("/v1/complaints", json=BODY, headers=used)).status_code == 201
    responses = await asyncio.gather(
        *(file(client, {**h, "Idempotency-Key": f"fresh-{i}"}) for i in range(10)),
        client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=used),
    )
    assert [r.status_code for r in responses] == [201] * 10 + [422]
    listed = (await client.get("/v1/complaints?limit=100", headers=keys["supervisor"])).json()
    assert len(listed["items"]) == 11
    for response in responses[:10]:
        timeline = await client.get(f"/v1/complaints/{response.json()['id']}/timeline", headers=h)
        assert timeline.status_code == 200 and timeline.json()["items"], timeline.text


LIFECYCLE = [
    ("acknowledge", {}, "acknowledged"),
    ("start_investigation", {}, "investigating"),
    ("propose_resolution", {"notified": True}, "resolution_proposed"),
    ("resolve", {"notified": True}, "resolved"),
    ("close", {}, "closed"),
    ("reopen", {}, "investigating"),
]


async def test_lifecycle_with_timeline(client: httpx.AsyncClient, keys) -> None:
    h = keys["call_center"]
    created = (await file(client, h)).json()
    cid = created["id"]
    for action, extra, expected in LIFECYCLE:
        if action == "resolve":  # the method: a remedy is proposed before resolving
            proposal = await client.post(
                f"/v1/complaints/{cid}/follow-ups",
                json={"kind": "resolution_proposal", "note": "Re-assess at the 4S quote."},
                headers=h,
            )
            assert proposal.status_code == 201, proposal.text
        response = await client.post(
            f"/v1/complaints/{cid}/transitions", json={"action": action, **extra}, headers=h
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == expected
    final = (await client.get(f"/v1/complaints/{cid}", headers=h)).json()
    assert final["reopen_count"] == 1
    assert final["replied_at"] is not None
    timeline = (await client.get(f"/v1/complaints/{cid}/timeline", headers=h)).json()
    kinds = [(e["kind"], e["action"]) for e in timeline["items"]]
    assert kinds[:2] == [("intake", None), ("classification", None)]
    transitions = [a for k, a in kinds if k == "transition"]
    assert transitions == [a for a, _, _ in LIFECYCLE]
    follow_ups = [a for k, a in kinds if k == "follow_up"]
    assert follow_ups == ["created", "scheduled"]  # the proposal, then the callback
    assert [e["seq"] for e in timeline["items"]] == list(range(1, len(kinds) + 1))


async def test_illegal_action_is_409_with_allowed(client: httpx.AsyncClient, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h)).json()["id"]
    response = await client.post(
        f"/v1/complaints/{cid}/transitions", json={"action": "resolve"}, headers=h
    )
    body = assert_problem(response, 409)
    assert "acknowledge" in body["allowed"]


async def test_stale_if_match_on_transition_is_412(client: httpx.AsyncClient, keys) -> None:
    h = keys["call_center"]
    created = await file(client, h)
    cid = created.json()["id"]
    etag = (await client.get(f"/v1/complaints/{cid}", headers=h)).headers["etag"]
    ok = await client.post(
        f"/v1/complaints/{cid}/transitions",
        json={"action": "acknowledge"},
        headers={**h, "If-Match": etag},
    )
    assert ok.status_code == 200
    stale = await client.post(
        f"/v1/complaints/{cid}/transitions",
        json={"action": "start_investigation"},
        headers={**h, "If-Match": etag},
    )
    assert_problem(stale, 412)


async def test_escalate_raises_priority_and_extension_moves_reply_by(
    client: httpx.AsyncClient, keys
) -> None:
    h = keys["supervisor"]
    cid = (await file(client, h)).json()["id"]
    escalated = (
        await client.post(
            f"/v1/complaints/{cid}/transitions",
            json={"action": "escalate", "level": "management"},
            headers=h,
        )
    ).json()
    assert escalated["priority"] == "urgent" and escalated["escalation_level"] == "management"
    extended = await client.post(
        f"/v1/complaints/{cid}/transitions",
        json={"action": "extend_deadline", "reason": "complex", "note": "told by phone"},
        headers=h,
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["due"]["reply_by"] == "2026-12-25T00:00:00+08:00"
    missing_reason = await client.post(
        f"/v1/complaints/{cid}/transitions", json={"action": "extend_deadline"}, headers=h
    )
    assert_problem(missing_reason, 422)


async def test_assignment_is_for_supervisors(client: httpx.AsyncClient, keys) -> None:
    cid = (await file(client, keys["call_center"])).json()["id"]
    denied = await client.patch(
        f"/v1/complaints/{cid}", json={"assignee": "h-1"}, headers=keys["call_center"]
    )
    assert_problem(denied, 403)
    notes = await client.patch(
        f"/v1/complaints/{cid}", json={"notes": "prefers mornings"}, headers=keys["call_center"]
    )
    assert notes.status_code == 200
    assigned = await client.patch(
        f"/v1/complaints/{cid}",
        json={"assignee": "h-1", "team": "north"},
        headers=keys["supervisor"],
    )
    assert assigned.json()["assignee"] == "h-1"
    mine = (await client.get("/v1/complaints?assignee=h-1", headers=keys["supervisor"])).json()
    assert [c["id"] for c in mine["items"]] == [cid]


async def test_filters_and_chinese_text_search(client: httpx.AsyncClient, keys) -> None:
    h = keys["call_center"]
    await file(client, h, text="车辆在修理厂等了三周，配件还没到，理赔员说要再等")
    target = (
        await file(client, h, channel="web", text="我对保险公司的理赔结果表示怀疑，觉得有暗箱操作")
    ).json()
    for q in ("暗箱", "暗箱操作", "理赔结果"):  # a 2-character word, and trigram-indexed ones
        found = (await client.get(f"/v1/complaints?q={q}", headers=h)).json()
        assert [c["id"] for c in found["items"]] == [target["id"]], q
    web = (await client.get("/v1/complaints?channel=web", headers=h)).json()
    assert [c["id"] for c in web["items"]] == [target["id"]]
    none = (await client.get("/v1/complaints?q=100%25", headers=h)).json()
    assert none["items"] == []


async def test_overdue_filter(client: httpx.AsyncClient, keys, clock) -> None:
    h = keys["call_center"]
    cid = (await file(client, h)).json()["id"]
    assert (await client.get("/v1/complaints?overdue=true", headers=h)).json()["items"] == []
    clock.now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # past acknowledge-by
    late = (await client.get("/v1/complaints?overdue=true", headers=h)).json()
    assert [c["id"] for c in late["items"]] == [cid]
    assert late["items"][0]["overdue"] is True


async def test_list_overdue_flag_agrees_with_the_complaint(
    client: httpx.AsyncClient, keys, clock
) -> None:
    """A list item's overdue flag (computed in SQL) is the complaint's own (from its deadlines),
    and `overdue=true|false` splits the list by it: untouched, acknowledged and closed."""
    h = keys["call_center"]
    untouched = (await file(client, h)).json()["id"]
    acknowledged = (await file(client, h)).json()["id"]
    closed = (await file(client, h)).json()["id"]

    async def act(cid: int, action: str, **extra: object) -> None:
        response = await client.post(
            f"/v1/complaints/{cid}/transitions", json={"action": action, **extra}, headers=h
        )
        assert response.status_code == 200, response.text

    await act(acknowledged, "acknowledge")
    for action, extra, _ in LIFECYCLE[:-1]:  # to closed
        if action == "resolve":
            proposal = await client.post(
                f"/v1/complaints/{closed}/follow-ups",
                json={"kind": "resolution_proposal", "note": "Re-assess at the 4S quote."},
                headers=h,
            )
            assert proposal.status_code == 201, proposal.text
        await act(closed, action, **extra)
    seen = set()
    for days in (0, 2, 40):  # in time; past acknowledge-by; past reply-by
        clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC) + timedelta(days=days)
        listed = (await client.get("/v1/complaints", headers=h)).json()["items"]
        assert len(listed) == 3
        for item in listed:
            own = (await client.get(f"/v1/complaints/{item['id']}", headers=h)).json()
            assert item["overdue"] is own["overdue"], (days, item["id"])
            seen.add((item["id"], item["overdue"]))
        for flag in (True, False):
            split = await client.get(f"/v1/complaints?overdue={str(flag).lower()}", headers=h)
            assert {c["id"] for c in split.json()["items"]} == {
                c["id"] for c in listed if c["overdue"] is flag
            }
    # Each state was seen both ways where it can be: the comparison is not vacuous.
    both = {(cid, flag) for cid in (untouched, acknowledged) for flag in (True, False)}
    assert both <= seen
    assert (closed, True) not in seen


ROLE_MATRIX = [
    ("POST", "/v1/complaints", BODY, {"call_center", "supervisor", "admin"}),
    ("GET", "/v1/complaints", None, {"call_center", "supervisor", "admin"}),
    ("GET", "/v1/complaints/{id}", None, {"call_center", "supervisor", "admin"}),
    ("GET", "/v1/complaints/{id}/timeline", None, {"call_center", "supervisor", "admin"}),
    ("PATCH", "/v1/complaints/{id}", {"notes": "n"}, {"call_center", "supervisor", "admin"}),
    (
        "POST",
        "/v1/complaints/{id}/transitions",
        {"action": "escalate", "level": "supervisor"},
        {"call_center", "supervisor", "admin"},
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROLE_MATRIX)
@pytest.mark.parametrize(
    "role", ["call_center", "claims_system", "portal", "supervisor", "admin", None]
)
async def test_complaint_role_matrix(
    client: httpx.AsyncClient, keys, method, path, body, allowed, role
) -> None:
    cid = (await file(client, keys["call_center"])).json()["id"]
    headers = keys[role] if role else {}
    response = await client.request(method, path.format(id=cid), json=body, headers=headers)
    if role is None:
        assert_problem(response, 401)
    elif role in allowed:
        assert response.status_code in (200, 201), response.text
    else:
        assert_problem(response, 403)


async def test_expired_idempotency_key_is_purged_and_free_again(
    client: httpx.AsyncClient, keys, clock, app
) -> None:
    from datetime import timedelta

    from app.core import idempotency

    h = {**keys["call_center"], "Idempotency-Key": "old-key"}
    first = (await client.post("/v1/complaints", json=BODY, headers=h)).json()
    clock.now = clock.now + timedelta(hours=25)
    async with app.state.db.transaction() as conn:
        assert await idempotency.purge_expired(conn, clock.now) == 1
    second = (
        await client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=h)
    ).json()
    assert second["id"] != first["id"]


async def test_expired_idempotency_key_is_taken_over_before_the_purge(
    client: httpx.AsyncClient, keys, clock
) -> None:
    from datetime import timedelta

    h = {**keys["call_center"], "Idempotency-Key": "stale-key"}
    first = await client.post("/v1/complaints", json=BODY, headers=h)
    assert first.status_code == 201
    clock.now = clock.now + timedelta(hours=23)
    assert_problem(
        await client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=h), 422
    )
    clock.now = clock.now + timedelta(hours=2)  # 25 h: expired, not yet purged
    second = await client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=h)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    again = await client.post("/v1/complaints", json={**BODY, "channel": "web"}, headers=h)
    assert again.json() == second.json()  # the key now belongs to the second request


@pytest.mark.parametrize("extra", ["", "&q=%E5%AE%9A%E6%8D%9F%E6%8B%96", "&overdue=false"])
async def test_a_damaged_cursor_is_422_on_every_list_path(
    client: httpx.AsyncClient, keys, extra: str
) -> None:
    """Indexed pages, text searches and overdue pages (read off the event loop on SQLite)."""
    h = keys["call_center"]
    for _ in range(3):
        await file(client, h)
    page = (await client.get(f"/v1/complaints?limit=1{extra}", headers=h)).json()
    assert page["next_cursor"], page  # each path pages
    damaged = page["next_cursor"][:-4] + "AAAA"
    assert_problem(
        await client.get(f"/v1/complaints?limit=1{extra}&cursor={damaged}", headers=h), 422
    )
    assert_problem(
        await client.get(f"/v1/complaints?limit=1{extra}&cursor=not-a-cursor", headers=h), 422
    )


async def test_pages_are_complete_while_complaints_arrive(client: httpx.AsyncClient, keys) -> None:
    h = keys["call_center"]
    before = [(await file(client, h)).json()["id"] for _ in range(9)]
    seen: list[int] = []
    page = (await client.get("/v1/complaints?limit=4", headers=h)).json()
    while True:
        seen += [c["id"] for c in page["items"]]
        await file(client, h)
        if not page["next_cursor"]:
            break
        page = (
            await client.get(f"/v1/complaints?limit=4&cursor={page['next_cursor']}", headers=h)
        ).json()
    assert seen == sorted(before, reverse=True)


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "text": "abc\u0000def"},
        {**BODY, "complainant": {"name": "A\u0000", "phone": "13812345678"}},
        {**BODY, "external_ref": "x\u0000"},
    ],
)
async def test_nul_characters_are_refused_not_500(client: httpx.AsyncClient, keys, body) -> None:
    assert_problem(await client.post("/v1/complaints", json=body, headers=keys["call_center"]), 422)


async def test_sql_and_html_in_text_are_stored_verbatim(client: httpx.AsyncClient, keys) -> None:
    text = "'); DROP TABLE complaint; -- <script>alert(1)</script>"
    created = (await file(client, keys["call_center"], text=text)).json()
    again = (
        await client.get(f"/v1/complaints/{created['id']}", headers=keys["call_center"])
    ).json()
    assert again["text"] == text


async def test_hand_serialised_responses_match_their_documented_models(
    client: httpx.AsyncClient, keys
) -> None:
    """Lists, intake and the progress view skip response validation for speed; their JSON
    must still parse as the models the OpenAPI document promises."""
    from app.claims.schemas import ProgressRead
    from app.complaints.schemas import ComplaintPage, ComplaintRead

    await put_claim(client, keys["claims_system"])
    created = await file(client, keys["call_center"], claim_no="CLM-1")
    ComplaintRead.model_validate(created.json())
    page = await client.get("/v1/complaints", headers=keys["call_center"])
    assert ComplaintPage.model_validate(page.json()).items
    progress = await client.get("/v1/claims/CLM-1/progress", headers=keys["portal"])
    ProgressRead.model_validate(progress.json())
