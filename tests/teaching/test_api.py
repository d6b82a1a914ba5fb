"""Teaching cases end to end on SQLite and PostgreSQL: marking, anonymised listing, the
Markdown handout, and personal data removed from fields and free text."""

from __future__ import annotations

import pytest

from tests.claims.helpers import assert_problem, put_claim
from tests.followups.helpers import act, file, resolve, timeline

pytestmark = pytest.mark.usefixtures("clock")

TEXT = (
    "我是張三明，手機13812345678，身份證44030119900101123X，車牌粵B·12345，"
    "保單號PDAA202644010000123。理賠員李經理讓我來回跑了四趟交材料，定損3800元還拖了兩個月。"
)
CASE = {
    "title": "材料分次索要，張三明跑了四趟",
    "what_went_wrong": "李經理 asked for documents one at a time; 13812345678 got no callback.",
    "remedy": "Apology, full checklist by SMS, documents collected at home.",
    "outcome": "Paid within 5 working days.",
    "lessons": "Send the full checklist at first notice of loss.",
}
SECRETS = [
    "張三明",
    "张三明",
    "13812345678",
    "44030119900101123X",
    "12345",
    "PDAA202644010000123",
    "李經理",
    "CLM-TC-1",
]


async def teaching_complaint(client, keys) -> int:
    cc = keys["call_center"]
    await put_claim(client, keys["claims_system"], "CLM-TC-1")
    complaint = await file(
        client,
        cc,
        text=TEXT,
        complainant={"name": "張三明", "phone": "13812345678", "id_number": "44030119900101123X"},
        claim_no="CLM-TC-1",
        plate_no="粵B·12345",
        policy_no="PDAA202644010000123",
    )
    await resolve(client, cc, complaint["id"])
    await client.post(
        f"/v1/complaints/{complaint['id']}/surveys",
        json={"method": "phone_callback", "score": 4, "resolved": True},
        headers=cc,
    )
    return complaint["id"]


async def test_a_resolved_complaint_becomes_an_anonymised_teaching_case(client, keys) -> None:
    s = keys["supervisor"]
    cid = await teaching_complaint(client, keys)
    marked = await client.put(f"/v1/complaints/{cid}/teaching-case", json=CASE, headers=s)
    assert marked.status_code == 200, marked.text
    listed = await client.get("/v1/training-cases", headers=s)
    assert listed.status_code == 200
    [case] = listed.json()["items"]
    assert case == marked.json()
    dumped = listed.text
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert "[name]" in case["text"] and "[phone]" in case["text"] and "[plate]" in case["text"]
    assert "3800元" in case["text"] and "兩個月" in case["text"]  # what teaches stays
    assert case["subcause"] and case["subcause_label"] and case["category_label"]
    assert case["surveys"] == [
        {"round": 0, "method": "phone_callback", "score": 4, "resolved": True}
    ]
    assert case["reference"].startswith("CMP-") and case["handling_days"] == 0.0
    last = (await timeline(client, s, cid))[-1]
    assert (last["kind"], last["action"]) == ("teaching_case", "marked")


async def test_markdown_handout(client, keys) -> None:
    s = keys["supervisor"]
    cid = await teaching_complaint(client, keys)
    await client.put(f"/v1/complaints/{cid}/teaching-case", json=CASE, headers=s)
    response = await client.get(
        "/v1/training-cases",
        headers={**s, "Accept": "text/markdown", "Accept-Language": "zh-Hant"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    handout = response.text
    assert handout.startswith("# 理賠投訴教學案例")
    for heading in ("### 客戶原話", "### 問題所在", "### 補救措施", "### 結果", "### 經驗教訓"):
        assert heading in handout
    assert "phone_callback 4/5" in handout
    for secret in SECRETS:
        assert secret not in handout, secret


async def test_rewriting_replaces_and_unmarking_removes(client, keys) -> None:
    s = keys["supervisor"]
    cid = await teaching_complaint(client, keys)
    url = f"/v1/complaints/{cid}/teaching-case"
    await client.put(url, json=CASE, headers=s)
    again = await client.put(
        url, json={**CASE, "title": "Documents asked for piecemeal"}, headers=s
    )
    assert again.json()["title"] == "Documents asked for piecemeal"
    assert len((await client.get("/v1/training-cases", headers=s)).json()["items"]) == 1
    assert (await client.delete(url, headers=s)).status_code == 204
    assert (await client.get("/v1/training-cases", headers=s)).json()["items"] == []
    assert_problem(await client.delete(url, headers=s), 404)
    actions = [e["action"] for e in await timeline(client, s, cid) if e["kind"] == "teaching_case"]
    assert actions == ["marked", "updated", "unmarked"]


async def test_only_resolved_complaints_teach(client, keys) -> None:
    s = keys["supervisor"]
    cid = (await file(client, keys["call_center"]))["id"]
    url = f"/v1/complaints/{cid}/teaching-case"
    assert assert_problem(await client.put(url, json=CASE, headers=s), 409)["current"] == "received"
    await act(client, keys["call_center"], cid, "close", reason="withdrawn")
    assert_problem(await client.put(url, json=CASE, headers=s), 409)
    assert_problem(
        await client.put("/v1/complaints/999999/teaching-case", json=CASE, headers=s), 404
    )
    bad = await client.put(url, json={**CASE, "remedy": " "}, headers=s)
    assert_problem(bad, 422)


async def test_filter_by_subcause(client, keys) -> None:
    s = keys["supervisor"]
    cid = await teaching_complaint(client, keys)
    await client.put(
        f"/v1/complaints/{cid}/classification",
        json={"subcause": "timeliness.cumbersome_process", "reason": "four trips"},
        headers=s,
    )
    await client.put(f"/v1/complaints/{cid}/teaching-case", json=CASE, headers=s)
    hit = await client.get(
        "/v1/training-cases", params={"subcause": "timeliness.cumbersome_process"}, headers=s
    )
    assert [c["complaint_id"] for c in hit.json()["items"]] == [cid]
    miss = await client.get(
        "/v1/training-cases", params={"subcause": "service_quality.poor_attitude"}, headers=s
    )
    assert miss.json()["items"] == []
    category = await client.get("/v1/training-cases", params={"category": "timeliness"}, headers=s)
    assert len(category.json()["items"]) == 1
    assert_problem(
        await client.get("/v1/training-cases", params={"subcause": "nope"}, headers=s), 422
    )


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 200), ("admin", 200), ("call_center", 403), ("portal", 403), (None, 401)],
)
async def test_teaching_case_roles(client, keys, role, status) -> None:
    cid = await teaching_complaint(client, keys)
    headers = keys[role] if role else {}
    marked = await client.put(f"/v1/complaints/{cid}/teaching-case", json=CASE, headers=headers)
    assert marked.status_code == status
    assert (await client.get("/v1/training-cases", headers=headers)).status_code == status
