"""The learned layer: normalisation, and dev-set quality that must not regress."""

from __future__ import annotations

import pytest
from sklearn.metrics import accuracy_score, f1_score

from app.classification.model import train
from app.classification.normalize import normalize
from app.classification.taxonomy import SUBCAUSE_CODES
from app.classification.training import builtin_examples, load_jsonl
from tests.conftest import ROOT

DEV = ROOT.parent / "shared" / "data" / "complaints_dev.jsonl"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("你們按二手件的價格給我算的保險槓", "你们按二手件的价格给我算的保险杠"),
        ("ＡＢＣ　１２３", "abc 123"),
        ("Deductible  NEVER\texplained", "deductible never explained"),
        ("賠款未及時到賬", "赔款未及时到账"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_builtin_data_covers_the_taxonomy_in_three_languages() -> None:
    examples = builtin_examples()
    assert {e.subcause for e in examples} == set(SUBCAUSE_CODES)
    for code in SUBCAUSE_CODES:
        langs = {e.lang for e in examples if e.subcause == code}
        assert langs == {"zh-Hans", "zh-Hant", "en"}, code
    assert len({e.id for e in examples}) == len(examples)


@pytest.fixture(scope="module")
def dev():
    if not DEV.exists():
        pytest.fail(f"the development set is missing at {DEV}")
    return load_jsonl(DEV)


def test_training_data_shares_no_text_with_the_dev_set(dev) -> None:
    train_texts = {normalize(e.text) for e in builtin_examples()}
    assert not train_texts & {normalize(e.text) for e in dev}


def test_dev_set_quality_stays_above_the_floor(dev) -> None:
    """Trained only on built-in data; measured 2026-11-24: sub-cause macro-F1 0.876, category
    macro-F1 0.938, accuracy zh 0.89, en 0.79. The floors leave room for noise, not for a
    regression."""
    examples = builtin_examples()
    model = train([e.text for e in examples], [e.subcause for e in examples])
    probabilities = model.predict_proba([e.text for e in dev])
    predicted = [model.classes[i] for i in probabilities.argmax(axis=1)]
    gold = [e.subcause for e in dev]
    category = lambda code: code.split(".")[0]  # noqa: E731
    assert f1_score(gold, predicted, average="macro") >= 0.84
    assert (
        f1_score([category(g) for g in gold], [category(p) for p in predicted], average="macro")
        >= 0.90
    )
    chinese = [i for i, e in enumerate(dev) if e.lang != "en"]
    assert accuracy_score([gold[i] for i in chinese], [predicted[i] for i in chinese]) >= 0.85
    english = [i for i, e in enumerate(dev) if e.lang == "en"]
    assert accuracy_score([gold[i] for i in english], [predicted[i] for i in english]) >= 0.70
