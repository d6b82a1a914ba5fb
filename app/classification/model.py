"""The learned layer: TF-IDF over character n-grams and a linear model with calibrated output."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import joblib
import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline

from app.classification.normalize import normalize


def build_pipeline(seed: int = 7) -> Pipeline:
    """Character 1–3-grams (Chinese has no spaces) plus English word 1–2-grams, then a
    logistic regression whose probabilities are calibrated by cross-validation."""
    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b[a-z][a-z']+\b",  # noqa: S106 - a regex, not a secret
                ),
            ),
        ]
    )
    base = LogisticRegression(C=8.0, max_iter=3000, class_weight="balanced", random_state=seed)
    return Pipeline(
        [("features", features), ("model", CalibratedClassifierCV(base, method="sigmoid", cv=3))]
    )


@dataclass
class TrainedModel:
    """A fitted pipeline with its version and what it was trained on."""

    pipeline: Pipeline
    version: str
    training_size: int
    classes: list[str] = field(default_factory=list)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities per text, columns in `classes` order."""
        return self.pipeline.predict_proba([normalize(t) for t in texts])

    def dumps(self) -> bytes:
        """Serialise (joblib) for storage."""
        buffer = io.BytesIO()
        joblib.dump(self, buffer)
        return buffer.getvalue()

    @staticmethod
    def loads(data: bytes) -> TrainedModel:
        """Load what `dumps` wrote."""
        return joblib.load(io.BytesIO(data))


def train(texts: Sequence[str], labels: Sequence[str], seed: int = 7) -> TrainedModel:
    """Fit on labelled texts; the version is a digest of the data, so retraining on the same
    data gives the same version."""
    pipeline = build_pipeline(seed)
    pipeline.fit([normalize(t) for t in texts], list(labels))
    digest = hashlib.sha256(
        "\n".join(f"{lab}\t{t}" for t, lab in zip(texts, labels, strict=True)).encode()
    )
    return TrainedModel(
        pipeline=pipeline,
        version=f"tfidf-lr-{digest.hexdigest()[:10]}",
        training_size=len(texts),
        classes=[str(c) for c in pipeline.classes_],
    )
