"""/docs in a real headless Chromium that cannot reach anything beyond localhost.

The page's only way out is a "trap" proxy run by the test: it records every request sent to
it and refuses it. Loopback bypasses the proxy; should anything bypass it otherwise, host names
do not resolve (--host-resolver-rules). If Swagger UI still renders every operation, its script
and styles came from this service, not a CDN. The DevTools protocol lists every request the page
made, and a fetch to a CDN shows the trap works (it lands there and fails).

scripts/test installs Debian's chromium (scripts/_chromium.sh). Without it this test skips
locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from tests.conftest import IN_CI, ROOT
from tests.servers import (
    STARTUP_SECONDS,
    Server,
    start_server,
    stop_server,
    wait_healthy,
)

CHROMIUM = Path("/usr/bin/chromium")
RENDER_SECONDS = 30  # Swagger UI takes 2-8 s on a busy 2-core machine
CDN_PROBE = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"

# Every operation block Swagger UI rendered: method, path, operationId, summary.
READ_OPERATIONS = """
Array.from(document.querySelectorAll('.opblock')).map(block => ({
  method: block.querySelector('.opblock-summary-method')?.textContent.trim().toLowerCase(),
  path: block.querySelector('.opblock-summary-path')?.getAttribute('data-path'),
  operationId: block.querySelector('.opblock-summary-operation-id')?.textContent.trim(),
  summary: block.querySelector('.opblock-summary-description')?.textContent.trim(),
}))
"""
PROBE_CDN = f"""
fetch({json.dumps(CDN_PROBE)}, {{mode: 'no-cors', cache: 'no-store'}})
  .then(() => 'reached', error => 'blocked: ' + error)
"""


class TrapProxy:
    """An HTTP proxy on loopback that records each request line and answers 502."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    line = conn.recv(4096).split(b"\r\n", 1)[0]
                    self.requests.append(line.decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    self.requests.append("<connection without a request line>")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()


class DevTools:
    """A minimal Chrome DevTools Protocol client for one page; keeps the events it sees."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, timeout: float = 15, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message_id = self._next_id
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"DevTools {method} did not answer in {timeout} s")
            message = json.loads(self._ws.recv(timeout=remaining))
            if message.get("id") == message_id:
                assert "error" not in message, f"DevTools {method}: {message['error']}"
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str, timeout: float = 15) -> Any:
        result = self.call(
            "Runtime.evaluate",
            timeout=timeout,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")


@pytest.fixture
def chromium_binary() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed (scripts/_chromium.sh installs it)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A server on a fresh SQLite database, still starting (the test waits for it)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'claimdesk.db'}"
    env = {"CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0"}
    started = start_server(url, tmp_path / "server.log", env=env)
    try:
        yield started
    finally:
        stop_server(started)


@pytest.fixture
def trap() -> Iterator[TrapProxy]:
    proxy = TrapProxy()
    yield proxy
    proxy.close()


@pytest.fixture
def page(chromium_binary: Path, trap: TrapProxy, tmp_path: Path) -> Iterator[DevTools]:
    """A blank page in headless Chromium whose only route off loopback is `trap`.

    The page lives in a browser context of its own with `trap` as its proxy; Chromium's own
    background traffic (network time, updates, sign-in) uses the browser-wide proxy, another
    trap nobody asserts on, so what lands in `trap` came from the page.
    """
    profile = tmp_path / "chromium-profile"
    background = TrapProxy()
    command = [
        str(chromium_binary),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{background.port}",
        "--proxy-bypass-list=127.0.0.1;localhost",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    log = (tmp_path / "chromium.log").open("wb")
    browser = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
    )
    try:
        port, browser_path = _devtools_endpoint(browser, profile / "DevToolsActivePort")
        base = f"ws://127.0.0.1:{port}"
        with connect(f"{base}{browser_path}", proxy=None, max_size=None) as browser_ws:
            control = DevTools(browser_ws)  # the context lives as long as this connection
            context = control.call(
                "Target.createBrowserContext",
                proxyServer=f"http://127.0.0.1:{trap.port}",
                proxyBypassList="127.0.0.1;localhost",
            )["browserContextId"]
            target = control.call(
                "Target.createTarget", url="about:blank", browserContextId=context
            )["targetId"]
            with connect(f"{base}/devtools/page/{target}", proxy=None, max_size=None) as ws:
                yield DevTools(ws)
    finally:
        _stop_browser(browser)
        log.close()
        background.close()


def _devtools_endpoint(browser: subprocess.Popen[bytes], port_file: Path) -> tuple[str, str]:
    """The DevTools port and browser websocket path Chromium writes into its profile."""
    deadline = time.monotonic() + RENDER_SECONDS
    while time.monotonic() < deadline:
        if browser.poll() is not None:
            pytest.fail(f"chromium exited with {browser.returncode}")
        if port_file.exists() and len(lines := port_file.read_text().split()) == 2:
            return lines[0], lines[1]
        time.sleep(0.1)
    pytest.fail("chromium did not open its DevTools port in time")


def _stop_browser(browser: subprocess.Popen[bytes]) -> None:
    """SIGTERM the browser, then SIGKILL its process group (renderers, zygote) if needed."""
    if browser.poll() is None:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(browser.pid, signal.SIGKILL)  # its own session: only what it started
    except ProcessLookupError:
        pass
    browser.wait(timeout=10)


def _rendered_operations(page: DevTools) -> list[dict[str, str]]:
    """Wait until Swagger UI has rendered operation blocks and their count stops changing."""
    deadline = time.monotonic() + RENDER_SECONDS
    seen: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        current = page.evaluate(READ_OPERATIONS)
        if current and current == seen:
            return current
        seen = current
        time.sleep(0.3)
    body = page.evaluate("document.body.innerText.slice(0, 2000)")
    requested = [
        e["params"]["request"]["url"]
        for e in page.events
        if e["method"] == "Network.requestWillBeSent"
    ]
    pytest.fail(
        f"Swagger UI rendered no stable operation list in {RENDER_SECONDS} s.\n"
        f"Requests: {requested}\nPage text:\n{body}"
    )


def test_swagger_ui_renders_every_operation_without_the_network(
    chromium_binary: Path, server: Server, page: DevTools, trap: TrapProxy
) -> None:
    wait_healthy(server, time.monotonic() + STARTUP_SECONDS)  # Chromium started meanwhile
    spec = httpx.get(f"{server.base}/openapi.json", timeout=10, trust_env=False).json()
    expected = {
        (method, path, operation["operationId"], operation["summary"])
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }
    assert len(expected) > 40  # the whole API, not a stub

    page.call("Network.enable")
    page.call("Runtime.enable")
    page.call("Page.navigate", url=f"{server.base}/docs")
    operations = _rendered_operations(page)

    rendered = {(o["method"], o["path"], o["operationId"], o["summary"]) for o in operations}
    assert len(operations) == len(rendered)  # no block twice
    assert rendered == expected
    # The two operations customers and the call centre use most, spelled out.
    assert ("post", "/v1/complaints", "complaints_create", "File a complaint") in rendered
    assert (
        "get",
        "/v1/claims/{claim_no}/progress",
        "claims_get_progress",
        "Get a claim's progress (customer view)",
    ) in rendered
    title = page.evaluate("document.querySelector('.swagger-ui .info .title')?.textContent")
    assert title and "claimdesk" in title, title

    # Everything the page asked for came from this service, and all of it loaded.
    requested = [
        e["params"]["request"]["url"]
        for e in page.events
        if e["method"] == "Network.requestWillBeSent"
    ]
    off_site = [u for u in requested if not u.startswith((f"{server.base}/", "data:", "blob:"))]
    assert not off_site, off_site
    assert f"{server.base}/docs/assets/swagger-ui-bundle.js" in requested
    assert f"{server.base}/docs/assets/swagger-ui.css" in requested
    assert f"{server.base}/openapi.json" in requested
    failed = [e["params"] for e in page.events if e["method"] == "Network.loadingFailed"]
    assert not failed, failed
    errors = [e["params"] for e in page.events if e["method"] == "Runtime.exceptionThrown"]
    assert not errors, errors
    assert trap.requests == []  # nothing tried to leave loopback

    # The trap works: a request to a CDN goes to it and fails.
    outcome = page.evaluate(PROBE_CDN, timeout=RENDER_SECONDS)
    assert outcome.startswith("blocked"), outcome
    assert any("cdn.jsdelivr.net" in line for line in trap.requests), trap.requests
