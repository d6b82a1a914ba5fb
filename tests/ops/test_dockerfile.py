"""The Dockerfile, checked by reading it (no Docker engine runs on these machines).

Its commands must be ones the CLI accepts, its configuration must be settings the service
reads, it must run as a non-root user, apply migrations on start (`serve` does) and have a
health check against the port it exposes.
"""

from __future__ import annotations

import json
import re
import shlex

import pytest

from app.cli import build_parser
from app.core.config import Settings
from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _one(name: str) -> str:
    values = [rest for word, rest in _instructions() if word == name]
    assert len(values) == 1, f"expected one {name}, found {values}"
    return values[0]


def _exec_form(value: str) -> list[str]:
    parsed = json.loads(value)
    assert isinstance(parsed, list) and all(isinstance(p, str) for p in parsed), value
    return parsed


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in _instructions():
        if word == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_the_base_image_is_slim_python_311() -> None:
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?( AS \w+)?", _one("FROM"))


def test_the_image_runs_as_a_non_root_user_created_in_it() -> None:
    user = _one("USER")
    assert user not in ("root", "0") and not user.startswith("0:")
    runs = " ".join(rest for word, rest in _instructions() if word == "RUN")
    assert re.search(rf"useradd\b[^&]*\b{re.escape(user)}\b", runs), "USER is never created"


def test_the_entrypoint_and_command_are_a_serve_the_cli_accepts() -> None:
    entrypoint = _exec_form(_one("ENTRYPOINT"))
    command = _exec_form(_one("CMD"))
    assert entrypoint == ["claimdesk"]
    args = build_parser().parse_args(command)
    assert args.handler.__name__ == "_cmd_serve"  # serve migrates, then starts uvicorn
    assert args.host == "0.0.0.0"
    assert str(args.port) == _one("EXPOSE")


def test_every_claimdesk_command_run_at_build_time_is_valid() -> None:
    runs = [rest for word, rest in _instructions() if word == "RUN"]
    invocations = [
        shlex.split(part)[1:]
        for run in runs
        for part in re.split(r"&&|;", run)
        if shlex.split(part)[:1] == ["claimdesk"]
    ]
    assert invocations, "the image should train the built-in model at build time"
    for argv in invocations:
        build_parser().parse_args(argv)  # exits (SystemExit) on an unknown command or option


def test_the_health_check_asks_healthz_on_the_exposed_port() -> None:
    check = _one("HEALTHCHECK")
    assert re.search(rf"http://127\.0\.0\.1:{_one('EXPOSE')}/healthz", check), check
    assert "--interval=" in check and "--timeout=" in check


def test_configuration_comes_from_claimdesk_settings_only() -> None:
    fields = {f"CLAIMDESK_{name.upper()}" for name in Settings.model_fields}
    ours = {key for key in _env() if key.startswith("CLAIMDESK_")}
    assert ours <= fields, ours - fields
    # the database lives on the declared volume, so a new container keeps the data
    url = _env()["CLAIMDESK_DATABASE_URL"]
    volume = _exec_form(_one("VOLUME"))[0]
    assert url.startswith(f"sqlite+aiosqlite:///{volume}/"), (url, volume)


def test_what_the_image_copies_exists_and_stays_out_of_the_ignore_file() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for word, rest in _instructions():
        if word == "COPY":
            *sources, _target = shlex.split(rest)
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source not in ignored, source
    for secret_or_local in (".venv", "var", ".git"):
        assert secret_or_local in ignored


@pytest.mark.parametrize("name", ["migrations", "alembic.ini", "app"])
def test_migrations_ship_in_the_image(name: str) -> None:
    copied = " ".join(rest for word, rest in _instructions() if word == "COPY")
    assert name in copied
