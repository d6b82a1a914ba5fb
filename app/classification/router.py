"""Classification API: the taxonomy, live classification, the classifier and its retraining."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.classification import service
from app.classification.schemas import (
    Classification,
    ClassifierInfo,
    ClassifyRequest,
    ModelFigures,
    RetrainAttempt,
    RetrainResult,
)
from app.classification.taxonomy import CATEGORIES, SUBCAUSES, Cause, description
from app.core.deps import Now, RequestId
from app.core.errors import problem_doc_responses

router = APIRouter(prefix="/v1", tags=["classification"])


class Labels(BaseModel):
    """A label in each language."""

    zh_Hant: str = Field(alias="zh-Hant", examples=["理賠時效問題"])
    zh_Hans: str = Field(alias="zh-Hans", examples=["理赔时效问题"])
    en: str = Field(examples=["Claim timeliness"])

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class SubcauseRead(BaseModel):
    """A sub-cause."""

    code: str = Field(examples=["timeliness.slow_assessment"])
    labels: Labels
    descriptions: Labels = Field(description="What the sub-cause covers.")


class CategoryRead(BaseModel):
    """A category with its four sub-causes."""

    code: str = Field(examples=["timeliness"])
    labels: Labels
    descriptions: Labels = Field(description="What the category covers.")
    subcauses: list[SubcauseRead]


class Taxonomy(BaseModel):
    """The cause taxonomy (codes are fixed; labels in three languages)."""

    categories: list[CategoryRead]


def _labels(cause: Cause) -> Labels:
    return Labels(**{"zh-Hant": cause.zh_hant, "zh-Hans": cause.zh_hans, "en": cause.en})


def _descriptions(cause: Cause) -> Labels:
    return Labels(**{lang: description(cause.code, lang) for lang in ("zh-Hant", "zh-Hans", "en")})


_TAXONOMY = Taxonomy(
    categories=[
        CategoryRead(
            code=category.code,
            labels=_labels(category),
            descriptions=_descriptions(category),
            subcauses=[
                SubcauseRead(code=s.code, labels=_labels(s), descriptions=_descriptions(s))
                for s in SUBCAUSES
                if s.category == category.code
            ],
        )
        for category in CATEGORIES
    ]
)


@router.get(
    "/taxonomy",
    operation_id="classification_get_taxonomy",
    summary="Get the cause taxonomy",
    response_model=Taxonomy,
    responses=problem_doc_responses(401, 403, 422),
)
async def get_taxonomy(principal: Caller) -> Taxonomy:
    """Categories and sub-causes with their labels in zh-Hant, zh-Hans and en."""
    return _TAXONOMY


@router.post(
    "/classify",
    operation_id="classification_classify",
    summary="Classify a complaint text",
    response_model=Classification,
    responses=problem_doc_responses(400, 401, 403, 413, 422),
)
async def classify(body: ClassifyRequest, request: Request, principal: Caller) -> Classification:
    """The cause the classifier gives the text, with confidence, evidence and alternatives.
    Nothing is stored: for live suggestions while an agent types."""
    runtime: service.ClassifierRuntime = request.app.state.classifier
    return runtime.classify(body.text)


@router.get(
    "/classifier",
    operation_id="classification_get_classifier",
    summary="Get the classifier in use",
    response_model=ClassifierInfo,
    responses=problem_doc_responses(401, 403, 422),
)
async def get_classifier(request: Request, principal: Caller) -> ClassifierInfo:
    """Version, training size, evaluation and cross-validation figures, the last retrain."""
    runtime: service.ClassifierRuntime = request.app.state.classifier
    db = request.app.state.db
    model = runtime.model
    last = await service.last_retrain(db)
    return ClassifierInfo(
        version=model.version,
        source=runtime.source,  # type: ignore[arg-type]
        trained_at=model.trained_at,  # type: ignore[arg-type]
        training_size=model.training_size,
        overrides_recorded=await service.override_count(db),
        review_threshold=runtime.review_threshold,
        temperature=round(model.temperature, 4),
        rule_weight=round(model.rule_weight, 4),
        figures=ModelFigures.model_validate(model.metrics),
        last_retrain=RetrainAttempt.model_validate(last, from_attributes=True) if last else None,
    )


@router.post(
    "/classifier/retrain",
    operation_id="classification_retrain",
    summary="Retrain the classifier with supervisors' overrides",
    response_model=RetrainResult,
    responses=problem_doc_responses(401, 403, 422),
)
async def retrain(
    request: Request, principal: Caller, now: Now, request_id: RequestId
) -> RetrainResult:
    """Train on the built-in data plus every complaint's latest override, evaluate on the
    evaluation set and by 5-fold cross-validation, and put the new model in use only if no
    macro-F1 figure is worse than the model in use (beyond the configured tolerance). Takes
    seconds; the answer says whether the model was accepted and why."""
    outcome = await service.retrain(
        request.app.state.classifier,
        request.app.state.db,
        request.app.state.settings,
        Actor(principal, request_id),
        now,
    )
    return RetrainResult(
        accepted=outcome.accepted,
        decision=outcome.decision,
        version=outcome.candidate.version,
        previous_version=outcome.previous_version,
        active_version=outcome.active_version,
        training_size=outcome.candidate.training_size,
        overrides=outcome.overrides,
        figures=ModelFigures.model_validate(outcome.candidate.metrics),
    )
