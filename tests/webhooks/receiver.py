"""A local webhook receiver for tests: verifies signatures, records bodies, fails on demand."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

from app.webhooks.signing import verify


@dataclass
class Received:
    """One request the receiver accepted or refused."""

    body: dict[str, Any]
    headers: dict[str, str]
    signature_ok: bool
    answered: int


@dataclass
class Receiver:
    """Answers `status` (after `delay` seconds); keeps every request it saw."""

    secret: str
    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    begun: int = 0  # requests whose body has arrived (answered or not yet)
    port: int = 0
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Where to subscribe."""
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Bodies answered with 2xx, in arrival order."""
        return [r.body for r in self.requests if 200 <= r.answered < 300]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.begun += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        ok = verify(raw, self.secret, headers.get("x-signature", ""))
        answered = self.status if ok else 401
        self.requests.append(Received(orjson.loads(raw), headers, ok, answered))
        await send({"type": "http.response.start", "status": answered, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def start(self) -> None:
        """Serve on 127.0.0.1 (the same port again after a stop)."""
        if not self.port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                self.port = s.getsockname()[1]
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving (connections are refused until start() again)."""
        if self._server is not None:
            self._server.should_exit = True
            assert self._task is not None
            await self._task
            self._server = None
