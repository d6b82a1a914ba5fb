"""GET /v1/claims/{no}/progress/stream: the claim's progress as Server-Sent Events.

httpx.ASGITransport buffers a whole response, so only the outcomes that are not a stream (404,
401, 422) are tested in-process; the stream itself is read from real `claimdesk serve`
processes, two of them on one database, so that a move recorded by one replica has to reach a
stream held open by the other (NOTIFY on PostgreSQL, polling on SQLite).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth.service import KEY_PREFIX
from tests.claims.helpers import CLAIM, assert_problem, move, put_claim
from tests.conftest import PG_UP, create_pg_database, drop_pg_database
from tests.servers import (
    STARTUP_SECONDS,
    Server,
    cli,
    create_key,
    start_server,
    stop_server,
    wait_for_admin_key,
    wait_healthy,
)

STREAM = "/v1/claims/{}/progress/stream"

# ---------------------------------------------------------------- in-process: no stream


async def test_unknown_claim_is_404(client: httpx.AsyncClient, keys) -> None:
    response = await client.get(STREAM.format("CLM-NONE"), headers=keys["portal"])
    assert_problem(response, 404)


async def test_no_key_is_401(client: httpx.AsyncClient, keys) -> None:
    await put_claim(client, keys["claims_system"])
    assert_problem(await client.get(STREAM.format("CLM-1")), 401)


async def test_last_event_id_that_is_not_a_number_is_422(client: httpx.AsyncClient, keys) -> None:
    await put_claim(client, keys["claims_system"])
    response = await client.get(
        STREAM.format("CLM-1"), headers={**keys["portal"], "Last-Event-ID": "abc"}
    )
    body = assert_problem(response, 422)
    assert "Last-Event-ID" in json.dumps(body)


# ---------------------------------------------------------------- real servers

POLL_SECONDS = 0.5
HEARTBEAT_SECONDS = 0.5
LATENCY_LIMIT = 2.0
SSE_ENV = {
    "CLAIMDESK_SSE_POLL_SECONDS": str(POLL_SECONDS),
    "CLAIMDESK_SSE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
}


@dataclass
class Replicas:
    first: Server
    second: Server
    auth: dict[str, str]
    kind: str
    url: str


@pytest.fixture(params=["sqlite", "postgresql"])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replicas]:
    """Two server processes on one fresh database; the first created the admin key."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    else:
        if not PG_UP:
            pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
        url = asyncio.run(create_pg_database())
    servers: list[Server] = []
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        servers.append(start_server(url, tmp_path / "first.log", env=SSE_ENV))
        key = wait_for_admin_key(servers[0], deadline)
        servers.append(
            start_server(url, tmp_path / "second.log", env=SSE_ENV)
        )  # migrations are done by now
        for server in servers:
            wait_healthy(server, deadline)
        assert not any(line.startswith(KEY_PREFIX) for line in servers[1].output().splitlines())
        yield Replicas(
            servers[0], servers[1], {"Authorization": f"Bearer {key}"}, request.param, url
        )
    finally:
        for server in servers:
            stop_server(server)
        if request.param == "postgresql":
            asyncio.run(drop_pg_database(url))


@dataclass
class Event:
    """One SSE event as received (`comments` are the comment lines before it)."""

    event: str | None = None
    id: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    at: float = 0.0

    def json(self) -> Any:
        return json.loads("\n".join(self.data))


async def _events(response: httpx.Response) -> AsyncIterator[Event]:
    """Parse text/event-stream lines into events; comment lines are yielded as their own."""
    current = Event()
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield Event(event=None, comments=[line], at=time.monotonic())
        elif line == "":
            if current.event or current.data or current.id is not None:
                current.at = time.monotonic()
                yield current
            current = Event()
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                current.event = value
            elif name == "id":
                current.id = value
            elif name == "data":
                current.data.append(value)


class Stream:
    """An open progress stream read in the background; events queued as they arrive."""

    def __init__(self, http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        self.http = http
        self.url = url
        self.headers = headers
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.pings = 0
        self.pinged = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._opened: asyncio.Future[httpx.Response] | None = None
        self.ended = asyncio.Event()  # the server closed the stream

    async def __aenter__(self) -> Stream:
        self._opened = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._read())
        try:
            response = await asyncio.wait_for(asyncio.shield(self._opened), 10)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def _read(self) -> None:
        assert self._opened is not None
        try:
            async with self.http.stream("GET", self.url, headers=self.headers) as response:
                self._opened.set_result(response)
                async for event in _events(response):
                    if event.event is None and event.comments:
                        self.pings += sum(c.startswith(": ping") for c in event.comments)
                        if self.pings:
                            self.pinged.set()
                        continue
                    await self.queue.put(event)
            self.ended.set()
        except Exception as exc:
            if not self._opened.done():
                self._opened.set_exception(exc)
            raise

    async def next(self, within: float = 10) -> Event:
        """The next event (comments skipped)."""
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            pytest.fail(f"no event on {self.url} within {within} s")

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _assert_stage_changed(event: Event, *, seq: int, from_stage: str, stage: str) -> None:
    assert event.event == "stage_changed"
    assert event.id == str(seq)
    data = event.json()
    assert data["claim_no"] == "CLM-S1"
    assert data["seq"] == seq
    assert data["from_stage"] == from_stage
    assert data["stage"] == stage
    assert data["stage_label"]
    assert data["occurred_at"]
    assert data["event_id"] == f"evt-{seq}"
    assert data["progress"]["stage"] == stage


async def test_stage_change_through_another_process_reaches_the_stream(
    replicas: Replicas,
) -> None:
    auth = replicas.auth
    url = STREAM.format("CLM-S1")
    timeout = httpx.Timeout(10, read=30)
    async with (
        httpx.AsyncClient(base_url=replicas.first.base, timeout=timeout) as first,
        httpx.AsyncClient(base_url=replicas.second.base, timeout=timeout) as second,
    ):
        assert (await first.put("/v1/claims/CLM-S1", json=CLAIM, headers=auth)).status_code == 201
        progress_now = (await first.get("/v1/claims/CLM-S1/progress", headers=auth)).json()

        async with Stream(first, url, auth) as stream:
            initial = await stream.next()
            assert initial.event == "progress"
            assert initial.id == "0"
            assert initial.json()["stage"] == progress_now["stage"] == "reported"
            assert initial.json()["claim_no"] == progress_now["claim_no"]

            sent = time.monotonic()
            response = await move(
                second,
                auth,
                "survey_assessment",
                "2026-11-03T09:00:00+08:00",
                claim_no="CLM-S1",
                event_id="evt-1",
            )
            answered = time.monotonic()
            assert response.status_code == 201, response.text
            # Waits past the limit (and PostgreSQL's 7.5 s backstop poll), so that a lost
            # wake-up fails on the latency assertion with the time it took.
            changed = await stream.next(within=10)
            latency = changed.at - sent
            print(
                f"\n{replicas.kind}: move via process 2 reached the stream on 1 in "
                f"{latency * 1000:.0f} ms (the POST answered in {(answered - sent) * 1000:.0f} ms)"
            )
            _assert_stage_changed(changed, seq=1, from_stage="reported", stage="survey_assessment")
            assert latency < LATENCY_LIMIT, f"{latency:.2f} s"

            # An idle stream carries heartbeat comments (CLAIMDESK_SSE_HEARTBEAT_SECONDS=0.5).
            await asyncio.wait_for(stream.pinged.wait(), 5)
            assert stream.pings > 0
            assert stream.queue.empty()

        # Disconnected: a move through the other process, then a reconnect resuming after 1.
        response = await move(
            second,
            auth,
            "document_review",
            "2026-11-04T09:00:00+08:00",
            claim_no="CLM-S1",
            event_id="evt-2",
            missing_documents=["事故認定書"],
        )
        assert response.status_code == 201, response.text
        async with Stream(first, url, {**auth, "Last-Event-ID": "1"}) as stream:
            replayed = await stream.next()
            _assert_stage_changed(
                replayed, seq=2, from_stage="survey_assessment", stage="document_review"
            )
            current = await stream.next()
            assert current.event == "progress"
            assert current.id == "2"
            assert current.json()["stage"] == "document_review"
            assert stream.queue.empty()


async def test_revoking_a_key_ends_its_open_streams(replicas: Replicas) -> None:
    portal = {"Authorization": f"Bearer {create_key(replicas.url, 'portal', 'portal-live')}"}
    timeout = httpx.Timeout(10, read=30)
    async with httpx.AsyncClient(base_url=replicas.second.base, timeout=timeout) as http:
        assert (await http.put("/v1/claims/CLM-R1", json=CLAIM, headers=replicas.auth)).status_code
        async with Stream(http, STREAM.format("CLM-R1"), portal) as stream:
            assert (await stream.next()).event == "progress"
            await asyncio.to_thread(cli, replicas.url, "keys", "revoke", "portal-live")
            # PostgreSQL: the key change's NOTIFY wakes the stream; SQLite: its next poll
            await asyncio.wait_for(stream.ended.wait(), 5)
        response = await http.get(STREAM.format("CLM-R1"), headers=portal)
        assert response.status_code == 401
