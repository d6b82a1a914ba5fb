"""Claims API end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from tests.claims.helpers import CLAIM, assert_problem, move, put_claim

pytestmark = pytest.mark.usefixtures("clock")


async def test_put_creates_then_updates_with_etag(client: httpx.AsyncClient, keys) -> None:
    created = await put_claim(client, keys["claims_system"])
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == "/v1/claims/CLM-1"
    body = created.json()
    assert body["stage"] == "reported"
    assert body["stage_label"] == "报案"
    assert body["stage_history"][0]["stage"] == "reported"
    assert body["stage_history"][0]["occurred_at"].startswith("2026-11-02T01:05:00")
    assert body["insured_phone"] == "13812345678"  # claims_system sees personal data
    assert [d["code"] for d in body["deadlines"]] == ["internal.reported"]

    updated = await put_claim(client, keys["claims_system"], region="shenzhen")
    assert updated.status_code == 200
    assert updated.headers["etag"] == '"2"'
    assert updated.json()["region"] == "shenzhen"


async def test_stale_if_match_is_412_and_changes_nothing(client: httpx.AsyncClient, keys) -> None:
    await put_claim(client, keys["claims_system"])
    await put_claim(client, keys["claims_system"], region="b")
    stale = await client.put(
        "/v1/claims/CLM-1",
        json={**CLAIM, "region": "c"},
        headers={**keys["claims_system"], "If-Match": '"1"'},
    )
    assert_problem(stale, 412)
    current = await client.get("/v1/claims/CLM-1", headers=keys["claims_system"])
    assert current.json()["region"] == "b"
    assert current.headers["etag"] == '"2"'
    fresh = await client.put(
        "/v1/claims/CLM-1",
        json={**CLAIM, "region": "c"},
        headers={**keys["claims_system"], "If-Match": '"2"'},
    )
    assert fresh.status_code == 200


async def test_stale_if_match_on_stage_event_is_412(client: httpx.AsyncClient, keys) -> None:
    await put_claim(client, keys["claims_system"])
    response = await client.post(
        "/v1/claims/CLM-1/stage-events",
        json={"stage": "survey_assessment", "occurred_at": "2026-11-03T09:00:00+08:00"},
        headers={**keys["claims_system"], "If-Match": '"7"'},
    )
    assert_problem(response, 412)
    claim = (await client.get("/v1/claims/CLM-1", headers=keys["claims_system"])).json()
    assert claim["stage"] == "reported" and len(claim["stage_history"]) == 1


async def test_full_journey_to_settled(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    steps = [
        ("survey_assessment", "2026-11-03T09:00:00+08:00", {}),
        ("document_review", "2026-11-04T09:00:00+08:00", {"missing_documents": ["事故認定書"]}),
        ("document_review", "2026-11-05T09:00:00+08:00", {"missing_documents": []}),
        ("adjustment", "2026-11-06T09:00:00+08:00", {}),
        ("approval", "2026-11-07T09:00:00+08:00", {"amount": "3800.00"}),
        ("settled", "2026-11-09T09:00:00+08:00", {}),
    ]
    for stage, at, extra in steps:
        response = await move(client, h, stage, at, **extra)
        assert response.status_code == 201, response.text
        assert response.json()["stage"] == stage
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert [e["stage"] for e in claim["stage_history"]] == ["reported"] + [s for s, _, _ in steps]
    assert claim["stage_history"][5]["amount"] == "3800.00"
    states = {d["code"]: d["state"] for d in claim["deadlines"]}
    assert states["claim.determination"] == "met"
    assert states["claim.payment"] == "met"
    assert states["claim.advance_payment"] == "met"
    assert all(not d["overdue"] for d in claim["deadlines"])
    progress = (await client.get("/v1/claims/CLM-1/progress", headers=keys["portal"])).json()
    assert [s["status"] for s in progress["stages"]] == ["done"] * 6


async def test_illegal_move_is_409_with_allowed_stages(client: httpx.AsyncClient, keys) -> None:
    await put_claim(client, keys["claims_system"])
    response = await move(client, keys["claims_system"], "approval", "2026-11-03T09:00:00+08:00")
    body = assert_problem(response, 409)
    assert body["allowed"] == ["survey_assessment", "rejected", "withdrawn"]
    assert body["current"] == "reported"


async def test_move_out_of_terminal_outcome_is_409(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    assert (await move(client, h, "withdrawn", "2026-11-03T09:00:00+08:00")).status_code == 201
    body = assert_problem(
        await move(client, h, "survey_assessment", "2026-11-04T09:00:00+08:00"), 409
    )
    assert body["allowed"] == []


async def test_rejection_without_reason_is_422(client: httpx.AsyncClient, keys, clock) -> None:
    h = keys["claims_system"]
    clock.now = datetime(2026, 11, 4, 3, 0, tzinfo=UTC)
    await put_claim(client, h)
    assert_problem(await move(client, h, "rejected", "2026-11-03T09:00:00+08:00"), 422)
    ok = await move(client, h, "rejected", "2026-11-03T09:00:00+08:00", note="not covered")
    assert ok.status_code == 201
    codes = {d["code"]: d for d in ok.json()["deadlines"]}
    assert codes["claim.rejection_notice"]["state"] == "met"


async def test_rejection_recorded_late_misses_the_notice_limit(
    client: httpx.AsyncClient, keys
) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    late = await move(client, h, "rejected", "2026-11-03T09:00:00+08:00", note="not covered")
    codes = {d["code"]: d for d in late.json()["deadlines"]}
    assert codes["claim.rejection_notice"]["state"] == "missed"


async def test_reopening_settled_needs_reason(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    for stage, day in [
        ("survey_assessment", 3),
        ("document_review", 4),
        ("adjustment", 5),
        ("approval", 6),
        ("settled", 7),
    ]:
        assert (
            await move(client, h, stage, f"2026-11-{day:02d}T09:00:00+08:00")
        ).status_code == 201
    assert_problem(await move(client, h, "adjustment", "2026-11-08T09:00:00+08:00"), 422)
    reopened = await move(client, h, "adjustment", "2026-11-08T09:00:00+08:00", note="new invoice")
    assert reopened.status_code == 201


async def test_same_event_id_records_once(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    first = await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", event_id="e-1")
    again = await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", event_id="e-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["entry"] == first.json()["entry"]
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 2


async def test_idempotency_key_replays_a_stage_event(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    keyed = {**h, "Idempotency-Key": "move-42"}
    await put_claim(client, h)
    first = await move(client, keyed, "survey_assessment", "2026-11-03T09:00:00+08:00")
    again = await move(client, keyed, "survey_assessment", "2026-11-03T09:00:00+08:00")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.headers["etag"] == again.headers["etag"]
    other = await move(client, keyed, "document_review", "2026-11-04T09:00:00+08:00")
    assert_problem(other, 422)
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 2  # reported + one move
    retries = await asyncio.gather(
        *(
            move(client, {**h, "Idempotency-Key": "move-43"}, "document_review",
                 "2026-11-04T09:00:00+08:00")
            for _ in range(10)
        )
    )  # fmt: skip
    assert {r.status_code for r in retries} == {201}
    assert len({r.text for r in retries}) == 1
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 3


async def test_event_id_reused_with_other_content_is_422(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", event_id="e-1")
    other = await move(client, h, "document_review", "2026-11-04T09:00:00+08:00", event_id="e-1")
    assert_problem(other, 422)


async def test_out_of_order_event_is_422(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-05T09:00:00+08:00")
    late = await move(client, h, "document_review", "2026-11-04T09:00:00+08:00")
    body = assert_problem(late, 422)
    assert "in order" in body["detail"]
    before_report = await put_claim(client, h, "CLM-2")
    assert before_report.status_code == 201
    assert_problem(
        await move(client, h, "survey_assessment", "2026-11-01T09:00:00+08:00", claim_no="CLM-2"),
        422,
    )


async def test_event_in_future_is_422(client: httpx.AsyncClient, keys, clock) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    assert_problem(await move(client, h, "survey_assessment", "2026-12-30T09:00:00+08:00"), 422)


async def test_unknown_claim_is_404_problem(client: httpx.AsyncClient, keys) -> None:
    assert_problem(await client.get("/v1/claims/NOPE", headers=keys["claims_system"]), 404)
    assert_problem(await client.get("/v1/claims/NOPE/progress", headers=keys["portal"]), 404)
    assert_problem(
        await move(
            client,
            keys["claims_system"],
            "survey_assessment",
            "2026-11-03T09:00:00+08:00",
            claim_no="NOPE",
        ),
        404,
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("insured_phone", "call me"),
        ("accident_at", "2026-11-02T08:30:00"),  # naive
        ("accident_at", "2026-11-03T08:30:00+08:00"),  # after reported_at
        ("coverage_type", "luxury"),
        ("policy_no", ""),
        ("insured_name", "x" * 101),
        ("unexpected", 1),
    ],
)
async def test_invalid_claim_body_is_422_with_errors(
    client: httpx.AsyncClient, keys, field, value
) -> None:
    response = await put_claim(client, keys["claims_system"], **{field: value})
    body = assert_problem(response, 422)
    assert body["errors"] and all({"loc", "msg"} <= set(e) for e in body["errors"])


@pytest.mark.parametrize(
    "body",
    [
        {"stage": "paid", "occurred_at": "2026-11-03T09:00:00+08:00"},
        {"stage": "survey_assessment"},
        {"stage": "approval", "occurred_at": "2026-11-03T09:00:00+08:00", "amount": "-1"},
        {"stage": "approval", "occurred_at": "2026-11-03T09:00:00+08:00", "amount": "1.234"},
        {
            "stage": "document_review",
            "occurred_at": "2026-11-03T09:00:00+08:00",
            "missing_documents": [""],
        },
    ],
)
async def test_invalid_stage_event_is_422(client: httpx.AsyncClient, keys, body) -> None:
    await put_claim(client, keys["claims_system"])
    response = await client.post(
        "/v1/claims/CLM-1/stage-events", json=body, headers=keys["claims_system"]
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("claim_no", ["CLM 1", "ＣＬＭ-1", "../etc", "-x", "a" * 41])
async def test_bad_claim_number_in_path_is_422_or_404(
    client: httpx.AsyncClient, keys, claim_no
) -> None:
    response = await client.get(f"/v1/claims/{claim_no}", headers=keys["claims_system"])
    assert response.status_code in (404, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_malformed_json_is_400_problem(client: httpx.AsyncClient, keys) -> None:
    response = await client.put(
        "/v1/claims/CLM-1",
        content=b'{"policy_no": ',
        headers={**keys["claims_system"], "Content-Type": "application/json"},
    )
    assert_problem(response, 400)


async def test_non_utf8_body_is_4xx_problem(client: httpx.AsyncClient, keys) -> None:
    response = await client.put(
        "/v1/claims/CLM-1",
        content=b'{"policy_no": "\xff\xfe"}',
        headers={**keys["claims_system"], "Content-Type": "application/json"},
    )
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_oversize_body_is_413_problem(client: httpx.AsyncClient, keys) -> None:
    big = {**CLAIM, "region": "x" * (1024 * 1024 + 10)}
    response = await client.put("/v1/claims/CLM-1", json=big, headers=keys["claims_system"])
    assert_problem(response, 413)


async def test_oversize_chunked_body_is_413(client: httpx.AsyncClient, keys) -> None:
    async def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = await client.put(
        "/v1/claims/CLM-1",
        content=chunks(),
        headers={**keys["claims_system"], "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


async def test_progress_is_masked_and_localised(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    await move(
        client, h, "document_review", "2026-11-04T09:00:00+08:00", missing_documents=["維修清單"]
    )
    response = await client.get(
        "/v1/claims/CLM-1/progress", headers={**keys["portal"], "Accept-Language": "zh-Hant"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["insured_name"] == "張*明"
    assert body["insured_phone"] == "138****5678"
    assert body["plate_no"] == "粵B·***45"
    assert "13812345678" not in response.text and "張三明" not in response.text
    assert body["stage_label"] == "單證簽收審核"
    assert [s["status"] for s in body["stages"]] == [
        "done",
        "done",
        "current",
        "pending",
        "pending",
        "pending",
    ]
    assert body["stages"][0]["time_spent_seconds"] == 24 * 3600 - 5 * 60
    assert body["outstanding_documents"] == ["維修清單"]
    assert "repeat_document_request" not in response.text
    en = (
        await client.get(
            "/v1/claims/CLM-1/progress", headers={**keys["portal"], "Accept-Language": "en"}
        )
    ).json()
    assert en["stage_label"] == "Document receipt & review"
    assert en["stages"][0]["label"] == "Reported"


async def test_rejected_progress_shows_passed_stages_done(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    await move(client, h, "rejected", "2026-11-04T09:00:00+08:00", note="not covered")
    body = (
        await client.get(
            "/v1/claims/CLM-1/progress", headers={**keys["portal"], "Accept-Language": "en"}
        )
    ).json()
    assert body["stage"] == "rejected"
    assert [s["status"] for s in body["stages"]] == [
        "done",
        "done",
        "pending",
        "pending",
        "pending",
        "pending",
    ]


async def test_overdue_is_computed_at_read_time(client: httpx.AsyncClient, keys, clock) -> None:
    h = keys["claims_system"]
    clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    await put_claim(client, h)
    fresh = (await client.get("/v1/claims/CLM-1/progress", headers=keys["portal"])).json()
    assert fresh["deadlines"][0]["overdue"] is False
    clock.now = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    late = (await client.get("/v1/claims/CLM-1/progress", headers=keys["portal"])).json()
    assert late["deadlines"][0]["code"] == "internal.reported"
    assert late["deadlines"][0]["overdue"] is True
    listed = (await client.get("/v1/claims?overdue=true", headers=h)).json()
    assert [c["claim_no"] for c in listed["items"]] == ["CLM-1"]
    assert (await client.get("/v1/claims?overdue=false", headers=h)).json()["items"] == []


async def test_repeat_document_request_flag(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    first = await move(
        client, h, "document_review", "2026-11-04T09:00:00+08:00", missing_documents=["事故認定書"]
    )
    assert first.json()["compliance_flags"] == []
    second = await move(
        client,
        h,
        "document_review",
        "2026-11-05T09:00:00+08:00",
        missing_documents=["事故認定書", "駕駛證"],
    )
    assert second.json()["compliance_flags"] == ["repeat_document_request"]
    claim = (await client.get("/v1/claims/CLM-1", headers=keys["supervisor"])).json()
    assert claim["compliance_flags"] == ["repeat_document_request"]


async def test_list_filters_and_pages(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    for i in range(7):
        await put_claim(client, h, f"CLM-{i}", region="north" if i % 2 else "south")
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", claim_no="CLM-3")
    page = (await client.get("/v1/claims?limit=3", headers=h)).json()
    assert [c["claim_no"] for c in page["items"]] == ["CLM-6", "CLM-5", "CLM-4"]
    seen = [c["claim_no"] for c in page["items"]]
    while page["next_cursor"]:
        page = (
            await client.get(f"/v1/claims?limit=3&cursor={page['next_cursor']}", headers=h)
        ).json()
        seen += [c["claim_no"] for c in page["items"]]
    assert seen == [f"CLM-{i}" for i in range(6, -1, -1)]
    north = (await client.get("/v1/claims?region=north", headers=h)).json()
    assert {c["claim_no"] for c in north["items"]} == {"CLM-1", "CLM-3", "CLM-5"}
    surveying = (await client.get("/v1/claims?stage=survey_assessment", headers=h)).json()
    assert [c["claim_no"] for c in surveying["items"]] == ["CLM-3"]
    assert_problem(await client.get("/v1/claims?cursor=garbage", headers=h), 422)
    assert_problem(await client.get("/v1/claims?limit=501", headers=h), 422)


async def test_pages_are_stable_while_inserting(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    for i in range(10):
        await put_claim(client, h, f"OLD-{i}")
    seen: list[str] = []
    page = (await client.get("/v1/claims?limit=4", headers=h)).json()
    n = 0
    while True:
        seen += [c["claim_no"] for c in page["items"]]
        await put_claim(client, h, f"NEW-{n}")
        n += 1
        if not page["next_cursor"]:
            break
        page = (
            await client.get(f"/v1/claims?limit=4&cursor={page['next_cursor']}", headers=h)
        ).json()
    assert seen == [f"OLD-{i}" for i in range(9, -1, -1)]


async def test_concurrent_moves_on_one_claim_record_one(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    responses = await asyncio.gather(
        *(
            move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", event_id=f"race-{i}")
            for i in range(12)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(409) == 11, codes
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 2 and claim["version"] == 2


async def test_concurrent_same_event_id_records_once(client: httpx.AsyncClient, keys) -> None:
    h = keys["claims_system"]
    await put_claim(client, h)
    responses = await asyncio.gather(
        *(
            move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00", event_id="same")
            for _ in range(12)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 2


async def test_concurrent_creates_of_one_claim_make_one_row(
    client: httpx.AsyncClient, keys
) -> None:
    h = keys["claims_system"]
    responses = await asyncio.gather(*(put_claim(client, h, "CLM-X") for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    claim = (await client.get("/v1/claims/CLM-X", headers=h)).json()
    assert claim["version"] == 8


async def test_concurrent_repeatable_move_with_one_event_id_records_once(
    client: httpx.AsyncClient, keys
) -> None:
    # A document-list update is legal again and again, so a missed duplicate would not be
    # caught by the state machine: only the event_id check (after the row lock) stops it.
    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    await move(client, h, "document_review", "2026-11-04T09:00:00+08:00")
    body = {"missing_documents": ["駕駛證"], "event_id": "docs-2"}
    responses = await asyncio.gather(
        *(
            move(client, h, "document_review", "2026-11-05T09:00:00+08:00", **body)
            for _ in range(20)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    claim = (await client.get("/v1/claims/CLM-1", headers=h)).json()
    assert len(claim["stage_history"]) == 4


async def test_event_id_committed_while_waiting_for_the_lock_is_seen(
    client: httpx.AsyncClient, keys, app, database_url
) -> None:
    """PostgreSQL, READ COMMITTED: a request that waited for the claim's row lock must see the
    event the lock holder committed (the duplicate check runs after the lock, in a new
    statement), so it answers 200 instead of recording twice or failing."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite runs one writer at a time; there is no lock to wait for")
    import asyncpg

    h = keys["claims_system"]
    await put_claim(client, h)
    await move(client, h, "survey_assessment", "2026-11-03T09:00:00+08:00")
    first = await move(client, h, "document_review", "2026-11-04T09:00:00+08:00", event_id="e-9")
    dsn = database_url.replace("postgresql+asyncpg", "postgresql")
    holder = await asyncpg.connect(dsn)
    try:
        tx = holder.transaction()
        await tx.start()
        # Hold the row lock, and roll the first event back so its id is free; then put it back
        # as if a concurrent request were recording it right now.
        await holder.execute("SELECT id FROM claim WHERE claim_no = 'CLM-1' FOR UPDATE")
        await holder.execute("DELETE FROM claim_stage_event WHERE event_id = 'e-9'")
        waiting = asyncio.create_task(
            move(client, h, "document_review", "2026-11-04T09:00:00+08:00", event_id="e-9")
        )
        await asyncio.sleep(0.3)  # the request is now blocked on the row lock
        assert not waiting.done()
        await holder.execute(
            "INSERT INTO claim_stage_event (claim_id, seq, event_id, from_stage, to_stage, "
            "occurred_at, recorded_at, missing_documents, recorded_by) SELECT id, 2, 'e-9', "
            "'survey_assessment', 'document_review', '2026-11-04T01:00:00Z', now(), 'null', "
            "'test' FROM claim WHERE claim_no = 'CLM-1'"
        )
        await tx.commit()
        response = await waiting
    finally:
        await holder.close()
    assert first.status_code == 201
    assert response.status_code == 200, response.text
