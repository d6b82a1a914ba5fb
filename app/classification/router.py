"""Classification API (this version: the taxonomy)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from app.auth.dependencies import TaxonomyReader
from app.classification.taxonomy import CATEGORIES, SUBCAUSES, Cause
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


class CategoryRead(BaseModel):
    """A category with its four sub-causes."""

    code: str = Field(examples=["timeliness"])
    labels: Labels
    subcauses: list[SubcauseRead]


class Taxonomy(BaseModel):
    """The cause taxonomy (codes are fixed; labels in three languages)."""

    categories: list[CategoryRead]


def _labels(cause: Cause) -> Labels:
    return Labels(**{"zh-Hant": cause.zh_hant, "zh-Hans": cause.zh_hans, "en": cause.en})


_TAXONOMY = Taxonomy(
    categories=[
        CategoryRead(
            code=category.code,
            labels=_labels(category),
            subcauses=[
                SubcauseRead(code=s.code, labels=_labels(s))
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
async def get_taxonomy(principal: TaxonomyReader) -> Taxonomy:
    """Categories and sub-causes with their labels in zh-Hant, zh-Hans and en."""
    return _TAXONOMY
