"""The classifier in use: loading it, the built-in model cache, retraining with supervisors'
overrides, and keeping every replica on the same model.

Which model is in use is decided by the database, not by a process: the latest accepted row of
`classifier_model`, or — when there is none — the model trained on the built-in data, which is
deterministic (its version is a digest of data, lexicon and recipe), so every process that
trains or loads it from its cache gets the same model.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.auth.service import Actor
from app.classification.model import HybridModel
from app.classification.models import ClassificationOverride, ClassifierModel
from app.classification.normalize import guess_language
from app.classification.schemas import Classification
from app.classification.training import (
    DEV_SET,
    OVERRIDE_WEIGHT,
    Example,
    builtin_examples,
    data_version,
    evaluate,
    judge,
    load_jsonl,
    train,
)
from app.core.config import Settings

log = logging.getLogger("claimdesk.classifier")

BUILTIN, RETRAINED = "builtin", "retrained"


class ClassifierRuntime:
    """The model this process classifies with; swapped whole, never edited in place."""

    def __init__(self, model: HybridModel, source: str, review_threshold: float) -> None:
        self.model = model
        self.source = source
        self.review_threshold = review_threshold
        self.retrain_lock = asyncio.Lock()

    def classify(self, text: str) -> Classification:
        """The cause of a complaint text."""
        return self.model.classify(text, self.review_threshold)

    def use(self, model: HybridModel, source: str) -> None:
        """Switch to another model (one assignment: requests see the old or the new one)."""
        if model.version != self.model.version:
            log.info("classifier model %s (%s) in use", model.version, source)
        self.model, self.source = model, source


# -- the model trained on the built-in data ----------------------------------------------------

_builtin_lock = threading.Lock()
_builtin_memo: dict[str, HybridModel] = {}


def eval_examples(settings: Settings) -> list[Example]:
    """The labelled texts a model is judged on (never trained on)."""
    return load_jsonl(settings.classifier_eval_file or DEV_SET)


def builtin_model(settings: Settings) -> HybridModel:
    """The model trained on the built-in data: from memory, from the cache directory, or
    trained now (a few seconds) and cached. Blocking; call it in a thread from async code."""
    examples = builtin_examples()
    version = data_version(examples)
    with _builtin_lock:
        if version in _builtin_memo:
            return _builtin_memo[version]
        path = Path(settings.classifier_cache_dir) / f"{version}.npz"
        model = None
        if path.exists():
            try:
                model = HybridModel.loads(path.read_bytes())
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring unreadable model cache %s: %s", path, exc)
        if model is None or model.version != version:
            log.info("training the classifier on %d built-in examples", len(examples))
            model = train(examples)
            model.metrics["evaluation"] = evaluate(model, eval_examples(settings)).summary()
            _write_atomically(path, model.dumps())
        _builtin_memo[version] = model
        return model


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".model-", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only disk only costs a retrain at the next start
        log.warning("could not cache the model at %s: %s", path, exc)


# -- the model in use --------------------------------------------------------------------------

_LATEST_ACCEPTED = (
    select(ClassifierModel.version, ClassifierModel.artifact)
    .where(ClassifierModel.accepted.is_(True))  # type: ignore[union-attr,attr-defined]
    .order_by(ClassifierModel.id.desc())  # type: ignore[union-attr]
    .limit(1)
)
_LATEST_ACCEPTED_VERSION = (
    select(ClassifierModel.version)
    .where(ClassifierModel.accepted.is_(True))  # type: ignore[union-attr,attr-defined]
    .order_by(ClassifierModel.id.desc())  # type: ignore[union-attr]
    .limit(1)
)


async def load_runtime(db: Any, settings: Settings) -> ClassifierRuntime:
    """The model the database says is in use (built-in when none was retrained)."""
    async with db.read_sessionmaker() as session:
        row = (await session.execute(_LATEST_ACCEPTED)).first()
    if row is not None and row.artifact is not None:
        model = await asyncio.to_thread(HybridModel.loads, row.artifact)
        return ClassifierRuntime(model, RETRAINED, settings.classifier_review_threshold)
    model = await asyncio.to_thread(builtin_model, settings)
    return ClassifierRuntime(model, BUILTIN, settings.classifier_review_threshold)


async def refresh(runtime: ClassifierRuntime, db: Any, settings: Settings) -> None:
    """Follow a retrain done by another replica (or a reset to the built-in model)."""
    async with db.read_sessionmaker() as session:
        version = (await session.execute(_LATEST_ACCEPTED_VERSION)).scalar_one_or_none()
        if version == runtime.model.version:
            return
        if version is None:
            if runtime.source != BUILTIN:
                runtime.use(await asyncio.to_thread(builtin_model, settings), BUILTIN)
            return
        row = (await session.execute(_LATEST_ACCEPTED)).first()
    if row is not None and row.artifact is not None:
        runtime.use(await asyncio.to_thread(HybridModel.loads, row.artifact), RETRAINED)


# -- overrides and retraining ------------------------------------------------------------------


def record_override(
    session: Any,
    *,
    complaint_id: int,
    text: str,
    subcause: str,
    previous: dict[str, Any],
    reason: str,
    actor: Actor,
    now: datetime,
) -> None:
    """Keep a supervisor's correction as a labelled example (in the caller's transaction)."""
    session.add(
        ClassificationOverride(
            complaint_id=complaint_id,
            text=text,
            subcause=subcause,
            previous_subcause=previous.get("subcause", ""),
            previous_model_version=previous.get("model_version"),
            reason=reason,
            actor=actor.principal.name,
            created_at=now,
        )
    )


async def override_examples(db: Any) -> list[Example]:
    """The latest override of each complaint, as weighted training examples."""
    latest = (
        select(func.max(ClassificationOverride.id))
        .group_by(ClassificationOverride.complaint_id)
        .scalar_subquery()
    )
    async with db.read_sessionmaker() as session:
        rows = (
            await session.execute(
                select(ClassificationOverride)
                .where(ClassificationOverride.id.in_(latest))  # type: ignore[union-attr]
                .order_by(ClassificationOverride.id)
            )
        ).scalars()
        return [
            Example(
                f"override-{o.id}",
                o.text,
                guess_language(o.text),
                o.subcause,
                OVERRIDE_WEIGHT,
            )
            for o in rows
        ]


@dataclass(frozen=True)
class RetrainOutcome:
    """What a retrain did."""

    accepted: bool
    decision: str
    candidate: HybridModel
    previous_version: str
    active_version: str
    overrides: int


def _train_and_judge(
    examples: list[Example], evaluation: list[Example], current: HybridModel, tolerance: float
) -> tuple[HybridModel, bool, str]:
    candidate = train(examples)
    candidate.metrics["evaluation"] = evaluate(candidate, evaluation).summary()
    current_metrics = {
        **current.metrics,
        "evaluation": evaluate(current, evaluation).summary(),  # the same texts as the candidate
    }
    accepted, decision = judge(current_metrics, candidate.metrics, tolerance)
    return candidate, accepted, decision


async def retrain(
    runtime: ClassifierRuntime, db: Any, settings: Settings, actor: Actor, now: datetime
) -> RetrainOutcome:
    """Train on the built-in data plus overrides, judge the result against the model in use on
    the evaluation set and by cross-validation, store it, and use it only when it is not worse.
    """
    async with runtime.retrain_lock:  # one retrain at a time per process
        overrides = await override_examples(db)
        examples = builtin_examples() + overrides
        current = runtime.model
        candidate, accepted, decision = await asyncio.to_thread(
            _train_and_judge,
            examples,
            eval_examples(settings),
            current,
            settings.classifier_retrain_tolerance,
        )
        async with db.session() as session:
            session.add(
                ClassifierModel(
                    version=candidate.version,
                    accepted=accepted,
                    decision=decision,
                    training_size=candidate.training_size,
                    overrides=len(overrides),
                    metrics=candidate.metrics,
                    artifact=candidate.dumps() if accepted else None,
                    created_by=actor.principal.name,
                    created_at=now,
                )
            )
            await session.commit()
        if accepted:
            runtime.use(candidate, RETRAINED)
        return RetrainOutcome(
            accepted=accepted,
            decision=decision,
            candidate=candidate,
            previous_version=current.version,
            active_version=runtime.model.version,
            overrides=len(overrides),
        )


async def last_retrain(db: Any) -> Any:
    """The most recent retrain attempt (accepted or refused), without its artifact: a row with
    version, accepted, decision, overrides, created_by and created_at; None before the first."""
    async with db.read_sessionmaker() as session:
        return (
            await session.execute(
                select(
                    ClassifierModel.version,
                    ClassifierModel.accepted,
                    ClassifierModel.decision,
                    ClassifierModel.overrides,
                    ClassifierModel.created_by,
                    ClassifierModel.created_at,
                )
                .order_by(ClassifierModel.id.desc())  # type: ignore[union-attr]
                .limit(1)
            )
        ).first()


async def override_count(db: Any) -> int:
    """How many complaints carry a supervisor's override."""
    async with db.read_sessionmaker() as session:
        return int(
            (
                await session.execute(
                    select(func.count(func.distinct(ClassificationOverride.complaint_id)))
                )
            ).scalar_one()
        )
