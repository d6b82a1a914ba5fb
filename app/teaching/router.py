"""Teaching case API (supervisors): mark a resolved complaint, list the anonymised cases."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from app.auth.dependencies import Caller
from app.auth.service import Actor
from app.classification.schemas import SubcauseCode
from app.complaints.router import ComplaintId
from app.core.db import ReadSession, WriteSession
from app.core.deps import Language, Now, RequestId
from app.core.errors import problem_doc_responses
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.teaching import service
from app.teaching.schemas import TeachingCasePage, TeachingCaseRead, TeachingCaseWrite

router = APIRouter(prefix="/v1", tags=["teaching cases"])


@router.put(
    "/complaints/{complaint_id}/teaching-case",
    operation_id="teaching_cases_mark",
    summary="Mark a resolved complaint as a teaching case",
    response_model=TeachingCaseRead,
    responses=problem_doc_responses(400, 401, 403, 404, 409, 413, 422),
)
async def mark(
    complaint_id: ComplaintId,
    body: TeachingCaseWrite,
    principal: Caller,
    session: WriteSession,
    now: Now,
    lang: Language,
    request_id: RequestId,
) -> TeachingCaseRead:
    """What went wrong, the remedy, the outcome and the lessons of a resolved complaint
    (resolved, or closed as completed; 409 otherwise). Writing it again replaces it. The
    answer is the anonymised case as `GET /v1/training-cases` shows it."""
    return await service.mark(
        session,
        complaint_id=complaint_id,
        body=body,
        actor=Actor(principal, request_id),
        now=now,
        lang=lang,
    )


@router.delete(
    "/complaints/{complaint_id}/teaching-case",
    operation_id="teaching_cases_unmark",
    summary="Withdraw a teaching case",
    status_code=204,
    response_class=Response,
    responses=problem_doc_responses(401, 403, 404, 422),
)
async def unmark(
    complaint_id: ComplaintId,
    principal: Caller,
    session: WriteSession,
    now: Now,
    request_id: RequestId,
) -> Response:
    """The complaint is no longer a teaching case (its timeline records it)."""
    await service.unmark(
        session, complaint_id=complaint_id, actor=Actor(principal, request_id), now=now
    )
    return Response(status_code=204)


@router.get(
    "/training-cases",
    operation_id="teaching_cases_list",
    summary="List teaching cases (personal data removed)",
    response_model=TeachingCasePage,
    responses={
        200: {
            "content": {
                "text/markdown": {
                    "schema": {"type": "string"},
                    "example": "# 理赔投诉教学案例\n\n## CMP-20261124-000123 · …\n",
                }
            },
            "description": "JSON, or a Markdown handout with `Accept: text/markdown`.",
        },
        **problem_doc_responses(401, 403, 422),
    },
)
async def list_cases(
    principal: Caller,
    session: ReadSession,
    lang: Language,
    subcause: SubcauseCode | None = None,
    category: Literal["service_quality", "payout_dispute", "timeliness", "other"] | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Resolved complaints written up as teaching cases, newest first, with cause, what went
    wrong, remedy, outcome, satisfaction and the improvement actions they fed. Names, phone
    numbers, ID numbers, plates and claim or policy numbers are removed from every field and
    from the free text. `Accept: text/markdown` gives a readable handout of the page."""
    page = await service.list_cases(
        session, subcause=subcause, category=category, limit=limit, cursor=cursor, lang=lang
    )
    if accept and "text/markdown" in accept:
        return Response(
            service.markdown(page.items, lang), media_type="text/markdown; charset=utf-8"
        )
    return Response(page.model_dump_json(), media_type="application/json")
