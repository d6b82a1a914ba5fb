"""Hostile input: every request an attacker or a broken client can send is a 4xx problem or is
stored verbatim and safely, on SQLite and on PostgreSQL; never a 500, never a file.

The rule for text (`PlainText` in app/core/fields.py, and the query check in
app/core/middleware.py): text is stored and returned exactly as sent — SQL, HTML, LIKE and FTS5
syntax, emoji, bidi and zero-width marks included — except C0/C1 control characters other than
tab, line feed and carriage return, which are refused with 422 naming the field (PostgreSQL text
cannot hold NUL, so one rule for both databases). Claim numbers keep to the documented ASCII set
(`A-Z a-z 0-9 . _ -`): look-alikes are refused, never normalised into another claim.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest

from tests.claims.helpers import CLAIM, assert_problem, put_claim
from tests.servers import (
    STARTUP_SECONDS,
    start_server,
    stop_server,
    wait_for_admin_key,
    wait_healthy,
)

MiB = 1024 * 1024
COMPLAINT = {
    "channel": "phone",
    "text": "定损拖了两个月还没结果，打电话也没人告诉我进度",
    "complainant": {"name": "張三明", "phone": "13812345678"},
}
STAGE_EVENT = {"stage": "document_review", "occurred_at": "2026-11-03T09:00:00+08:00"}
# NUL, other C0 controls (BS, VT, FF, ESC…), DEL and C1 (NEL, APC): all refused.
REFUSED_CONTROLS = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\x9f"]


@pytest.fixture(autouse=True)
def _frozen_clock(request: pytest.FixtureRequest) -> None:
    """In-process tests run at the suite's fixed instant; the real-server test has no app."""
    if "app" in request.fixturenames:
        request.getfixturevalue("clock")


def utf8(body: Any) -> bytes:
    """Compact JSON in UTF-8 without \\u escapes, so byte surgery on the text is possible."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_headers(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/json"}


async def count_complaints(client: httpx.AsyncClient, keys) -> int:
    page = await client.get("/v1/complaints?limit=500", headers=keys["supervisor"])
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


async def count_claims(client: httpx.AsyncClient, keys) -> int:
    page = await client.get("/v1/claims?limit=500", headers=keys["supervisor"])
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


async def new_complaint(client: httpx.AsyncClient, keys, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/complaints", json={**COMPLAINT, **fields}, headers=keys["call_center"]
    )
    assert response.status_code == 201, response.text
    return response.json()


async def raw_asgi_get(
    app, raw_path: bytes, headers: dict[str, str], query: bytes = b""
) -> tuple[int, dict, bytes]:
    """GET with the path exactly as given (httpx would drop `..` segments first), decoded the
    way uvicorn decodes it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path.decode("ascii")),
        "raw_path": raw_path,
        "root_path": "",
        "query_string": query,
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


# --- size limits ---------------------------------------------------------------------------


async def test_bodies_over_1_mib_are_413_however_they_arrive(
    client: httpx.AsyncClient, keys
) -> None:
    """Declared too long, streamed without a length, or with a lying short Content-Length:
    the bytes themselves are counted."""
    headers = json_headers(keys["call_center"])
    declared = await client.post(
        "/v1/complaints", content=utf8({**COMPLAINT, "text": "x" * MiB}), headers=headers
    )
    assert assert_problem(declared, 413)["type"].endswith("/payload-too-large")
    assert declared.headers["connection"] == "close"

    async def chunks() -> AsyncIterator[bytes]:
        yield utf8(COMPLAINT)[:-1] + b',"external_ref":"'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    assert_problem(await client.post("/v1/complaints", content=chunks(), headers=headers), 413)
    lying = {**headers, "Content-Length": "100"}
    assert_problem(await client.post("/v1/complaints", content=chunks(), headers=lying), 413)
    assert await count_complaints(client, keys) == 0


async def test_a_body_of_exactly_1_mib_is_accepted(client: httpx.AsyncClient, keys) -> None:
    """The limit is the documented 1 MiB, not less: JSON whitespace pads a valid body."""
    body = utf8(COMPLAINT)
    padded = body[:-1] + b" " * (MiB - len(body)) + b"}"
    assert len(padded) == MiB
    response = await client.post(
        "/v1/complaints", content=padded, headers=json_headers(keys["call_center"])
    )
    assert response.status_code == 201, response.text


async def test_oversized_headers_are_431(client: httpx.AsyncClient, keys) -> None:
    """uvicorn's httptools parser takes headers of any size (16 MiB measured): the app refuses
    more than 16 KiB of them before any route or database work."""
    for extra in ({"X-Padding": "a" * 65536}, {f"X-H{i}": "v" for i in range(3000)}):
        headers = {**keys["call_center"], **extra}
        for response in (
            await client.get("/v1/complaints", headers=headers),
            await client.post("/v1/complaints", json=COMPLAINT, headers=headers),
        ):
            assert assert_problem(response, 431)["type"].endswith("/header-fields-too-large")
    assert await count_complaints(client, keys) == 0


async def test_a_request_id_with_control_characters_is_replaced(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "abc\r\x01\x7fdef"})
    assert response.status_code == 200
    echoed = response.headers["x-request-id"]
    assert echoed.isascii() and echoed.isprintable() and len(echoed) == 32


# --- malformed JSON ------------------------------------------------------------------------

MALFORMED = {
    "array-100k": b"[" * 100_000,
    "object-100k": b'{"a":' * 100_000,
    "nested-in-a-field": utf8(COMPLAINT)[:-1]
    + b',"external_ref":'
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
    "unbalanced": b'{"text":"x"' + b"}" * 50_000,
    "truncated": b'{"channel":"phone","text":"abc',
    "5000-digit-int": b'{"disputed_amount":1' + b"0" * 5000 + b"}",
    "nan": utf8(COMPLAINT)[:-1] + b',"disputed_amount":NaN}',
    "infinity": utf8(COMPLAINT)[:-1] + b',"disputed_amount":1e999999}',
    "not-an-object": b'"just a string"',
    "empty": b"",
}


async def test_malformed_and_deeply_nested_json_is_a_4xx_problem(
    client: httpx.AsyncClient, keys
) -> None:
    """100 000 levels of nesting are a 400 problem, not a RecursionError or a 500."""
    for name, body in MALFORMED.items():
        response = await client.post(
            "/v1/complaints", content=body, headers=json_headers(keys["call_center"])
        )
        assert response.status_code in (400, 422), (name, response.text)
        assert_problem(response, response.status_code)
        assert "Recursion" not in response.text, name
    assert await count_complaints(client, keys) == 0
    await new_complaint(client, keys)  # and the service is unharmed


async def test_huge_arrays_are_refused_within_the_body_limit(
    client: httpx.AsyncClient, keys
) -> None:
    cs, sup = keys["claims_system"], keys["supervisor"]
    assert (await put_claim(client, cs)).status_code == 201

    documents = {**STAGE_EVENT, "missing_documents": ["x"] * 200_000}
    response = await client.post(
        "/v1/claims/CLM-1/stage-events", content=utf8(documents), headers=json_headers(cs)
    )
    assert [e["loc"] for e in assert_problem(response, 422)["errors"]] == [
        ["body", "missing_documents"]
    ]

    action = {
        "subcause": "timeliness.cumbersome_process",
        "title": "checklist",
        "owner": "ops",
        "due_at": "2026-12-31T18:00:00+08:00",
        "complaint_ids": [1] * 400_000,
    }
    response = await client.post(
        "/v1/improvement-actions", content=utf8(action), headers=json_headers(sup)
    )
    assert [e["loc"] for e in assert_problem(response, 422)["errors"]] == [
        ["body", "complaint_ids"]
    ]

    unknown = {**COMPLAINT, "attachments": [0] * 400_000}
    response = await client.post(
        "/v1/complaints", content=utf8(unknown), headers=json_headers(keys["call_center"])
    )
    assert [e["loc"] for e in assert_problem(response, 422)["errors"]] == [["body", "attachments"]]

    million = b'{"missing_documents":[' + b"0," * 999_999 + b"0]}"
    response = await client.post(
        "/v1/claims/CLM-1/stage-events", content=million, headers=json_headers(cs)
    )
    assert_problem(response, 413)
    claim = (await client.get("/v1/claims/CLM-1", headers=cs)).json()
    assert claim["stage"] == "reported" and len(claim["stage_history"]) == 1
    assert await count_complaints(client, keys) == 0


async def test_many_errors_do_not_amplify_the_response(client: httpx.AsyncClient, keys) -> None:
    """60 000 unknown keys (under 1 MiB) used to answer with 3.9 MB of errors."""
    headers = json_headers(keys["call_center"])
    flood = {**COMPLAINT, **{f"k{i}": 0 for i in range(60_000)}}
    response = await client.post("/v1/complaints", content=utf8(flood), headers=headers)
    problem = assert_problem(response, 422)
    assert 0 < len(problem["errors"]) <= 50
    assert "60000 errors" in problem["detail"]
    assert len(response.content) < 20_000

    long_key = {**COMPLAINT, "k" * 500_000: 1}
    response = await client.post("/v1/complaints", content=utf8(long_key), headers=headers)
    assert_problem(response, 422)
    assert len(response.content) < 5_000


# --- encodings -----------------------------------------------------------------------------

_TEXT = COMPLAINT["text"].encode()
NOT_UTF8 = {
    "invalid-bytes": utf8(COMPLAINT).replace(_TEXT, b"\xff\xfe bad bytes"),
    "overlong": utf8(COMPLAINT).replace(_TEXT, b"overlong \xc0\xaf slash"),
    "cesu-surrogate": utf8(COMPLAINT).replace(_TEXT, b"encoded surrogate \xed\xa0\x80"),
    "cut-in-half": utf8(COMPLAINT).replace(_TEXT, _TEXT[:-1]),
    "gb18030": json.dumps(COMPLAINT, ensure_ascii=False).encode("gb18030"),
    "big5": json.dumps(COMPLAINT, ensure_ascii=False).encode("big5", errors="replace"),
    "utf-16-bom": json.dumps(COMPLAINT, ensure_ascii=False).encode("utf-16"),
    "utf-16-no-bom": json.dumps(COMPLAINT).encode("utf-16-le"),
    "utf-32": json.dumps(COMPLAINT).encode("utf-32"),
    "raw-nul": utf8(COMPLAINT).replace(_TEXT, b"raw \x00 byte"),
}


async def test_a_body_that_is_not_utf8_json_is_400(client: httpx.AsyncClient, keys) -> None:
    """The contract says JSON in UTF-8. `json.loads` would guess UTF-16 and UTF-32 and take
    them (it did: 201); invalid bytes gave a generic 400."""
    for name, body in NOT_UTF8.items():
        response = await client.post(
            "/v1/complaints", content=body, headers=json_headers(keys["call_center"])
        )
        problem = assert_problem(response, 400)
        assert problem["type"].endswith("/malformed-json"), (name, problem)
    assert await count_complaints(client, keys) == 0


async def test_an_escaped_lone_surrogate_is_422_naming_the_field(
    client: httpx.AsyncClient, keys
) -> None:
    body = utf8(COMPLAINT).replace(_TEXT, b"half a pair \\ud83d here")
    response = await client.post(
        "/v1/complaints", content=body, headers=json_headers(keys["call_center"])
    )
    assert ["body", "text"] in [e["loc"] for e in assert_problem(response, 422)["errors"]]
    assert await count_complaints(client, keys) == 0


# --- control characters in text ------------------------------------------------------------

# (method, path, body with {} where the hostile character goes, the loc the 422 must name)
TEXT_FIELDS: dict[str, tuple[str, str, dict[str, Any], list[str | int]]] = {
    "complaint.text": ("POST", "/v1/complaints", {**COMPLAINT, "text": "a{}b"}, ["text"]),
    "complaint.complainant.name": (
        "POST",
        "/v1/complaints",
        {**COMPLAINT, "complainant": {"name": "張{}明", "phone": "13812345678"}},
        ["complainant", "name"],
    ),
    "complaint.external_ref": (
        "POST",
        "/v1/complaints",
        {**COMPLAINT, "external_ref": "ref{}1"},
        ["external_ref"],
    ),
    "claim.insured_name": (
        "PUT",
        "/v1/claims/CLM-9",
        {**CLAIM, "insured_name": "張{}明"},
        ["insured_name"],
    ),
    "claim.plate_no": ("PUT", "/v1/claims/CLM-9", {**CLAIM, "plate_no": "粵B{}123"}, ["plate_no"]),
    "claim.region": ("PUT", "/v1/claims/CLM-9", {**CLAIM, "region": "gd{}x"}, ["region"]),
    "stage_event.note": (
        "POST",
        "/v1/claims/CLM-1/stage-events",
        {**STAGE_EVENT, "note": "n{}o"},
        ["note"],
    ),
    "stage_event.missing_documents": (
        "POST",
        "/v1/claims/CLM-1/stage-events",
        {**STAGE_EVENT, "missing_documents": ["ok", "事故{}認定書"]},
        ["missing_documents", 1],
    ),
    "follow_up.note": (
        "POST",
        "/v1/complaints/{cid}/follow-ups",
        {"kind": "contact", "note": "call{}back"},
        ["note"],
    ),
    "complaint_patch.notes": ("PATCH", "/v1/complaints/{cid}", {"notes": "n{}o"}, ["notes"]),
    "classify.text": ("POST", "/v1/classify", {"text": "等{}了"}, ["text"]),
}


@pytest.mark.parametrize(
    ("method", "path", "template", "loc"), TEXT_FIELDS.values(), ids=TEXT_FIELDS
)
async def test_control_characters_in_text_fields_are_422_naming_the_field(
    client: httpx.AsyncClient, keys, method, path, template, loc
) -> None:
    """NUL (which PostgreSQL cannot store), the other C0 controls, DEL and C1: refused alike on
    both databases, naming the field and the character, before anything is written."""
    assert (await put_claim(client, keys["claims_system"])).status_code == 201
    complaint = await new_complaint(client, keys)
    before = await client.get(f"/v1/complaints/{complaint['id']}", headers=keys["supervisor"])
    role = "claims_system" if path.startswith("/v1/claims/") else "supervisor"
    headers = {**keys[role], "If-Match": before.headers["etag"]}
    for char in REFUSED_CONTROLS:
        body = json.loads(json.dumps(template).replace("{}", json.dumps(char)[1:-1]))
        response = await client.request(
            method, path.format(cid=complaint["id"]), json=body, headers=headers
        )
        problem = assert_problem(response, 422)
        assert problem["type"].endswith("/validation"), problem
        errors = {tuple(e["loc"]): e["msg"] for e in problem["errors"]}
        msg = errors.get(("body", *loc), "")
        assert "control characters" in msg and f"U+{ord(char):04X}" in msg, (repr(char), problem)
    # nothing was written anywhere
    assert await count_complaints(client, keys) == 1
    assert await count_claims(client, keys) == 1
    after = await client.get(f"/v1/complaints/{complaint['id']}", headers=keys["supervisor"])
    assert after.headers["etag"] == before.headers["etag"]
    claim = (await client.get("/v1/claims/CLM-1", headers=keys["claims_system"])).json()
    assert len(claim["stage_history"]) == 1


def _string_leaves(
    schema: dict[str, Any], defs: dict[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """Paths of every free string (not an enumeration) a request schema accepts."""
    if len(path) > 6:
        return
    if "$ref" in schema:
        yield from _string_leaves(defs[schema["$ref"].rsplit("/", 1)[1]], defs, path)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _string_leaves(option, defs, path)
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema and "const" not in schema:
        yield path
    elif kind == "object":
        for name, sub in schema.get("properties", {}).items():
            yield from _string_leaves(sub, defs, (*path, name))
    elif kind == "array":
        yield from _string_leaves(schema.get("items", {}), defs, (*path, 0))


def _nest(path: tuple[str | int, ...], value: Any) -> Any:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return value


async def test_every_string_of_every_request_body_refuses_a_nul(
    client: httpx.AsyncClient, keys
) -> None:
    """Walks the OpenAPI document, so a new text field without `PlainText` fails here instead
    of reaching PostgreSQL with a NUL (a 500) or storing one on SQLite."""
    spec = (await client.get("/openapi.json")).json()
    defs = spec["components"]["schemas"]
    checked: set[tuple[str, tuple[str | int, ...]]] = set()
    for template, item in spec["paths"].items():
        url = "/".join(
            "CLM-1" if p == "{claim_no}" else "1" if p.startswith("{") else p
            for p in template.split("/")
        )
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            for leaf in set(_string_leaves(content["application/json"]["schema"], defs)):
                body = _nest(leaf, "ab\x00cd")
                for role in ("admin", "supervisor", "call_center", "claims_system"):
                    response = await client.request(method, url, json=body, headers=keys[role])
                    if response.status_code not in (401, 403):
                        break
                locs = [e["loc"] for e in assert_problem(response, 422)["errors"]]
                assert any(loc[: len(leaf) + 1] == ["body", *leaf] for loc in locs), (
                    method,
                    template,
                    leaf,
                    locs,
                )
                checked.add((f"{method} {template}", leaf))
    assert ("post /v1/complaints", ("complainant", "name")) in checked
    assert ("post /v1/claims/{claim_no}/stage-events", ("missing_documents", 0)) in checked
    assert len(checked) > 40


VERBATIM = [
    "line one\r\nline two\tand a tab",
    "👨‍👩‍👧 family (ZWJ), 🇨🇳 flag, 𠀀 astral, é vs é (NFC and NFD kept apart)",
    "\u200fRTL mark\u200e, \u202eoverride\u202c, \u2066isolate\u2069, zero\u200bwidth, \ufeffbom",
    "line\u2028separator\u2029paragraph, soft\u00adhyphen, nbsp\u00a0, ideographic\u3000space",
    "a backslash escape written out: \\u0000 and \\x00 and \\n",
    "noncharacters \ufdd0 \ufffe \uffff and the replacement character \ufffd",
]


async def test_all_other_unicode_is_stored_and_read_back_verbatim(
    client: httpx.AsyncClient, keys
) -> None:
    """Only the refused controls are refused: everything else round-trips unchanged on both
    databases, in long text and in short fields (the written-out `\\u0000` used to be
    refused by a raw-byte check)."""
    for text in VERBATIM:
        name = "張" + text[:60] + "明"
        created = await new_complaint(
            client,
            keys,
            text=text,
            external_ref=text[:100],
            complainant={"name": name, "phone": "13812345678"},
        )
        got = await client.get(f"/v1/complaints/{created['id']}", headers=keys["supervisor"])
        got = got.json()
        assert (got["text"], got["external_ref"], got["complainant"]["name"]) == (
            text,
            text[:100],
            name,
        )
        listed = await client.get(
            "/v1/complaints", params={"q": text[:30]}, headers=keys["supervisor"]
        )
        assert [c["id"] for c in listed.json()["items"]] == [created["id"]], text


# --- query strings and paths ---------------------------------------------------------------

QUERY_TEXT_PARAMETERS = [
    ("/v1/complaints", "q", "call_center"),
    ("/v1/complaints", "assignee", "call_center"),
    ("/v1/complaints", "claim_no", "call_center"),
    ("/v1/complaints", "category", "call_center"),
    ("/v1/claims", "region", "supervisor"),
    ("/v1/follow-ups", "assignee", "call_center"),
    ("/v1/improvement-actions", "owner", "supervisor"),
    ("/v1/reports/claims-at-risk", "region", "supervisor"),
]


async def test_control_characters_in_query_parameters_are_422_naming_them(
    client: httpx.AsyncClient, keys
) -> None:
    """PostgreSQL cannot compare with a NUL (these were 500s) and SQLite's LIKE stops at one
    (`q=%00` matched every complaint): the query gets the text-field rule."""
    await new_complaint(client, keys)
    for path, param, role in QUERY_TEXT_PARAMETERS:
        for value in ["\x00", "abc\x00def", "\x07", "x\x1by", "\x7f", "ok\x85"]:
            response = await client.get(path, params={param: value}, headers=keys[role])
            problem = assert_problem(response, 422)
            assert problem["errors"][0]["loc"] == ["query", param], (path, param, problem)
            assert "control characters" in problem["errors"][0]["msg"]
        allowed = await client.get(path, params={param: "tab\there"}, headers=keys[role])
        assert allowed.status_code == 200, (path, param, allowed.text)


async def test_invalid_utf8_and_percent_garbage_in_the_query_is_harmless(
    client: httpx.AsyncClient, keys
) -> None:
    await new_complaint(client, keys)
    for query in ["q=%ff%fe%fd", "q=%", "q=%zz", "q=%E5%AE", "q=%ED%A0%80", "q=%C0%AF", "q=+"]:
        response = await client.get(f"/v1/complaints?{query}", headers=keys["call_center"])
        assert response.status_code == 200, (query, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["items"] == [], query
    for query in ["limit=%ff", "limit=" + "9" * 5000, "limit=-1", "cursor=%ff%fe", "cursor=!!"]:
        response = await client.get(f"/v1/complaints?{query}", headers=keys["call_center"])
        assert_problem(response, 422)


async def test_a_query_string_with_raw_non_ascii_bytes_is_400_however_it_continues(
    app, keys
) -> None:
    # Raw UTF-8 would reach the route as Latin-1 mojibake ("定损" as "å®\x9aæ\x8d\x9f"), so
    # it is refused alike whether or not the rest of the query has escapes.
    for query in ["q=定损", "q=€", "q=€&limit=%35", "q=é", "assignee=张三&limit=5"]:
        status, headers, body = await raw_asgi_get(
            app, b"/v1/complaints", keys["call_center"], query.encode()
        )
        assert status == 400, (query, body)
        assert headers["content-type"] == "application/problem+json"
        assert b"percent-encode" in body
    status, _, _ = await raw_asgi_get(
        app, b"/v1/complaints", keys["call_center"], b"q=%E5%AE%9A%E6%8D%9F&limit=5"
    )
    assert status == 200


TRAVERSALS = [
    b"/v1/claims/..%2F..%2Fetc%2Fpasswd",
    b"/v1/claims/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    b"/v1/claims/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    b"/v1/claims/CLM-1%2F..%2F..%2F..%2Fetc%2Fpasswd",
    b"/v1/claims/..",
    b"/v1/claims/.",
    b"/v1/claims/..%5C..%5Cwindows%5Cwin.ini",
    b"/v1/claims/CLM-1/../../../etc/passwd",
    b"/v1/complaints/../../etc/passwd",
    b"/v1/complaints/..%2F..%2Fetc%2Fpasswd",
    b"/v1/complaints/1%2F..%2F2",
    b"/v1/follow-ups/..%2F1",
    b"/v1/claims/%00",
    b"/v1/claims/CLM-1%00.json",
    b"/v1/claims/%ff%fe",
    b"/v1/claims/" + b"A" * 5000,
    b"/v1/complaints/" + b"9" * 5000,
    b"/v1/complaints/-1",
    b"/v1/complaints/1e3",
    b"/docs/assets/../../../../../../etc/passwd",
    b"/docs/assets/..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    b"/docs/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/docs/assets/....//....//....//etc/passwd",
    b"/docs/assets/..%5C..%5C..%5Capp%5Ccore%5Cconfig.py",
    b"/docs/assets/../../../app/core/config.py",
]


async def test_path_traversal_and_odd_ids_are_404_or_422_never_a_file(
    app, client: httpx.AsyncClient, keys
) -> None:
    assert (await put_claim(client, keys["claims_system"])).status_code == 201
    for raw_path in TRAVERSALS:
        status, headers, body = await raw_asgi_get(app, raw_path, keys["supervisor"])
        assert status in (404, 422), (raw_path, status, body[:300])
        assert headers["content-type"] == "application/problem+json", raw_path
        assert json.loads(body)["status"] == status
        assert b"root:" not in body and b"Settings" not in body and b"[fonts]" not in body
        assert b"PDAA202644010000123" not in body, raw_path  # not CLM-1 answering either


# --- SQL, LIKE and FTS syntax --------------------------------------------------------------

SQL_TEXTS = [
    "'; DROP TABLE complaint; --",
    "Robert'); DELETE FROM claim WHERE ('1'='1",
    "1 OR 1=1; SELECT * FROM api_key --",
    '" OR ""="',
    "%' AND 1=0 UNION SELECT NULL--",
    "$$; DROP TABLE complaint; $$",
    "E'\\x27'::text || chr(39)",
]


async def test_sql_in_text_fields_is_stored_verbatim(client: httpx.AsyncClient, keys) -> None:
    cs, cc, sup = keys["claims_system"], keys["call_center"], keys["supervisor"]
    for n, sql in enumerate(SQL_TEXTS):
        claim_no = f"CLM-SQL-{n}"
        response = await put_claim(client, cs, claim_no, insured_name=sql, region=sql[:40])
        assert response.status_code == 201, response.text
        claim = (await client.get(f"/v1/claims/{claim_no}", headers=cs)).json()
        assert (claim["insured_name"], claim["region"]) == (sql, sql[:40].strip())
        created = await new_complaint(
            client,
            keys,
            text=sql,
            external_ref=sql,
            claim_no=claim_no,
            complainant={"name": sql, "phone": "13812345678"},
        )
        follow = await client.post(
            f"/v1/complaints/{created['id']}/follow-ups",
            json={"kind": "note", "note": sql, "assignee": sql},
            headers=cc,
        )
        assert follow.status_code == 201, follow.text
        assert (follow.json()["note"], follow.json()["assignee"]) == (sql, sql)
        got = (await client.get(f"/v1/complaints/{created['id']}", headers=sup)).json()
        assert (got["text"], got["external_ref"], got["complainant"]["name"]) == (sql, sql, sql)
        assert got["claim_stage"] == "reported"
    # every table is still there and holds exactly what was written
    assert await count_complaints(client, keys) == len(SQL_TEXTS)
    assert await count_claims(client, keys) == len(SQL_TEXTS)
    work = await client.get("/v1/follow-ups?limit=500", headers=cc)
    assert len(work.json()["items"]) == len(SQL_TEXTS)
    for sql in SQL_TEXTS:
        listed = await client.get("/v1/follow-ups", params={"assignee": sql}, headers=cc)
        assert [f["note"] for f in listed.json()["items"]] == [sql]


SEARCH_TEXTS = [
    "退款100%_到账了吗？'; DROP TABLE complaint; --",
    "定损1000元到账，1x0y没有",
    'He said "NEAR(claim, 3)" OR * NOT ^title: col:x',
    "back\\slash and {braces} + (parens) - minus",
    "plain text, nothing special at all",
    "<script>alert(1)</script> & 定损",
]
SEARCHES = [
    "'; DROP TABLE complaint; --",
    "%",
    "_",
    "100%",
    "100%_",
    "1_0",
    "0%",
    "\\",
    "\\%",
    '"',
    '""',
    '"NEAR(',
    "NEAR(claim",
    "*",
    "OR",
    " OR ",
    "NOT ^",
    "^title",
    "title:",
    "col:x",
    "{braces}",
    "(parens)",
    "+ (",
    "- minus",
    "'",
    "<script>",
    "& 定损",
    "定损",
    "定",
    "nothing at all here",
]


async def test_search_treats_sql_like_and_fts_syntax_literally(
    client: httpx.AsyncClient, keys
) -> None:
    """`q` is a substring search (trigram FTS5 or LIKE on SQLite, ILIKE on PostgreSQL): every
    special character matches itself, nothing is injected, nothing is a 500."""
    ids = {text: (await new_complaint(client, keys, text=text))["id"] for text in SEARCH_TEXTS}
    for q in SEARCHES:
        response = await client.get(
            "/v1/complaints", params={"q": q, "limit": 500}, headers=keys["call_center"]
        )
        assert response.status_code == 200, (q, response.text)
        found = {item["id"] for item in response.json()["items"]}
        assert found == {ids[t] for t in SEARCH_TEXTS if q.lower() in t.lower()}, q
    assert await count_complaints(client, keys) == len(SEARCH_TEXTS)


# --- HTML ----------------------------------------------------------------------------------

HTML = '<script>alert(1)</script><img src=x onerror="alert(2)"> &amp; &lt;b&gt;'


async def test_html_is_stored_verbatim_and_only_ever_served_as_json(
    client: httpx.AsyncClient, keys
) -> None:
    cc = keys["call_center"]
    created = await new_complaint(
        client, keys, text=HTML, complainant={"name": HTML, "phone": "13812345678"}
    )
    follow = await client.post(
        f"/v1/complaints/{created['id']}/follow-ups",
        json={"kind": "note", "note": HTML},
        headers=cc,
    )
    assert follow.status_code == 201
    for url in (
        f"/v1/complaints/{created['id']}",
        "/v1/complaints",
        f"/v1/complaints/{created['id']}/timeline",
        "/v1/follow-ups",
    ):
        response = await client.get(url, headers=cc)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
    got = (await client.get(f"/v1/complaints/{created['id']}", headers=cc)).json()
    assert got["text"] == HTML and got["complainant"]["name"] == HTML
    listed = (await client.get("/v1/complaints", headers=cc)).json()["items"]
    assert listed[0]["excerpt"] == HTML
    assert (await client.get("/v1/follow-ups", headers=cc)).json()["items"][0]["note"] == HTML


async def test_problem_responses_echo_no_markup(app, client: httpx.AsyncClient, keys) -> None:
    """A problem may echo what the client sent (a path, a key, a header); it does so with <, >
    and & as JSON escapes, so even a page that pasted the body into HTML would run nothing."""
    assert (await put_claim(client, keys["claims_system"])).status_code == 201
    sup = keys["supervisor"]
    responses = [
        await client.get("/v1/%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers=sup),
        await client.post(
            "/v1/complaints", json={**COMPLAINT, "<script>x</script>": 1}, headers=sup
        ),
        await client.put(
            "/v1/claims/CLM-1",
            json=CLAIM,
            headers={**keys["claims_system"], "If-Match": '"<script>alert(1)</script>"'},
        ),
        await client.get("/v1/claims/%3Cb%3E&amp;", headers=sup),
        await client.get("/v1/complaints", params={"<script>": "\x00"}, headers=sup),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert not {b"<", b">", b"&"} & {bytes([c]) for c in response.content}, response.content
    # the escapes are JSON's: the parsed problem still says exactly what was sent
    assert "<script>alert(1)</script>" in responses[0].json()["detail"]
    assert ["body", "<script>x</script>"] in [e["loc"] for e in responses[1].json()["errors"]]
    status, _, body = await raw_asgi_get(app, b"/v1/<script>alert(1)</script>", {})
    assert status == 404 and b"<" not in body and b">" not in body
    assert "<script>alert(1)</script>" in json.loads(body)["detail"]


# --- claim numbers -------------------------------------------------------------------------

CONFUSABLES = [
    "ＣＬＭ-１",  # fullwidth
    "СLM-1",  # Cyrillic Es
    "CLΜ-1",  # Greek Mu
    "CLM‐1",  # U+2010 hyphen
    "CLM－1",  # fullwidth hyphen-minus
    "CLM-١",  # Arabic-Indic one
    "CLM-𝟏",  # mathematical bold one
    "ℂLM-1",  # double-struck C
    "CLM\u200d-1",  # zero-width joiner
    "CLM-1\u200b",  # zero-width space
    "\u200fCLM-1",  # RTL mark
    "CLM-1\u202e",  # RTL override
    "\ufeffCLM-1",  # BOM
    "CLM-1\u00ad",  # soft hyphen
    "CLM-1\n",
    "CLM-1 ",
    " CLM-1",
    "CLM-1\x00",
    "-CLM-1",
    "CLM 1",
    "CLM/1",
    "C" * 41,
]


async def test_confusable_claim_numbers_are_refused_never_a_second_claim(
    client: httpx.AsyncClient, keys
) -> None:
    """Claim numbers keep to ASCII letters, digits, `.`, `_` and `-` (documented on the path
    parameter): no look-alike of CLM-1 creates a claim, reads CLM-1 or links a complaint."""
    cs, sup = keys["claims_system"], keys["supervisor"]
    assert (await put_claim(client, cs, "CLM-1")).status_code == 201
    complaint = await new_complaint(client, keys, claim_no="CLM-1")
    for claim_no in CONFUSABLES:
        path = f"/v1/claims/{quote(claim_no, safe='')}"
        for response in (
            await client.put(path, json={**CLAIM, "insured_name": "Mallory"}, headers=cs),
            await client.get(path, headers=sup),
            await client.post(f"{path}/stage-events", json=STAGE_EVENT, headers=cs),
        ):
            assert response.status_code in (404, 422), (claim_no, response.text)
            assert_problem(response, response.status_code)
            assert "張三明" not in response.text, claim_no

        refused = await client.post(
            "/v1/complaints", json={**COMPLAINT, "claim_no": claim_no}, headers=keys["call_center"]
        )
        locs = [e["loc"] for e in assert_problem(refused, 422)["errors"]]
        assert ["body", "claim_no"] in locs, claim_no

        filtered = await client.get("/v1/complaints", params={"claim_no": claim_no}, headers=sup)
        if filtered.status_code == 200:
            assert complaint["id"] not in [c["id"] for c in filtered.json()["items"]], claim_no
        else:
            assert_problem(filtered, 422)

    claims = (await client.get("/v1/claims", headers=sup)).json()["items"]
    assert [c["claim_no"] for c in claims] == ["CLM-1"]
    claim = (await client.get("/v1/claims/CLM-1", headers=sup)).json()
    assert (claim["insured_name"], claim["version"], len(claim["stage_history"])) == (
        "張三明",
        1,
        1,
    )
    assert await count_complaints(client, keys) == 1


# --- headers -------------------------------------------------------------------------------

BAD_IF_MATCH = ['"' + "9" * 5000 + '"', '"99999999999999999999"', '"９"', '"²"', '"-1"', 'W/"1e3"']


async def test_unreadable_if_match_is_412_not_500(client: httpx.AsyncClient, keys) -> None:
    """A 5000-digit tag was a 500 (int() refuses it); a 20-digit one overflowed the version
    column; "９" passed str.isdigit."""
    cs = keys["claims_system"]
    assert (await put_claim(client, cs)).status_code == 201
    for if_match in [*BAD_IF_MATCH, "\x00\xff" * 100]:
        response = await client.put(
            "/v1/claims/CLM-1",
            json={**CLAIM, "region": "x"},
            headers={**cs, "If-Match": if_match.encode()},
        )
        problem = assert_problem(response, 412)
        assert len(problem["detail"]) < 200, if_match
    claim = (await client.get("/v1/claims/CLM-1", headers=cs)).json()
    assert claim["region"] == CLAIM["region"] and claim["version"] == 1


async def test_garbage_api_keys_are_401(client: httpx.AsyncClient) -> None:
    for authorization in [
        "Bearer cdk_a\x00b",
        "Bearer cdk_" + "a" * 10000,
        "Bearer ＡＢＣ",
        "Bearer '; DROP TABLE api_key; --",
        "Basic Zm9vOmJhcg==",
        "Bearer",
    ]:
        response = await client.get(
            "/v1/complaints", headers={"Authorization": authorization.encode()}
        )
        assert_problem(response, 401)


# --- a real server -------------------------------------------------------------------------


def _exchange(port: int, request: bytes, *chunks: bytes) -> bytes:
    """Send raw bytes, then body chunks; return all the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        for chunk in chunks:
            sock.sendall(chunk)
        received = b""
        while data := sock.recv(65536):
            received += data
        return received


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_real_server_refuses_hostile_transport_input_and_stays_up(tmp_path: Path) -> None:
    """What in-process ASGI cannot show: uvicorn's own parser in front of the app."""
    server = start_server(
        f"sqlite+aiosqlite:///{tmp_path / 'hostile.db'}",
        tmp_path / "server.log",
        env={"CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0"},
    )
    try:
        key = wait_for_admin_key(server, time.monotonic() + STARTUP_SECONDS)
        wait_healthy(server, time.monotonic() + STARTUP_SECONDS)
        port = server.port
        head = f"Host: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n".encode()
        post = b"POST /v1/complaints HTTP/1.1\r\n" + head + b"Content-Type: application/json\r\n"

        pad = b"X-Pad: " + b"a" * 65536 + b"\r\n"
        big_header = _exchange(port, b"GET /v1/complaints HTTP/1.1\r\n" + head + pad + b"\r\n")
        assert _status(big_header) in (400, 431), big_header[:300]

        # refused on the declared length, before any of the body is sent
        declared = _exchange(port, post + b"Content-Length: 5000000\r\n\r\n")
        assert _status(declared) == 413 and b"payload-too-large" in declared

        # no length declared: refused once the bytes read pass 1 MiB. Exactly 1 MiB + 1 byte is
        # sent, so the server has read all of it when it closes (unread bytes would make the
        # kernel reset the connection and drop the response).
        chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
        chunked = _exchange(
            port, post + b"Transfer-Encoding: chunked\r\n\r\n", *[chunk] * 16, b"1\r\nx\r\n"
        )
        assert _status(chunked) == 413 and b"payload-too-large" in chunked

        markup = _exchange(port, b"GET /v1/<script>alert(1)</script> HTTP/1.1\r\n" + head + b"\r\n")
        assert _status(markup) == 404
        assert b"<script>" not in markup and b"nosniff" in markup

        for path in (b"/docs/assets/../../../../../../etc/passwd", b"/v1/claims/..%2F..%2Fx"):
            traversal = _exchange(port, b"GET " + path + b" HTTP/1.1\r\n" + head + b"\r\n")
            assert _status(traversal) in (400, 404, 422) and b"root:" not in traversal

        nul = _exchange(port, b"GET /healthz HTTP/1.1\r\n" + head + b"X-A: a\x00b\r\n\r\n")
        assert _status(nul) == 400

        assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
        listed = httpx.get(
            f"{server.base}/v1/claims", headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert listed.status_code in (200, 403), listed.text
        assert server.proc.poll() is None
    finally:
        stop_server(server)
