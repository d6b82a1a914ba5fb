"""A Python client generated from openapi/openapi.json drives a real server.

openapi-python-client generates the package `claimdesk_client` from the committed document; the
generator must not warn about any part of it, every operation must become a module named after its
operationId (readable names are part of the contract), and a short scenario — a claim created and
moved by the claims system, a complaint filed about it by the call centre, the progress read by
the portal — runs with nothing but the generated client against `claimdesk serve` processes.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import PG_UP, ROOT, create_pg_database, drop_pg_database
from tests.servers import (
    STARTUP_SECONDS,
    Server,
    create_key,
    start_server,
    stop_server,
    wait_for_admin_key,
    wait_healthy,
)

SPEC_FILE = ROOT / "openapi" / "openapi.json"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "claimdesk_client"
ROLES = ("claims_system", "call_center", "portal")
METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # the default profile's time zone (reference dates)


def snake_case(value: str) -> str:
    """The generator's snake_case for identifiers: camelCase split, other characters to `_`."""
    value = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", value)
    return re.sub(r"[^a-zA-Z0-9]+", "_", value).strip("_").lower()


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation in the committed document."""
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return [
        (method.upper(), path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


# ---------------------------------------------------------------- the generated package


@dataclass
class Generated:
    """The generated package, imported, and what the generator printed."""

    root: Path
    output: str
    package: ModuleType

    def api(self, tag: str, operation_id: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.api.{snake_case(tag)}.{operation_id}")

    @property
    def models(self) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.models")

    def client(self, server: Server, key: str) -> Any:
        """An AuthenticatedClient (a context manager that closes its httpx client)."""
        return self.package.AuthenticatedClient(
            base_url=server.base, token=key, raise_on_unexpected_status=True
        )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """Run openapi-python-client on openapi/openapi.json; put the package on sys.path."""
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.json"
    # No post hooks: formatting the generated code (ruff) is not what is tested here.
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    command = [str(GENERATOR), "generate", "--path", str(SPEC_FILE)]
    command += ["--output-path", str(out / PACKAGE), "--meta", "none", "--config", str(config)]
    result = subprocess.run(
        command, cwd=out, capture_output=True, text=True, timeout=120, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"openapi-python-client failed:\n{output}"
    sys.path.insert(0, str(out))
    try:
        package = importlib.import_module(PACKAGE)
        yield Generated(out / PACKAGE, output, package)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_generator_prints_no_warnings(generated: Generated) -> None:
    # openapi-python-client reports schema parts it cannot handle as "Warning(s) encountered
    # while generating" followed by one block per endpoint or schema it skipped.
    assert "warning" not in generated.output.lower(), generated.output
    assert "unable to" not in generated.output.lower(), generated.output


def test_every_operation_is_a_module_named_by_its_operation_id(generated: Generated) -> None:
    expected: set[Path] = set()
    for method, path, op in operations():
        where = f"{method} {path}"
        operation_id = op.get("operationId")
        assert operation_id, f"{where} has no operationId"
        module_name = snake_case(operation_id)
        assert module_name == operation_id, f"{where}: operationId {operation_id!r} not snake_case"
        # FastAPI's default id is `{function}{path}_{method}` with non-word characters as `_`,
        # e.g. `claims_get_v1_claims__claim_no__get`: unreadable as a client method name.
        path_derived = re.sub(r"\W", "_", path) + f"_{method.lower()}"
        assert not operation_id.endswith(path_derived), f"{where}: {operation_id} is path-derived"
        assert "__" not in operation_id and "v1_" not in operation_id, f"{where}: {operation_id}"
        assert len(op.get("tags", [])) == 1, f"{where} should have exactly one tag"
        relative = Path("api", snake_case(op["tags"][0]), f"{module_name}.py")
        assert (generated.root / relative).is_file(), f"{where}: no generated {relative}"
        module = generated.api(op["tags"][0], module_name)
        for function in ("sync_detailed", "asyncio_detailed"):  # no sync() without a model
            assert callable(getattr(module, function, None)), f"{relative} lacks {function}()"
        expected.add(relative)
    made = {
        p.relative_to(generated.root)
        for p in (generated.root / "api").rglob("*.py")
        if p.name != "__init__.py"
    }
    assert made == expected, f"unexpected modules: {sorted(map(str, made - expected))}"


# ---------------------------------------------------------------- a served instance


@dataclass
class Served:
    server: Server
    keys: dict[str, str]
    kind: str


def _create_keys(url: str) -> dict[str, str]:
    """`claimdesk keys create` for each role, the processes run side by side."""
    with ThreadPoolExecutor(len(ROLES)) as pool:
        return dict(
            zip(ROLES, pool.map(lambda role: create_key(url, role, role), ROLES), strict=True)
        )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`claimdesk serve` on a fresh database, with a key per role made by the CLI."""
    tmp = tmp_path_factory.mktemp(f"served-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp / 'claimdesk.db'}"
    else:
        if not PG_UP:
            pytest.skip("PostgreSQL is not running at 127.0.0.1:5432")
        url = asyncio.run(create_pg_database())
    server = None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        server = start_server(url, tmp / "server.log", env={"CLAIMDESK_RATE_LIMIT_PER_MINUTE": "0"})
        keys = {"admin": wait_for_admin_key(server, deadline)}
        keys.update(_create_keys(url))  # the first start has migrated the database by now
        wait_healthy(server, deadline)
        yield Served(server, keys, request.param)
    finally:
        if server is not None:
            stop_server(server)
        if request.param == "postgresql":
            asyncio.run(drop_pg_database(url))


@pytest.fixture
def clients(generated: Generated, served: Served) -> Iterator[dict[str, Any]]:
    """One generated AuthenticatedClient per role (plus `stranger` with a made-up key)."""
    keys = {**served.keys, "stranger": "cdk_not-a-real-key"}
    with ExitStack() as stack:
        yield {
            role: stack.enter_context(generated.client(served.server, key))
            for role, key in keys.items()
        }


def test_scenario_with_the_generated_client(
    generated: Generated, served: Served, clients: dict[str, Any]
) -> None:
    m = generated.models
    claims_system, call_center, portal = (clients[role] for role in ROLES)
    now = datetime.now(UTC).replace(microsecond=0)
    claim_no = f"CLM-GEN-{served.kind}"

    upsert = generated.api("claims", "claims_upsert")
    details = m.ClaimUpsert(
        policy_no="PDAA202644010000123",
        plate_no="粵B·12345",
        insured_name="張三明",
        insured_phone="13812345678",
        accident_at=now - timedelta(days=5),
        reported_at=now - timedelta(days=5) + timedelta(minutes=35),
        region="guangdong",
    )
    created = upsert.sync_detailed(claim_no, client=claims_system, body=details)
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, m.ClaimRead)
    assert created.parsed.claim_no == claim_no
    assert created.parsed.stage == m.Stage.REPORTED
    assert created.parsed.insured_phone == "13812345678"  # full values for the claims system
    again = upsert.sync_detailed(claim_no, client=claims_system, body=details)
    assert again.status_code == 200, again.content
    assert isinstance(again.parsed, m.ClaimRead) and again.parsed.stage == m.Stage.REPORTED

    record = generated.api("claims", "claims_record_stage_event")

    def move(stage: Any, days_ago: int, **fields: Any) -> Any:
        body = m.StageEventCreate(stage=stage, occurred_at=now - timedelta(days=days_ago), **fields)
        response = record.sync_detailed(claim_no, client=claims_system, body=body)
        assert response.status_code == 201, response.content
        assert isinstance(response.parsed, m.StageEventRead)
        assert response.parsed.stage == stage
        return response.parsed

    move(m.Stage.SURVEY_ASSESSMENT, 4)
    reviewed = move(m.Stage.DOCUMENT_REVIEW, 3, missing_documents=["維修清單"])
    assert reviewed.outstanding_documents == ["維修清單"]

    # An illegal move is a 409 problem naming the moves allowed from here.
    illegal = record.sync_detailed(
        claim_no,
        client=claims_system,
        body=m.StageEventCreate(stage=m.Stage.SETTLED, occurred_at=now - timedelta(days=2)),
    )
    assert illegal.status_code == 409, illegal.content
    assert isinstance(illegal.parsed, m.Problem) and illegal.parsed.status == 409
    assert "adjustment" in illegal.parsed.allowed

    received_at = now - timedelta(hours=1)
    filed = generated.api("complaints", "complaints_create").sync_detailed(
        client=call_center,
        body=m.ComplaintCreate(
            channel=m.Channel.PHONE,
            text="定损拖了两个月还没结果，一直没定损，等了很久也没人通知我进度",
            complainant=m.Complainant(name="張三明", phone="13812345678"),
            claim_no=claim_no,
            received_at=received_at,
        ),
    )
    assert filed.status_code == 201, filed.content
    complaint = filed.parsed
    assert isinstance(complaint, m.ComplaintRead)
    local_day = received_at.astimezone(LOCAL_TZ).strftime("%Y%m%d")
    assert re.fullmatch(rf"CMP-{local_day}-\d{{6}}", complaint.reference), complaint.reference
    assert complaint.claim_no == claim_no
    assert complaint.claim_stage == "document_review"
    assert complaint.channel == m.Channel.PHONE
    assert complaint.status == "received"
    assert isinstance(complaint.due, m.Due)

    claim = generated.api("claims", "claims_get").sync(claim_no, client=call_center)
    assert isinstance(claim, m.ClaimRead)
    assert [c.reference for c in claim.open_complaints] == [complaint.reference]

    progress_of = generated.api("claims", "claims_get_progress")
    progress = progress_of.sync(claim_no, client=portal, accept_language="en")
    assert isinstance(progress, m.ProgressRead)
    assert progress.claim_no == claim_no
    assert progress.stage == m.Stage.DOCUMENT_REVIEW
    assert progress.stage_label == "Document receipt & review"
    assert [s.status for s in progress.stages] == [
        m.StageProgressStatus.DONE,
        m.StageProgressStatus.DONE,
        m.StageProgressStatus.CURRENT,
        m.StageProgressStatus.PENDING,
        m.StageProgressStatus.PENDING,
        m.StageProgressStatus.PENDING,
    ]
    assert progress.stages[2].stage == m.Stage.DOCUMENT_REVIEW
    assert progress.outstanding_documents == ["維修清單"]
    assert progress.insured_name == "張*明" and progress.insured_phone == "138****5678"

    move(m.Stage.DOCUMENT_REVIEW, 2, missing_documents=[])
    move(m.Stage.ADJUSTMENT, 1)
    later = progress_of.sync(claim_no, client=portal)
    assert isinstance(later, m.ProgressRead)
    assert later.stage == m.Stage.ADJUSTMENT
    assert later.outstanding_documents == []
    assert [s.status for s in later.stages][:4] == [m.StageProgressStatus.DONE] * 3 + [
        m.StageProgressStatus.CURRENT
    ]


def test_errors_come_back_as_problem_models(generated: Generated, clients: dict[str, Any]) -> None:
    m = generated.models
    progress_of = generated.api("claims", "claims_get_progress")
    missing = progress_of.sync_detailed("CLM-NO-SUCH-CLAIM", client=clients["portal"])
    assert missing.status_code == 404, missing.content
    assert isinstance(missing.parsed, m.Problem)
    assert missing.parsed.status == 404 and missing.parsed.title and missing.parsed.detail

    refused = progress_of.sync_detailed("CLM-NO-SUCH-CLAIM", client=clients["stranger"])
    assert refused.status_code == 401, refused.content
    assert isinstance(refused.parsed, m.Problem) and refused.parsed.status == 401
