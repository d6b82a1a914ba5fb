"""The `claimdesk` command line, run as a real process."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PG_UP, ROOT, create_pg_database, drop_pg_database


def run(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLAIMDESK_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
        return
    if not PG_UP:
        pytest.skip("PostgreSQL is not running")
    made = asyncio.run(create_pg_database())
    yield made
    asyncio.run(drop_pg_database(made))


def test_migrate_then_keys_create_list_revoke(url: str) -> None:
    assert "migration head" in run(url, "migrate").stdout
    created = run(url, "keys", "create", "--role", "portal", "--name", "portal-web")
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("cdk_") and len(key) > 40
    listed = run(url, "keys", "list").stdout
    assert "portal-web" in listed and "portal" in listed
    assert key not in listed and key[12:] not in listed
    assert "revoked key" in run(url, "keys", "revoke", "portal-web").stdout
    again = run(url, "keys", "revoke", "portal-web", check=False)
    assert again.returncode == 1 and "no active key" in again.stderr


def test_duplicate_key_name_is_refused(url: str) -> None:
    run(url, "migrate")
    run(url, "keys", "create", "--role", "admin", "--name", "ops")
    second = run(url, "keys", "create", "--role", "admin", "--name", "ops", check=False)
    assert second.returncode != 0
    assert "already exists" in second.stderr


def test_unknown_role_is_refused(tmp_path) -> None:
    result = run(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "keys",
        "create",
        "--role",
        "root",
        "--name",
        "x",
        check=False,
    )
    assert result.returncode == 2 and "invalid choice" in result.stderr


def test_first_admin_key_is_created_once(tmp_path) -> None:
    from app.cli import ensure_first_admin_key, migrate
    from tests.conftest import make_settings

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'first.db'}")
    migrate(settings)
    first = ensure_first_admin_key(settings)
    assert first is not None and first.startswith("cdk_")
    assert ensure_first_admin_key(settings) is None


def test_openapi_command_prints_the_committed_spec(tmp_path) -> None:
    printed = run(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}", "openapi").stdout
    assert json.loads(printed)["info"]["title"] == "claimdesk"
    assert printed == (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")


def test_classifier_evaluate_prints_the_figures(url: str, tmp_path) -> None:
    run(url, "migrate")
    printed = run(url, "classifier", "evaluate", "app/classification/data/eval_dev.jsonl").stdout
    assert "sub-cause macro-F1" in printed and "category macro-F1" in printed
    assert "confusion (rows gold, columns predicted)" in printed
    for lang in ("zh-Hans", "zh-Hant", "en"):
        assert f"  {lang} " in printed
    assert printed.count("timeliness.payment_delay") == 2  # per-class line and confusion row
    assert "160 texts" in printed


def test_classifier_evaluate_refuses_a_bad_file(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    missing = run(url, "classifier", "evaluate", "--builtin", str(tmp_path / "none"), check=False)
    assert missing.returncode == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "text": "x", "lang": "en", "subcause": "nope"}\n')
    refused = run(url, "classifier", "evaluate", "--builtin", str(bad), check=False)
    assert refused.returncode == 1 and "bad.jsonl:1" in refused.stderr


def test_classifier_train_retrains_and_keeps_a_model_that_is_not_worse(tmp_path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 't.db'}"
    run(url, "migrate")
    trained = run(url, "classifier", "train")
    assert trained.stdout.startswith("accepted")
    assert "cross_validation" in trained.stdout and "evaluation" in trained.stdout
    built = run(url, "classifier", "train", "--builtin-only").stdout
    assert "built-in texts" in built
