"""The hybrid classifier at run time: a linear text model and the rule layer, combined and
calibrated. Pure: numpy only (scikit-learn is needed to train, in `training`, not to classify).

The learned layer is TF-IDF over character 1–3-grams (Chinese has no spaces) and English word
1–2-grams, then a multinomial logistic regression. Training exports the vocabularies, IDF
weights and coefficients, so classifying a text is a dictionary lookup per n-gram and one small
matrix product — no scikit-learn call per text.

The combiner adds the rule scores to the model's logits and divides by a temperature:
    z_k = d_k / T + w · log(1 + rule_score_k),  p = softmax(z)
T and w are fitted on out-of-fold predictions (training), so `confidence` is calibrated on
texts the model had not seen.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.classification import rules
from app.classification.normalize import normalize, normalize_mapped
from app.classification.schemas import Alternative, Classification
from app.classification.taxonomy import category_of

CHAR_NGRAMS = (1, 3)
WORD_NGRAMS = (1, 2)
_WORD = re.compile(r"(?u)\b[a-z][a-z']+\b")
_SPACE = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """Character n-grams within words padded by a space (scikit-learn's `char_wb`)."""
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for word in _SPACE.sub(" ", text).split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size < n:
                grams.append(padded)
                break
            grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def word_ngrams(text: str) -> list[str]:
    """English word 1–2-grams (Chinese characters are covered by `char_ngrams`)."""
    tokens = _WORD.findall(text)
    grams = list(tokens)
    for n in range(2, WORD_NGRAMS[1] + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


ANALYZERS = (char_ngrams, word_ngrams)


# Character n-grams as integers: a code point fits in 21 bits, so up to three of them fit in
# one uint64 exactly (no hashing, no collisions); +1 on the first keeps the lengths apart.
def gram_code(gram: str) -> int:
    """The integer of a 1–3-character n-gram (see `char_gram_codes`)."""
    points = [ord(c) for c in gram]
    if len(points) == 1:
        return points[0]
    if len(points) == 2:
        return ((points[0] + 1) << 21) | points[1]
    return ((points[0] + 1) << 42) | (points[1] << 21) | points[2]


def char_gram_codes(text: str) -> np.ndarray:
    """The codes of `char_ngrams(text)`, computed with numpy instead of one string per n-gram:
    the padded words run together, and n-grams that span two words (they contain two
    consecutive spaces) are left out."""
    words = text.split()
    if not words:
        return np.zeros(0, dtype=np.uint64)
    sequence = " " + "  ".join(words) + " "
    points = np.frombuffer(sequence.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    space = points == 32
    double = space[:-1] & space[1:]
    bigrams = ((points[:-1] + 1) << np.uint64(21)) | points[1:]
    trigrams = ((points[:-2] + 1) << np.uint64(42)) | (points[1:-1] << np.uint64(21)) | points[2:]
    return np.concatenate([points, bigrams[~double], trigrams[~(double[:-1] | double[1:])]])


def _counted(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_counts=True)` for a small 1-d array, without its general
    machinery (a third of the time at a few hundred values)."""
    if not len(values):
        return values, np.zeros(0, dtype=np.intp)
    ordered = np.sort(values)
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    counts = np.empty(len(starts), dtype=np.intp)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1] = len(ordered) - starts[-1]
    return ordered[starts], counts


@dataclass
class LinearModel:
    """TF-IDF features (one block per analyzer, each L2-normalised) and a linear layer."""

    classes: list[str]
    vocabularies: list[dict[str, int]]  # per analyzer: n-gram → row within its block
    idf: list[np.ndarray]  # per analyzer
    coef: np.ndarray  # (n_features, n_classes), blocks stacked in analyzer order
    intercept: np.ndarray  # (n_classes,)
    _offsets: list[int] = field(init=False, repr=False)
    _grams: list[str] | None = field(default=None, init=False, repr=False)
    _char_codes: np.ndarray = field(init=False, repr=False)
    _char_rows: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._offsets = []
        offset = 0
        for vocabulary in self.vocabularies:
            self._offsets.append(offset)
            offset += len(vocabulary)
        # The character block is looked up by code in a sorted array (see `features`).
        chars = self.vocabularies[0]
        codes = np.fromiter((gram_code(g) for g in chars), dtype=np.uint64, count=len(chars))
        rows = np.fromiter(chars.values(), dtype=np.intp, count=len(chars))
        order = np.argsort(codes)
        self._char_codes, self._char_rows = codes[order], rows[order]

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature rows, TF-IDF values) of normalised `text`: sublinear TF × IDF, L2 per block."""
        all_rows = []
        all_values = []
        blocks = (self._char_block(text), self._word_block(text))
        for (rows, counts), idf, offset in zip(blocks, self.idf, self._offsets, strict=True):
            if not len(rows):
                continue
            vector = (1.0 + np.log(counts)) * idf[rows]
            vector /= np.sqrt(vector @ vector)
            all_rows.append(rows + offset)
            all_values.append(vector)
        if not all_rows:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(all_rows), np.concatenate(all_values)

    def _char_block(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, counts) of the known character n-grams."""
        codes, counts = _counted(char_gram_codes(text))
        if not len(codes) or not len(self._char_codes):
            return np.zeros(0, dtype=np.intp), counts[:0]
        at = np.searchsorted(self._char_codes, codes)  # sorted queries: cache-friendly
        at[at == len(self._char_codes)] = 0
        known = self._char_codes[at] == codes
        return self._char_rows[at[known]], counts[known]

    def _word_block(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, counts) of the known English word n-grams."""
        lookup = self.vocabularies[1].get
        found = [row for row in map(lookup, word_ngrams(text)) if row is not None]
        if not found:  # Chinese text: no English n-gram
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
        return _counted(np.asarray(found, dtype=np.intp))

    def decision(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Logits per class."""
        if not len(rows):
            return self.intercept.astype(float)
        return values @ self.coef[rows] + self.intercept

    def gram(self, row: int) -> str:
        """The n-gram of a feature row."""
        if self._grams is None:
            grams = []  # every block's n-grams in row order, blocks in analyzer order
            for vocabulary in self.vocabularies:
                block = [""] * len(vocabulary)
                for gram, index in vocabulary.items():
                    block[index] = gram
                grams += block
            self._grams = grams
        return self._grams[row]


@dataclass(frozen=True)
class Explained:
    """A classification with the intermediate figures (for evaluation and tests)."""

    probabilities: np.ndarray
    logits: np.ndarray
    rule_features: np.ndarray
    rule_result: rules.RuleResult
    normalized: str
    rows: np.ndarray
    values: np.ndarray


@dataclass
class HybridModel:
    """The classifier: the linear model, the rule layer and the fitted combiner."""

    version: str
    linear: LinearModel
    temperature: float
    rule_weight: float
    training_size: int
    trained_at: str
    lexicon: str
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        """Sub-cause codes in column order."""
        return self.linear.classes

    def rule_features(self, result: rules.RuleResult) -> np.ndarray:
        """log(1 + score) per class."""
        features = np.zeros(len(self.classes))
        for code, value in result.scores.items():
            features[self.classes.index(code)] = math.log1p(value)
        return features

    def explain(self, text: str, normalized: str | None = None) -> Explained:
        """Probabilities and the figures behind them (`normalized`: `normalize(text)`)."""
        if normalized is None:
            normalized = normalize(text)
        rows, values = self.linear.features(normalized)
        logits = self.linear.decision(rows, values)
        result = rules.score(normalized)
        features = self.rule_features(result)
        z = logits / self.temperature + self.rule_weight * features
        z -= z.max()
        probabilities = np.exp(z)
        probabilities /= probabilities.sum()
        return Explained(probabilities, logits, features, result, normalized, rows, values)

    def predict_proba(self, texts: Iterable[str]) -> np.ndarray:
        """Calibrated class probabilities, one row per text."""
        return np.vstack([self.explain(t).probabilities for t in texts])

    def classify(self, text: str, review_threshold: float = 0.5) -> Classification:
        """The cause of `text`, how sure, why, and the runners-up."""
        normalized, origin = normalize_mapped(text)
        explained = self.explain(text, normalized)
        probabilities = explained.probabilities
        order = np.argsort(-probabilities, kind="stable")
        best, runner = int(order[0]), int(order[1])
        confidence = float(probabilities[best])
        subcause = self.classes[best]
        rule_margin = self.rule_weight * (
            explained.rule_features[best] - explained.rule_features[runner]
        )
        model_margin = (explained.logits[best] - explained.logits[runner]) / self.temperature
        return Classification(
            category=category_of(subcause),
            subcause=subcause,
            confidence=round(confidence, 3),
            method="rules" if rule_margin > model_margin else "model",
            model_version=self.version,
            evidence=self._evidence(text, origin, explained, best),
            alternatives=[
                Alternative(subcause=self.classes[i], confidence=round(float(probabilities[i]), 3))
                for i in order[1:4]
                if probabilities[i] >= 0.02
            ],
            needs_review=confidence < review_threshold,
        )

    def _evidence(
        self, text: str, origin: list[int] | None, explained: Explained, best: int, limit: int = 5
    ) -> list[str]:
        """The rule phrases for the winning sub-cause, then the spans of the text whose
        n-grams pushed the model most towards it; overlapping or touching spans are joined."""
        normalized = explained.normalized
        spans = [(h.start, h.end) for h in explained.rule_result.evidence(self.classes[best])]
        spans += self._model_spans(explained, best, limit)
        evidence: list[str] = []
        for start, end in _join_spans(normalized, spans):
            start, end = _whole_words(normalized, start, end)
            if origin is None:
                phrase = normalized[start:end]
            else:
                phrase = text[origin[start] : origin[end - 1] + 1]
            phrase = phrase.strip(_EDGES)
            if phrase and phrase not in evidence:
                evidence.append(phrase)
        return evidence[:limit]

    def _model_spans(self, explained: Explained, best: int, limit: int) -> list[tuple[int, int]]:
        rows, values, normalized = explained.rows, explained.values, explained.normalized
        if not len(rows):
            return []
        contributions = values * self.linear.coef[rows, best]
        weight = np.zeros(len(normalized) + 1)
        top = np.argsort(-contributions)[:8]
        # Plain Python numbers from here: the same float64 sums, without numpy scalars.
        for row, contribution in zip(rows[top].tolist(), contributions[top].tolist(), strict=True):
            if contribution <= 0:
                break
            gram = self.linear.gram(row).strip()
            if len(gram) < 2:
                continue
            at = normalized.find(gram)
            while at >= 0:
                weight[at : at + len(gram)] += contribution
                at = normalized.find(gram, at + 1)
        positive = np.concatenate([[False], weight[:-1] > 0, [False]])
        edges = np.flatnonzero(positive[1:] != positive[:-1])
        runs = [
            (float(weight[start:end].sum()), int(start), int(end))
            for start, end in zip(edges[::2], edges[1::2], strict=True)
            if end - start >= 2
        ]
        return [(s, e) for _, s, e in sorted(runs, reverse=True)[:limit]]

    # -- persistence: numpy arrays and JSON, never pickle --------------------------------------

    def dumps(self) -> bytes:
        """Serialise to bytes (an `.npz` archive: arrays plus JSON metadata)."""
        meta = {
            "format": 1,
            "version": self.version,
            "classes": self.classes,
            "temperature": self.temperature,
            "rule_weight": self.rule_weight,
            "training_size": self.training_size,
            "trained_at": self.trained_at,
            "lexicon": self.lexicon,
            "metrics": self.metrics,
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            "coef": self.linear.coef.astype(np.float32),
            "intercept": self.linear.intercept,
        }
        for i, (vocabulary, idf) in enumerate(
            zip(self.linear.vocabularies, self.linear.idf, strict=True)
        ):
            grams = sorted(vocabulary, key=vocabulary.__getitem__)
            arrays[f"vocab{i}"] = np.frombuffer(json.dumps(grams).encode(), dtype=np.uint8)
            arrays[f"idf{i}"] = idf
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @staticmethod
    def loads(data: bytes) -> HybridModel:
        """Load what `dumps` wrote (no code is executed: `allow_pickle=False`)."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            meta = json.loads(archive["meta"].tobytes())
            if meta.get("format") != 1:
                raise ValueError(f"unknown model format {meta.get('format')!r}")
            vocabularies = []
            idf = []
            for i in range(len(ANALYZERS)):
                grams = json.loads(archive[f"vocab{i}"].tobytes())
                vocabularies.append({gram: row for row, gram in enumerate(grams)})
                idf.append(archive[f"idf{i}"])
            linear = LinearModel(
                classes=meta["classes"],
                vocabularies=vocabularies,
                idf=idf,
                coef=archive["coef"].astype(np.float64),
                intercept=archive["intercept"],
            )
        return HybridModel(
            version=meta["version"],
            linear=linear,
            temperature=meta["temperature"],
            rule_weight=meta["rule_weight"],
            training_size=meta["training_size"],
            trained_at=meta["trained_at"],
            lexicon=meta["lexicon"],
            metrics=meta["metrics"],
        )


_EDGES = " \t,.;:!?'\"，。；：！？、…（）()「」“”"


def _join_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join spans that overlap, touch or are one space apart; keep the order in which each
    joined span was first named (rule phrases before model spans)."""
    groups: list[list[int]] = []  # [start, end, rank]
    for rank, (start, end) in enumerate(spans):
        groups.append([start, end, rank])
    groups.sort()
    joined: list[list[int]] = []
    for start, end, rank in groups:
        if joined and (
            start <= joined[-1][1] or (start == joined[-1][1] + 1 and text[start - 1] == " ")
        ):
            joined[-1][1] = max(joined[-1][1], end)
            joined[-1][2] = min(joined[-1][2], rank)
        else:
            joined.append([start, end, rank])
    return [(start, end) for start, end, _ in sorted(joined, key=lambda g: g[2])]


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that cuts a Latin word to the whole word."""
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isascii() and text[end].isalnum():
        end += 1
    return start, end


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def combine(
    logits: np.ndarray, rule_features: np.ndarray, temperature: float, rule_weight: float
) -> np.ndarray:
    """The combiner on many rows at once (training uses it to fit T and w)."""
    return softmax_rows(logits / temperature + rule_weight * rule_features)


def subcauses(probabilities: np.ndarray, classes: Sequence[str]) -> list[str]:
    """The most probable class per row."""
    return [classes[i] for i in probabilities.argmax(axis=1)]
