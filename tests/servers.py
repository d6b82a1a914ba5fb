"""Real `claimdesk serve` processes for tests that need a server of their own.

Used where in-process ASGI testing cannot show the behaviour: streams, several replicas,
kill -9, a browser or a generated client talking over a socket.
"""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.auth.service import KEY_PREFIX
from tests.conftest import ROOT

STARTUP_SECONDS = 90  # the first start on a clean machine trains the classifier (var/models)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One `claimdesk serve` process; its stdout (JSON logs, the first admin key) in a file."""

    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(
    url: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    worker: bool = False,
    port: int | None = None,
) -> Server:
    """Start `claimdesk serve` on `url` (output appended to `log`); returns at once."""
    port = port or free_port()
    child_env = {
        **os.environ,
        "CLAIMDESK_DATABASE_URL": url,
        "CLAIMDESK_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    if not worker:
        command.append("--no-worker")
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            command, env=child_env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    return Server(port, proc, log)


def stop_server(server: Server) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if server.proc.poll() is not None:
        return
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=10)


def kill_server(server: Server) -> None:
    """kill -9: no shutdown code runs."""
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(timeout=10)


def wait_for_admin_key(server: Server, deadline: float) -> str:
    """The key `serve` prints alone on the line after its notice (migrations run first)."""
    while time.monotonic() < deadline:
        lines = server.output().splitlines()
        for notice, key in itertools.pairwise(lines):
            if notice.startswith("No admin key existed") and key.startswith(KEY_PREFIX):
                return key.strip()
        if server.proc.poll() is not None:
            pytest.fail(f"server exited with {server.proc.returncode}:\n{server.output()}")
        time.sleep(0.1)
    pytest.fail(f"no admin key printed in time:\n{server.output()}")


def wait_healthy(server: Server, deadline: float) -> None:
    """Wait until /healthz answers 200 (fails the test if the process exits first)."""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"server exited with {server.proc.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"/healthz did not answer in time:\n{server.output()}")


def cli(url: str, *args: str) -> str:
    """Run `claimdesk ARGS` on the database at `url`; its standard output."""
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "CLAIMDESK_DATABASE_URL": url, "CLAIMDESK_LOG_LEVEL": "WARNING"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"claimdesk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def create_key(url: str, role: str, name: str, *extra: str) -> str:
    """`claimdesk keys create`: the new key (the last line of its output)."""
    return cli(url, "keys", "create", "--role", role, "--name", name, *extra).splitlines()[-1]
