"""Satisfaction surveys end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from tests.claims.helpers import assert_problem
from tests.followups.helpers import act, file, resolve, resolved_complaint, timeline

pytestmark = pytest.mark.usefixtures("clock")


async def survey(client, headers, cid, **body):
    payload = {"method": "questionnaire", "score": 4, "resolved": True, **body}
    return await client.post(f"/v1/complaints/{cid}/surveys", json=payload, headers=headers)


async def test_a_satisfied_survey_is_recorded_and_shown(client, keys) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    response = await survey(client, h, cid, comment="處理得很快")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["score"], body["resolved"], body["dissatisfied"], body["reopened"]) == (
        4,
        True,
        False,
        False,
    )
    assert body["round"] == 0 and body["complaint_status"] == "resolved"
    last = (await timeline(client, h, cid))[-1]
    assert (last["kind"], last["action"], last["note"]) == ("survey", "recorded", "處理得很快")
    assert last["detail"]["score"] == 4


async def test_one_survey_per_method_per_round(client, keys) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    assert (await survey(client, h, cid)).status_code == 201
    second = await survey(client, h, cid, score=5)
    body = assert_problem(second, 409)
    assert (body["round"], body["method"]) == (0, "questionnaire")
    assert (await survey(client, h, cid, method="phone_callback")).status_code == 201


async def test_a_reopen_starts_a_new_round(client, keys) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    assert (await survey(client, h, cid)).status_code == 201
    assert (await act(client, h, cid, "reopen")).status_code == 200
    assert_problem(await survey(client, h, cid), 409)  # investigating: nothing to measure
    await resolve(client, h, cid)
    again = await survey(client, h, cid)
    assert again.status_code == 201 and again.json()["round"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"score": 0},
        {"score": 6},
        {"score": "four"},
        {"method": "email"},
        {"resolved": None},
        {"extra": True},
    ],
    ids=["score-0", "score-6", "score-text", "unknown-method", "resolved-null", "unknown-field"],
)
async def test_bad_surveys_are_422(client, keys, body) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    assert_problem(await survey(client, h, cid, **body), 422)


async def test_survey_needs_a_resolution(client, keys) -> None:
    h = keys["call_center"]
    cid = (await file(client, h))["id"]
    assert assert_problem(await survey(client, h, cid), 409)["current"] == "received"
    await act(client, h, cid, "close", reason="withdrawn")
    assert_problem(await survey(client, h, cid), 409)  # withdrawn: no resolution
    assert_problem(await survey(client, h, 999999), 404)


@pytest.mark.parametrize(
    ("score", "resolved"), [(2, True), (1, True), (5, False)], ids=["two", "one", "unresolved"]
)
async def test_a_dissatisfied_survey_reopens_and_is_listed_for_supervisors(
    client, keys, score, resolved
) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    response = await survey(client, h, cid, score=score, resolved=resolved)
    body = response.json()
    assert body["dissatisfied"] is True and body["reopened"] is True
    assert body["complaint_status"] == "investigating"
    complaint = (await client.get(f"/v1/complaints/{cid}", headers=h)).json()
    assert complaint["status"] == "investigating" and complaint["reopen_count"] == 1
    entries = await timeline(client, h, cid)
    assert [(e["kind"], e["action"]) for e in entries[-2:]] == [
        ("survey", "recorded"),
        ("transition", "reopen"),
    ]
    assert "dissatisfied" in entries[-1]["note"]
    queue = await client.get(
        "/v1/surveys", params={"dissatisfied": "true"}, headers=keys["supervisor"]
    )
    assert [s["id"] for s in queue.json()["items"]] == [body["id"]]
    assert queue.json()["items"][0]["complaint_status"] == "investigating"


@pytest.mark.parametrize("settings_overrides", [{"dissatisfied_survey_reopens": False}])
async def test_reopening_on_dissatisfaction_can_be_switched_off(
    client, keys, settings_overrides
) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    body = (await survey(client, h, cid, score=1)).json()
    assert body["dissatisfied"] is True and body["reopened"] is False
    assert body["complaint_status"] == "resolved"
    queue = await client.get(
        "/v1/surveys", params={"dissatisfied": "true"}, headers=keys["supervisor"]
    )
    assert len(queue.json()["items"]) == 1


async def test_survey_list_filters_and_pages(client, keys) -> None:
    h = keys["call_center"]
    ids = []
    for score in (5, 2, 4, 1, 3):
        cid = (await resolved_complaint(client, h))["id"]
        ids.append((await survey(client, h, cid, score=score)).json()["id"])
    s = keys["supervisor"]
    happy = await client.get("/v1/surveys", params={"dissatisfied": "false"}, headers=s)
    assert [x["score"] for x in happy.json()["items"]] == [3, 4, 5]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/surveys", params=params, headers=s)).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)


async def test_concurrent_surveys_of_one_method_record_one(client, keys) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    responses = await asyncio.gather(*(survey(client, h, cid, score=4) for _ in range(8)))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7


async def test_idempotency_key_replays_a_survey(client, keys) -> None:
    h = keys["call_center"]
    cid = (await resolved_complaint(client, h))["id"]
    keyed = {**h, "Idempotency-Key": "survey-1"}
    first = await survey(client, keyed, cid)
    again = await survey(client, keyed, cid)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert_problem(await survey(client, keyed, cid, score=5), 422)


@pytest.mark.parametrize(
    ("role", "create", "review"),
    [
        ("call_center", 201, 403),
        ("supervisor", 201, 200),
        ("admin", 201, 200),
        ("portal", 403, 403),
        ("claims_system", 403, 403),
        (None, 401, 401),
    ],
)
async def test_survey_roles(client, keys, role, create, review) -> None:
    cid = (await resolved_complaint(client, keys["call_center"]))["id"]
    headers = keys[role] if role else {}
    assert (await survey(client, headers, cid)).status_code == create
    assert (await client.get("/v1/surveys", headers=headers)).status_code == review
