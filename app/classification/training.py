"""Training and evaluating the hybrid classifier (scikit-learn lives here, not at run time).

`train` fits the linear layer on every example, and fits the combiner (temperature and rule
weight) on 5-fold out-of-fold predictions, which also give the cross-validation figures.
`evaluate` measures a model on labelled texts it was not trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.classification import rules
from app.classification.model import (
    ANALYZERS,
    HybridModel,
    LinearModel,
    combine,
    subcauses,
)
from app.classification.normalize import normalize
from app.classification.taxonomy import SUBCAUSE_CODES, category_of

DATA_DIR = Path(__file__).parent / "data"
DEV_SET = DATA_DIR / "eval_dev.jsonl"
FOLDS = 5
SEED = 7
C = 8.0
OVERRIDE_WEIGHT = 3.0  # a supervisor's correction counts as much as three written examples
RECIPE = "hybrid-4"  # bump when training changes in a way the data digest cannot see


@dataclass(frozen=True)
class Example:
    """One labelled complaint text."""

    id: str
    text: str
    lang: str
    subcause: str
    weight: float = 1.0


def load_jsonl(path: Path) -> list[Example]:
    """Read labelled examples from a JSON Lines file (the dev-set format)."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                example = Example(row["id"], row["text"], row["lang"], row["subcause"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled example ({exc})") from None
            if example.subcause not in SUBCAUSE_CODES:
                raise ValueError(f"{path}:{number}: unknown sub-cause {example.subcause!r}")
            examples.append(example)
    return examples


def builtin_examples() -> list[Example]:
    """Every example shipped in app/classification/data (the training files only)."""
    return [e for path in sorted(DATA_DIR.glob("train_*.jsonl")) for e in load_jsonl(path)]


def data_version(examples: Sequence[Example]) -> str:
    """The version a model trained on `examples` gets: a digest of the data, the lexicon and
    the recipe, so the same inputs always give the same version."""
    from importlib.metadata import version

    learner = f"scikit-learn {version('scikit-learn')}"
    digest = hashlib.sha256(f"{RECIPE}\n{rules.lexicon_digest()}\n{learner}\n".encode())
    for e in examples:
        digest.update(f"{e.subcause}\t{e.weight}\t{e.text}\n".encode())
    return f"{RECIPE}-{digest.hexdigest()[:10]}"


# -- fitting -----------------------------------------------------------------------------------


def fit_sklearn(texts: Sequence[str], labels: Sequence[str], weights: Sequence[float]):
    """The scikit-learn objects: one TF-IDF vectorizer per analyzer and the regression."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizers = [
        TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float64)
        for analyzer in ANALYZERS
    ]
    matrix = hstack([v.fit_transform(texts) for v in vectorizers]).tocsr()
    regression = LogisticRegression(
        C=C, solver="newton-cg", max_iter=500, class_weight="balanced", random_state=SEED
    )
    regression.fit(matrix, list(labels), sample_weight=np.asarray(weights))
    return vectorizers, regression


def fit_linear(
    texts: Sequence[str], labels: Sequence[str], weights: Sequence[float]
) -> LinearModel:
    """TF-IDF + multinomial logistic regression on normalised texts, exported for `model`."""
    vectorizers, regression = fit_sklearn(texts, labels, weights)
    return LinearModel(
        classes=[str(c) for c in regression.classes_],
        vocabularies=[{str(k): int(v) for k, v in vec.vocabulary_.items()} for vec in vectorizers],
        idf=[np.asarray(vec.idf_) for vec in vectorizers],
        coef=np.ascontiguousarray(regression.coef_.T),
        intercept=np.asarray(regression.intercept_),
    )


def _rule_matrix(normalized: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    matrix = np.zeros((len(normalized), len(classes)))
    column = {code: i for i, code in enumerate(classes)}
    for row, text in enumerate(normalized):
        for code, value in rules.score(text).scores.items():
            matrix[row, column[code]] = np.log1p(value)
    return matrix


def fit_combiner(
    logits: np.ndarray, rule_features: np.ndarray, gold: np.ndarray, weights: np.ndarray
) -> tuple[float, float]:
    """Temperature T > 0 and rule weight w ≥ 0 minimising the weighted log-loss."""
    from scipy.optimize import minimize

    def loss(params: np.ndarray) -> float:
        temperature, rule_weight = np.exp(params[0]), params[1]
        p = combine(logits, rule_features, temperature, rule_weight)
        return float(-(weights * np.log(p[np.arange(len(gold)), gold] + 1e-12)).sum())

    best = minimize(
        loss, x0=np.array([0.0, 0.5]), bounds=[(-3.0, 3.0), (0.0, 5.0)], method="L-BFGS-B"
    )
    return float(np.exp(best.x[0])), float(best.x[1])


@dataclass
class OutOfFold:
    """Predictions for every training example by a model that did not see it."""

    logits: np.ndarray
    rule_features: np.ndarray
    classes: list[str]


def out_of_fold(
    normalized: Sequence[str], labels: Sequence[str], weights: Sequence[float], folds: int
) -> OutOfFold:
    """K-fold (stratified) logits and rule features."""
    from sklearn.model_selection import StratifiedKFold

    classes = sorted(set(labels))
    logits = np.zeros((len(normalized), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train_rows, test_rows in splitter.split(np.zeros(len(labels)), labels):
        linear = fit_linear(
            [normalized[i] for i in train_rows],
            [labels[i] for i in train_rows],
            [weights[i] for i in train_rows],
        )
        if linear.classes != classes:
            raise ValueError("every sub-cause needs examples in every fold")
        for i in test_rows:
            logits[i] = linear.decision(*linear.features(normalized[i]))
    return OutOfFold(logits, _rule_matrix(normalized, classes), classes)


def train(examples: Sequence[Example], folds: int = FOLDS) -> HybridModel:
    """Fit the hybrid classifier; its `metrics` hold the cross-validation figures."""
    missing = set(SUBCAUSE_CODES) - {e.subcause for e in examples}
    if missing:
        raise ValueError(f"no training examples for {sorted(missing)}")
    normalized = [normalize(e.text) for e in examples]
    labels = [e.subcause for e in examples]
    weights = [e.weight for e in examples]
    oof = out_of_fold(normalized, labels, weights, folds)
    gold = np.array([oof.classes.index(label) for label in labels])
    temperature, rule_weight = fit_combiner(
        oof.logits, oof.rule_features, gold, np.asarray(weights)
    )
    cv_probabilities = combine(oof.logits, oof.rule_features, temperature, rule_weight)
    cv = report(examples, cv_probabilities, oof.classes)
    linear = fit_linear(normalized, labels, weights)
    return HybridModel(
        version=data_version(examples),
        linear=linear,
        temperature=temperature,
        rule_weight=rule_weight,
        training_size=len(examples),
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        lexicon=rules.lexicon_digest(),
        metrics={"cross_validation": {"folds": folds, **cv.summary()}},
    )


# -- evaluation --------------------------------------------------------------------------------


@dataclass
class ClassScores:
    """Precision, recall, F1 and support of one class."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Report:
    """Quality figures of predictions against gold labels."""

    size: int
    subcause: dict[str, ClassScores]
    category: dict[str, ClassScores]
    subcause_macro_f1: float
    category_macro_f1: float
    accuracy: float
    category_accuracy: float
    by_language: dict[str, dict[str, float]]
    calibration_error: float  # expected calibration error, 10 bins
    confusion: list[list[int]]  # rows gold, columns predicted, in `labels` order
    labels: list[str]

    def summary(self) -> dict[str, Any]:
        """The headline figures (what `GET /v1/classifier` shows)."""
        return {
            "size": self.size,
            "subcause_macro_f1": round(self.subcause_macro_f1, 4),
            "category_macro_f1": round(self.category_macro_f1, 4),
            "accuracy": round(self.accuracy, 4),
            "category_accuracy": round(self.category_accuracy, 4),
            "calibration_error": round(self.calibration_error, 4),
            "by_language": self.by_language,
        }


def _scores(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]):
    from sklearn.metrics import precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(
        gold, predicted, labels=list(labels), zero_division=0
    )
    return {
        label: ClassScores(float(p[i]), float(r[i]), float(f[i]), int(s[i]))
        for i, label in enumerate(labels)
    }


def _macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro-F1 over the classes present in `gold`."""
    from sklearn.metrics import f1_score

    labels = sorted(set(gold))
    return float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0))


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the weighted mean |accuracy − confidence| over bins."""
    if not len(confidence):
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            error += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(error)


def report(examples: Sequence[Example], probabilities: np.ndarray, classes: list[str]) -> Report:
    """Figures for predictions (`probabilities`, columns in `classes` order) on `examples`."""
    from sklearn.metrics import confusion_matrix

    gold = [e.subcause for e in examples]
    predicted = subcauses(probabilities, classes)
    gold_cat = [category_of(g) for g in gold]
    predicted_cat = [category_of(p) for p in predicted]
    categories = sorted({category_of(c) for c in SUBCAUSE_CODES})
    subcause = _scores(gold, predicted, SUBCAUSE_CODES)
    category = _scores(gold_cat, predicted_cat, categories)
    present = [code for code in SUBCAUSE_CODES if code in set(gold)]
    present_cat = [c for c in categories if c in set(gold_cat)]
    by_language: dict[str, dict[str, float]] = {}
    for lang in sorted({e.lang for e in examples}):
        rows = [i for i, e in enumerate(examples) if e.lang == lang]
        by_language[lang] = {
            "size": len(rows),
            "accuracy": round(float(np.mean([gold[i] == predicted[i] for i in rows])), 4),
            "category_accuracy": round(
                float(np.mean([gold_cat[i] == predicted_cat[i] for i in rows])), 4
            ),
            "subcause_macro_f1": round(
                _macro_f1([gold[i] for i in rows], [predicted[i] for i in rows]), 4
            ),
            "category_macro_f1": round(
                _macro_f1([gold_cat[i] for i in rows], [predicted_cat[i] for i in rows]), 4
            ),
        }
    correct = np.array([g == p for g, p in zip(gold, predicted, strict=True)])
    return Report(
        size=len(examples),
        subcause=subcause,
        category=category,
        subcause_macro_f1=float(np.mean([subcause[c].f1 for c in present])) if present else 0.0,
        category_macro_f1=float(np.mean([category[c].f1 for c in present_cat]))
        if present_cat
        else 0.0,
        accuracy=float(correct.mean()) if len(correct) else 0.0,
        category_accuracy=float(
            np.mean([g == p for g, p in zip(gold_cat, predicted_cat, strict=True)])
        )
        if gold
        else 0.0,
        by_language=by_language,
        calibration_error=calibration_error(probabilities.max(axis=1), correct),
        confusion=confusion_matrix(gold, predicted, labels=list(SUBCAUSE_CODES)).tolist(),
        labels=list(SUBCAUSE_CODES),
    )


def evaluate(model: HybridModel, examples: Sequence[Example]) -> Report:
    """Measure `model` on labelled `examples`."""
    return report(examples, model.predict_proba(e.text for e in examples), model.classes)


def format_report(report: Report, title: str) -> str:
    """A plain-text report: per-class precision/recall/F1, macro-F1, confusion, languages."""
    lines = [f"{title}: {report.size} texts", ""]
    lines.append(f"{'category':<48}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
    for code, s in report.category.items():
        lines.append(f"{code:<48}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.support:>6}")
    lines.append("")
    lines.append(f"{'sub-cause':<48}{'P':>7}{'R':>7}{'F1':>7}{'n':>6}")
    for code, s in report.subcause.items():
        lines.append(f"{code:<48}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}{s.support:>6}")
    lines += [
        "",
        f"category macro-F1   {report.category_macro_f1:.3f}",
        f"sub-cause macro-F1  {report.subcause_macro_f1:.3f}",
        f"accuracy            {report.accuracy:.3f} (category {report.category_accuracy:.3f})",
        f"calibration error   {report.calibration_error:.3f} (ECE, 10 bins)",
        "",
        "accuracy by language:",
    ]
    for lang, figures in report.by_language.items():
        lines.append(
            f"  {lang:<8} {figures['accuracy']:.3f} (category {figures['category_accuracy']:.3f}; "
            f"macro-F1 sub-cause {figures['subcause_macro_f1']:.3f}, category "
            f"{figures['category_macro_f1']:.3f}; n={int(figures['size'])})"
        )
    lines += ["", "confusion (rows gold, columns predicted):"]
    width = max(len(code) for code in report.labels) + 1
    short = [f"{i + 1:>3}" for i in range(len(report.labels))]
    lines.append(" " * (width + 3) + "".join(short))
    for i, (code, row) in enumerate(zip(report.labels, report.confusion, strict=True)):
        lines.append(f"{i + 1:>2} {code:<{width}}" + "".join(f"{v:>3}" for v in row))
    return "\n".join(lines)


JUDGED = (
    ("evaluation", "subcause_macro_f1"),
    ("evaluation", "category_macro_f1"),
    ("cross_validation", "subcause_macro_f1"),
)


def judge(current: dict[str, Any], candidate: dict[str, Any], tolerance: float) -> tuple[bool, str]:
    """Whether a retrained model may replace the one in use: none of its macro-F1 figures (on
    the evaluation set, and by cross-validation) may fall more than `tolerance` below."""
    worse = []
    compared = []
    for section, figure in JUDGED:
        new = candidate.get(section, {}).get(figure)
        old = current.get(section, {}).get(figure)
        if new is None:
            return False, f"refused: the candidate has no {section} {figure}"
        if old is None:
            continue
        compared.append(f"{section} {figure} {new:.3f} (in use {old:.3f})")
        if new < old - tolerance:
            worse.append(f"{section} {figure} {new:.3f} < {old:.3f} − {tolerance:.3f}")
    if worse:
        return False, "refused, the model in use stays: " + "; ".join(worse)
    return True, "accepted: " + "; ".join(compared)
