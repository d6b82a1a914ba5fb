"""Fixtures: the model trained on the built-in data (trained once, then cached) and the dev set."""

from __future__ import annotations

import pytest

from app.classification.model import HybridModel
from app.classification.service import builtin_model
from app.classification.training import DEV_SET, Example, load_jsonl
from tests.conftest import ROOT, make_settings

SHARED_DEV = ROOT.parent / "shared" / "data" / "complaints_dev.jsonl"


@pytest.fixture(scope="session")
def builtin() -> HybridModel:
    """The model every fresh service starts with."""
    return builtin_model(make_settings("sqlite+aiosqlite:///:memory:"))


@pytest.fixture(scope="session")
def dev() -> list[Example]:
    """The development set (packaged copy of ../shared/data/complaints_dev.jsonl)."""
    return load_jsonl(DEV_SET)
