"""Webhook subscription and delivery endpoints: validation, secrecy, roles."""

from __future__ import annotations

import pytest

from app.auth.roles import Role
from app.webhooks.service import check_url
from tests.claims.helpers import assert_problem

BODY = {
    "url": "http://127.0.0.1:9/hook",
    "events": ["complaint.created", "claim.stage_changed"],
    "secret": "whsec_0123456789abcdef",
}


async def test_create_returns_the_secret_once(client, keys):
    created = await client.post("/v1/webhook-subscriptions", json=BODY, headers=keys["admin"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"] == BODY["secret"]
    assert body["events"] == BODY["events"] and body["pending"] == 0
    one = await client.get(f"/v1/webhook-subscriptions/{body['id']}", headers=keys["admin"])
    listed = await client.get("/v1/webhook-subscriptions", headers=keys["admin"])
    assert "secret" not in one.json()
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    assert BODY["secret"] not in one.text + listed.text


async def test_a_secret_is_generated_when_none_is_given(client, keys):
    body = {k: v for k, v in BODY.items() if k != "secret"}
    created = await client.post("/v1/webhook-subscriptions", json=body, headers=keys["admin"])
    assert created.status_code == 201
    assert created.json()["secret"].startswith("whsec_") and len(created.json()["secret"]) > 30


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"url": "ftp://example.com/x"}, "http"),
        ({"url": "file:///etc/passwd"}, "http"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"url": "http:///nohost"}, "host"),
        ({"url": "https://user:pw@example.com/x"}, "credentials"),
        ({"url": "http://example.com:99999/x"}, "valid"),
        ({"url": "http://ex\tample.com/x"}, "whitespace"),
        ({"url": "http://example.com/\nx"}, "whitespace"),
        ({"url": "http://example.com/\x7f"}, "control"),
        ({"url": "http://xn--zz.example/x"}, "valid"),
        ({"events": []}, "events"),
        ({"events": ["complaint.created", "complaint.created"]}, "duplicates"),
        ({"events": ["complaint.deleted"]}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": "with space in the secret"}, "secret"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_subscriptions_are_422(client, keys, change, why):
    response = await client.post(
        "/v1/webhook-subscriptions", json={**BODY, **change}, headers=keys["admin"]
    )
    problem = assert_problem(response, 422)
    assert why in response.text.lower() or problem.get("errors")


def test_allowed_hosts_narrow_the_urls():
    allowed = ["crm.internal", ".hooks.example"]
    check_url("https://crm.internal/x", allowed)
    check_url("https://a.hooks.example/x", allowed)
    check_url("https://hooks.example/x", allowed)
    for url in ("https://evil.example/x", "https://crm.internal.evil/x", "https://xhooks.example/"):
        with pytest.raises(Exception, match="allowed hosts"):
            check_url(url, allowed)
    check_url("http://10.0.0.5:8080/x", [])  # internal addresses are fine without a list


async def test_unknown_ids_are_404(client, keys):
    for response in (
        await client.get("/v1/webhook-subscriptions/999", headers=keys["admin"]),
        await client.delete("/v1/webhook-subscriptions/999", headers=keys["admin"]),
        await client.get("/v1/webhook-deliveries/999", headers=keys["admin"]),
        await client.post("/v1/webhook-deliveries/999/redeliver", headers=keys["admin"]),
    ):
        assert_problem(response, 404)
    created = await client.post("/v1/webhook-subscriptions", json=BODY, headers=keys["admin"])
    sid = created.json()["id"]
    assert (
        await client.delete(f"/v1/webhook-subscriptions/{sid}", headers=keys["admin"])
    ).status_code == 204
    assert_problem(
        await client.delete(f"/v1/webhook-subscriptions/{sid}", headers=keys["admin"]), 404
    )


async def test_ids_beyond_the_columns_are_422_not_500(client, keys):
    for response in (
        await client.get("/v1/webhook-subscriptions/3000000000", headers=keys["admin"]),
        await client.get("/v1/webhook-deliveries/3000000000", headers=keys["admin"]),
        await client.get(
            "/v1/webhook-deliveries", params={"subscription_id": 3000000000}, headers=keys["admin"]
        ),
        await client.get("/v1/complaints/3000000000", headers=keys["admin"]),
    ):
        assert_problem(response, 422)


async def test_only_admins_manage_webhooks(client, keys):
    calls = [
        ("POST", "/v1/webhook-subscriptions", BODY),
        ("GET", "/v1/webhook-subscriptions", None),
        ("GET", "/v1/webhook-subscriptions/1", None),
        ("DELETE", "/v1/webhook-subscriptions/1", None),
        ("GET", "/v1/webhook-deliveries", None),
        ("GET", "/v1/webhook-deliveries/1", None),
        ("POST", "/v1/webhook-deliveries/1/redeliver", None),
    ]
    for method, path, body in calls:
        assert_problem(await client.request(method, path, json=body), 401)
        for role in Role:
            if role is Role.admin:
                continue
            response = await client.request(method, path, json=body, headers=keys[role.value])
            assert_problem(response, 403)
    audit = await client.get(
        "/v1/webhook-deliveries", params={"status": "bogus"}, headers=keys["admin"]
    )
    assert_problem(audit, 422)
