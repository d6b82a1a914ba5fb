"""A cursor is opaque but travels through clients: a forged or damaged one is a 422 on every list,
never a database error (an id beyond int4 or SQLite's 64-bit integers, a naive timestamp)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import httpx
import pytest

from app.core.errors import Unprocessable
from app.core.fields import MAX_ID
from app.core.pagination import keyset_id, time_and_id
from tests.claims.helpers import assert_problem

# (path, cursor kind, keyset shape)
ID_LISTS = [
    ("/v1/claims", "claims"),
    ("/v1/complaints", "complaints"),
    ("/v1/complaints?q=%E5%AE%9A%E6%8D%9F%E6%8B%96", "complaints"),  # a search (reader thread)
    ("/v1/complaints?overdue=true", "complaints"),
    ("/v1/surveys", "surveys"),
    ("/v1/training-cases", "teaching-cases"),
    ("/v1/webhook-deliveries", "webhook-deliveries"),
]
TIME_ID_LISTS = [
    ("/v1/follow-ups", "follow-ups"),
    ("/v1/improvement-actions", "improvement-actions"),
]
BAD_IDS = [2**63, 2**64, MAX_ID + 1, 0, -5, True, 1.5, "7", None]
AT = "2026-11-24T00:00:00+00:00"
BAD_TIME_IDS = [
    [AT, 2**63],
    [AT, True],
    [AT, "7"],
    ["2026-11-24T00:00:00", 7],  # no offset
    ["not a time", 7],
    [AT],
    [AT, 7, 8],
]


def encode_cursor(kind: str, position: list[object]) -> str:
    """A cursor as a client could forge it (the stdlib's JSON writes any integer)."""
    raw = json.dumps({"k": kind, "p": position}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _get(client: httpx.AsyncClient, path: str, cursor: str, keys) -> object:
    sep = "&" if "?" in path else "?"
    return client.get(f"{path}{sep}limit=5&cursor={cursor}", headers=keys["admin"])


@pytest.mark.parametrize(("path", "kind"), ID_LISTS, ids=[p for p, _ in ID_LISTS])
async def test_a_forged_id_cursor_is_422(client: httpx.AsyncClient, keys, path, kind) -> None:
    for bad in BAD_IDS:
        response = await _get(client, path, encode_cursor(kind, [bad]), keys)
        assert_problem(response, 422)
    assert_problem(await _get(client, path, encode_cursor(kind, [1, 2]), keys), 422)
    good = await _get(client, path, encode_cursor(kind, [MAX_ID]), keys)
    assert good.status_code == 200, good.text


@pytest.mark.parametrize(("path", "kind"), TIME_ID_LISTS, ids=[p for p, _ in TIME_ID_LISTS])
async def test_a_forged_time_cursor_is_422(client: httpx.AsyncClient, keys, path, kind) -> None:
    for bad in BAD_TIME_IDS:
        response = await _get(client, path, encode_cursor(kind, bad), keys)
        assert_problem(response, 422)
    good = await _get(client, path, encode_cursor(kind, [AT, MAX_ID]), keys)
    assert good.status_code == 200, good.text


def test_keyset_positions() -> None:
    assert keyset_id([42]) == 42
    assert time_and_id([AT, 42]) == (datetime(2026, 11, 24, tzinfo=UTC), 42)
    for bad in BAD_IDS:
        with pytest.raises(Unprocessable):
            keyset_id([bad])
    for bad in BAD_TIME_IDS:
        with pytest.raises(Unprocessable):
            time_and_id(bad)
