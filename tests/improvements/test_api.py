"""Improvement actions end to end on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.claims.helpers import assert_problem
from tests.followups.helpers import file, timeline

pytestmark = pytest.mark.usefixtures("clock")

ACTION = {
    "subcause": "timeliness.cumbersome_process",
    "title": "一次性告知材料清单",
    "owner": "claims-ops-lead",
    "due_at": "2026-12-31T10:00:00Z",
}


async def create(client, headers, **fields):
    return await client.post("/v1/improvement-actions", json={**ACTION, **fields}, headers=headers)


async def test_create_links_complaints_and_shows_in_their_timelines(client, keys) -> None:
    s = keys["supervisor"]
    a = (await file(client, keys["call_center"]))["id"]
    b = (await file(client, keys["call_center"]))["id"]
    response = await create(client, s, complaint_ids=[b, a], description="SMS checklist")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["complaint_ids"] == sorted([a, b])
    assert body["status"] == "open" and body["category"] == "timeliness"
    assert body["allowed_statuses"] == ["in_progress", "done", "cancelled"]
    assert body["overdue"] is False and response.headers["etag"]
    for cid in (a, b):
        last = (await timeline(client, s, cid))[-1]
        assert (last["kind"], last["action"]) == ("improvement", "linked")
        assert last["detail"]["improvement_action_id"] == body["id"]
    got = await client.get(f"/v1/improvement-actions/{body['id']}", headers=s)
    assert got.json() == body


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"complaint_ids": [999999]}, 422),
        ({"subcause": "timeliness.unknown"}, 422),
        ({"due_at": None}, 422),
        ({"due_at": "2026-12-31T10:00:00"}, 422),
        ({"title": ""}, 422),
        ({"complaint_ids": [1, 1]}, 422),
        ({"extra": 1}, 422),
    ],
    ids=["unknown-complaint", "unknown-subcause", "no-due", "naive-due", "blank", "dupes", "extra"],
)
async def test_bad_actions_are_422(client, keys, fields, status) -> None:
    body = assert_problem(await create(client, keys["supervisor"], **fields), status)
    if "complaint_ids" in fields and fields["complaint_ids"] == [999999]:
        assert body["missing"] == [999999]


async def test_status_moves_and_final_states(client, keys) -> None:
    s = keys["supervisor"]
    cid = (await file(client, keys["call_center"]))["id"]
    action = (await create(client, s, complaint_ids=[cid])).json()
    url = f"/v1/improvement-actions/{action['id']}"
    moved = await client.patch(url, json={"status": "in_progress"}, headers=s)
    assert moved.json()["status"] == "in_progress"
    back = await client.patch(url, json={"status": "open"}, headers=s)
    assert assert_problem(back, 409)["allowed"] == ["done", "cancelled"]
    assert_problem(await client.patch(url, json={"status": "done"}, headers=s), 422)
    done = await client.patch(url, json={"status": "done", "outcome": "SMS live."}, headers=s)
    assert done.status_code == 200 and done.json()["allowed_statuses"] == []
    assert_problem(await client.patch(url, json={"title": "new"}, headers=s), 409)
    assert_problem(await client.patch(url, json={"title": None}, headers=s), 422)
    last = (await timeline(client, s, cid))[-1]
    assert (last["kind"], last["action"]) == ("improvement", "done")


async def test_relinking_complaints_with_if_match(client, keys) -> None:
    s = keys["supervisor"]
    a, b, c = [(await file(client, keys["call_center"]))["id"] for _ in range(3)]
    action = (await create(client, s, complaint_ids=[a, b])).json()
    url = f"/v1/improvement-actions/{action['id']}"
    tag = (await client.get(url, headers=s)).headers["etag"]
    relinked = await client.patch(
        url, json={"complaint_ids": [b, c]}, headers={**s, "If-Match": tag}
    )
    assert relinked.json()["complaint_ids"] == sorted([b, c])
    stale = await client.patch(url, json={"owner": "x"}, headers={**s, "If-Match": tag})
    assert_problem(stale, 412)
    assert (await timeline(client, s, a))[-1]["action"] == "unlinked"
    assert (await timeline(client, s, c))[-1]["action"] == "linked"
    assert [e["action"] for e in await timeline(client, s, b) if e["kind"] == "improvement"] == [
        "linked"
    ]


async def test_list_filters_and_pages(client, keys, clock) -> None:
    s = keys["supervisor"]
    cid = (await file(client, keys["call_center"]))["id"]
    ids = {}
    for name, due, subcause, links in [
        ("past", "2026-11-01T00:00:00Z", "timeliness.slow_assessment", [cid]),
        ("soon", "2026-12-01T00:00:00Z", "timeliness.cumbersome_process", []),
        ("later", "2027-01-01T00:00:00Z", "timeliness.cumbersome_process", [cid]),
    ]:
        ids[name] = (
            await create(client, s, due_at=due, subcause=subcause, complaint_ids=links)
        ).json()["id"]

    async def names(**params):
        response = await client.get("/v1/improvement-actions", params=params, headers=s)
        assert response.status_code == 200, response.text
        back = {v: k for k, v in ids.items()}
        return [back[item["id"]] for item in response.json()["items"]]

    assert await names() == ["past", "soon", "later"]
    assert await names(overdue="true") == ["past"]
    assert await names(subcause="timeliness.cumbersome_process") == ["soon", "later"]
    assert await names(complaint_id=cid) == ["past", "later"]
    assert await names(status="open", limit=2) == ["past", "soon"]
    page = (await client.get("/v1/improvement-actions", params={"limit": 2}, headers=s)).json()
    rest = await client.get(
        "/v1/improvement-actions", params={"limit": 2, "cursor": page["next_cursor"]}, headers=s
    )
    assert [i["id"] for i in rest.json()["items"]] == [ids["later"]]
    assert rest.json()["next_cursor"] is None


async def test_delete_removes_and_tells_the_complaints(client, keys) -> None:
    s = keys["supervisor"]
    cid = (await file(client, keys["call_center"]))["id"]
    action = (await create(client, s, complaint_ids=[cid])).json()
    url = f"/v1/improvement-actions/{action['id']}"
    deleted = await client.delete(url, headers=s)
    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=s), 404)
    assert_problem(await client.delete(url, headers=s), 404)
    assert (await timeline(client, s, cid))[-1]["action"] == "deleted"


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 201), ("admin", 201), ("call_center", 403), ("portal", 403), (None, 401)],
)
async def test_improvement_roles(client, keys, role, status) -> None:
    headers = keys[role] if role else {}
    assert (await create(client, headers)).status_code == status
    listed = await client.get("/v1/improvement-actions", headers=headers)
    assert listed.status_code == (200 if status == 201 else status)
