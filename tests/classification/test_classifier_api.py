"""Classification API end to end, on SQLite and PostgreSQL: live classification, the classifier
in use, supervisors' overrides, and retraining that learns from them but never gets worse."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.classification import service
from app.classification.training import builtin_examples
from app.main import create_app
from tests.claims.helpers import assert_problem
from tests.conftest import make_settings

pytestmark = pytest.mark.usefixtures("clock")

COMPLAINT = {
    "channel": "phone",
    "complainant": {"name": "張三明", "phone": "13812345678"},
}


async def file(client: httpx.AsyncClient, headers: dict[str, str], text: str) -> dict:
    response = await client.post(
        "/v1/complaints", json={**COMPLAINT, "text": text}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_classify_returns_a_complete_classification(client, keys) -> None:
    text = "態度倒是挺好的，就是等了兩個月錢還沒到賬"
    response = await client.post("/v1/classify", json={"text": text}, headers=keys["call_center"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subcause"] == "timeliness.payment_delay"
    assert body["category"] == "timeliness"
    assert 0 < body["confidence"] <= 1
    assert body["method"] in {"rules", "model"}
    assert body["model_version"].startswith("hybrid-")
    assert body["evidence"] and all(phrase in text for phrase in body["evidence"])
    assert isinstance(body["needs_review"], bool)
    for alternative in body["alternatives"]:
        assert alternative["confidence"] <= body["confidence"]


async def test_classify_stores_nothing(client, keys) -> None:
    await client.post("/v1/classify", json={"text": "客服態度很差"}, headers=keys["supervisor"])
    listed = await client.get("/v1/complaints", headers=keys["supervisor"])
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [{}, {"text": ""}, {"text": "   "}, {"text": "x" * 10001}, {"text": "ok", "extra": 1}],
    ids=["missing", "empty", "blank", "too-long", "unknown-field"],
)
async def test_classify_rejects_bad_input(client, keys, body) -> None:
    response = await client.post("/v1/classify", json=body, headers=keys["call_center"])
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("call_center", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("portal", 403),
        ("claims_system", 403),
        (None, 401),
    ],
)
async def test_classify_roles(client, keys, role, status) -> None:
    headers = keys[role] if role else {}
    response = await client.post("/v1/classify", json={"text": "等太久"}, headers=headers)
    assert response.status_code == status


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 200), ("admin", 200), ("call_center", 403), ("portal", 403), (None, 401)],
)
async def test_classifier_info_roles(client, keys, role, status) -> None:
    response = await client.get("/v1/classifier", headers=keys[role] if role else {})
    assert response.status_code == status


async def test_classifier_info_shows_version_size_and_figures(client, keys) -> None:
    body = (await client.get("/v1/classifier", headers=keys["supervisor"])).json()
    assert body["source"] == "builtin"
    assert body["version"].startswith("hybrid-")
    assert body["training_size"] == len(builtin_examples())
    assert body["overrides_recorded"] == 0
    assert body["last_retrain"] is None
    evaluation = body["figures"]["evaluation"]
    assert evaluation["size"] == 160
    assert evaluation["subcause_macro_f1"] > 0.8
    assert set(evaluation["by_language"]) == {"zh-Hans", "zh-Hant", "en"}
    assert body["figures"]["cross_validation"]["folds"] == 5


async def test_override_refiles_the_complaint_and_shows_in_the_timeline(client, keys) -> None:
    complaint = await file(client, keys["call_center"], "定损拖了两个月还没结果")
    cid = complaint["id"]
    etag = (await client.get(f"/v1/complaints/{cid}", headers=keys["supervisor"])).headers["etag"]
    response = await client.put(
        f"/v1/complaints/{cid}/classification",
        json={"subcause": "service_quality.poor_attitude", "reason": "主因是查勘員掛電話"},
        headers={**keys["supervisor"], "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["classification"]["subcause"] == "service_quality.poor_attitude"
    assert body["classification"]["category"] == "service_quality"
    assert body["classification"]["method"] == "manual"
    assert body["classification"]["confidence"] == 1.0
    assert response.headers["etag"] != etag
    timeline = (
        await client.get(f"/v1/complaints/{cid}/timeline", headers=keys["supervisor"])
    ).json()
    last = timeline["items"][-1]
    assert (last["kind"], last["action"]) == ("classification", "override")
    assert last["actor"] == "test-supervisor"
    assert last["note"] == "主因是查勘員掛電話"
    assert last["detail"]["from"] == complaint["classification"]["subcause"]
    assert last["detail"]["to"] == "service_quality.poor_attitude"
    # Lists and reports count the complaint under its corrected cause.
    listed = await client.get(
        "/v1/complaints",
        params={"subcause": "service_quality.poor_attitude"},
        headers=keys["supervisor"],
    )
    assert [c["id"] for c in listed.json()["items"]] == [cid]
    # The stale tag no longer applies.
    again = await client.put(
        f"/v1/complaints/{cid}/classification",
        json={"subcause": "timeliness.slow_assessment", "reason": "back"},
        headers={**keys["supervisor"], "If-Match": etag},
    )
    assert_problem(again, 412)
    info = (await client.get("/v1/classifier", headers=keys["supervisor"])).json()
    assert info["overrides_recorded"] == 1


async def test_override_to_a_serious_cause_raises_priority_and_back(client, keys) -> None:
    complaint = await file(client, keys["call_center"], "定损拖了两个月还没结果")
    assert complaint["priority"] == "normal"
    url = f"/v1/complaints/{complaint['id']}/classification"
    serious = await client.put(
        url,
        json={"subcause": "other.staff_misconduct", "reason": "索要好處費"},
        headers=keys["supervisor"],
    )
    body = serious.json()
    assert body["priority"] == "high"
    assert body["route_to_supervisor"] is True
    assert "serious_cause" in {r["code"] for r in body["priority_reasons"]}
    back = await client.put(
        url,
        json={"subcause": "timeliness.slow_assessment", "reason": "查實無此事"},
        headers=keys["supervisor"],
    )
    body = back.json()
    assert body["priority"] == "normal"
    assert "serious_cause" not in {r["code"] for r in body["priority_reasons"]}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"subcause": "timeliness.unknown", "reason": "x"}, 422),
        ({"subcause": "timeliness", "reason": "x"}, 422),
        ({"subcause": "timeliness.slow_assessment", "reason": "  "}, 422),
        ({"subcause": "timeliness.slow_assessment"}, 422),
    ],
)
async def test_override_rejects_bad_input(client, keys, body, status) -> None:
    complaint = await file(client, keys["call_center"], "等了很久")
    response = await client.put(
        f"/v1/complaints/{complaint['id']}/classification", json=body, headers=keys["supervisor"]
    )
    assert_problem(response, status)


@pytest.mark.parametrize(
    ("role", "status"),
    [("supervisor", 200), ("admin", 200), ("call_center", 403), ("portal", 403), (None, 401)],
)
async def test_override_roles(client, keys, role, status) -> None:
    complaint = await file(client, keys["call_center"], "等了很久")
    response = await client.put(
        f"/v1/complaints/{complaint['id']}/classification",
        json={"subcause": "timeliness.slow_assessment", "reason": "ok"},
        headers=keys[role] if role else {},
    )
    assert response.status_code == status


async def test_override_of_an_unknown_complaint_is_404(client, keys) -> None:
    response = await client.put(
        "/v1/complaints/999999/classification",
        json={"subcause": "timeliness.slow_assessment", "reason": "x"},
        headers=keys["supervisor"],
    )
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("role", "status"), [("supervisor", 403), ("call_center", 403), (None, 401)]
)
async def test_retrain_is_for_admins(client, keys, role, status) -> None:
    response = await client.post("/v1/classifier/retrain", headers=keys[role] if role else {})
    assert response.status_code == status


AMBIGUOUS = "查勘員講話很衝又一直拖，兩個月了定損還沒好，態度也差"


async def test_override_then_retrain_learns_the_correction(app, client, keys) -> None:
    """The corrected text classifies as overridden after a retrain, on this replica at once
    and on another replica of the same database after its refresh."""
    before = (
        await client.post("/v1/classify", json={"text": AMBIGUOUS}, headers=keys["supervisor"])
    ).json()
    target = before["alternatives"][0]["subcause"]  # what the model thought second most likely
    assert target != before["subcause"]
    complaint = await file(client, keys["call_center"], AMBIGUOUS)
    await client.put(
        f"/v1/complaints/{complaint['id']}/classification",
        json={"subcause": target, "reason": "主訴是這個"},
        headers=keys["supervisor"],
    )
    other = create_app(make_settings(app.state.settings.database_url))
    async with other.router.lifespan_context(other):
        assert other.state.classifier.model.version == before["model_version"]
        response = await client.post("/v1/classifier/retrain", headers=keys["admin"])
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["accepted"] is True, result["decision"]
        assert result["overrides"] == 1
        assert result["training_size"] == len(builtin_examples()) + 1
        assert result["previous_version"] == before["model_version"]
        assert result["active_version"] == result["version"] != before["model_version"]
        assert result["figures"]["evaluation"]["size"] == 160
        after = (
            await client.post("/v1/classify", json={"text": AMBIGUOUS}, headers=keys["supervisor"])
        ).json()
        assert after["subcause"] == target
        assert after["model_version"] == result["version"]
        # The other replica follows the database.
        await service.refresh(other.state.classifier, other.state.db, other.state.settings)
        assert other.state.classifier.model.version == result["version"]
        assert other.state.classifier.classify(AMBIGUOUS).subcause == target
    # Intake uses the retrained model; a fresh start loads it from the database.
    filed = await file(client, keys["call_center"], "客服態度很差還掛我電話")
    assert filed["classification"]["model_version"] == result["version"]
    info = (await client.get("/v1/classifier", headers=keys["admin"])).json()
    assert info["source"] == "retrained"
    assert info["version"] == result["version"]
    assert info["last_retrain"]["accepted"] is True
    assert info["last_retrain"]["created_by"] == "test-admin"
    restarted = create_app(make_settings(app.state.settings.database_url))
    async with restarted.router.lifespan_context(restarted):
        assert restarted.state.classifier.model.version == result["version"]


async def test_a_retrain_that_would_lower_quality_is_refused(client, keys) -> None:
    """Sixty texts of one cause overridden to another: the candidate's figures fall, so the
    model in use stays, and the refusal is recorded and explained."""
    examples = [e for e in builtin_examples() if e.subcause == "timeliness.slow_assessment"][:60]
    created = await asyncio.gather(*(file(client, keys["call_center"], e.text) for e in examples))
    for complaint in created:
        response = await client.put(
            f"/v1/complaints/{complaint['id']}/classification",
            json={"subcause": "service_quality.poor_attitude", "reason": "wrong on purpose"},
            headers=keys["supervisor"],
        )
        assert response.status_code == 200
    before = (await client.get("/v1/classifier", headers=keys["admin"])).json()["version"]
    response = await client.post("/v1/classifier/retrain", headers=keys["admin"])
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["accepted"] is False
    assert result["decision"].startswith("refused")
    assert result["active_version"] == before != result["version"]
    info = (await client.get("/v1/classifier", headers=keys["admin"])).json()
    assert info["version"] == before and info["source"] == "builtin"
    assert info["last_retrain"]["accepted"] is False
    text = examples[0].text
    classified = (
        await client.post("/v1/classify", json={"text": text}, headers=keys["admin"])
    ).json()
    assert classified["model_version"] == before
