"""Surveys: record one per method per resolution round; a dissatisfied one can reopen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.complaints import service as complaints
from app.complaints.lifecycle import Action
from app.complaints.models import Complaint
from app.complaints.schemas import TransitionCreate
from app.core.errors import Conflict
from app.core.pagination import decode_cursor, encode_cursor, keyset_id
from app.surveys.models import Survey
from app.surveys.rules import Method, is_dissatisfied, surveyable
from app.surveys.schemas import SurveyCreate, SurveyPage, SurveyRead
from app.webhooks import outbox
from app.webhooks.events import EventType


def to_read(s: Survey, reference: str, complaint_status: str) -> SurveyRead:
    """The API view of a survey."""
    return SurveyRead(
        id=s.id,  # type: ignore[arg-type]
        complaint_id=s.complaint_id,
        complaint_reference=reference,
        round=s.round,
        method=Method(s.method),
        score=s.score,
        resolved=s.resolved,
        comment=s.comment,
        dissatisfied=s.dissatisfied,
        reopened=s.reopened,
        complaint_status=complaint_status,
        created_by=s.created_by,
        created_at=s.created_at,
    )


async def create(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: SurveyCreate,
    actor: Actor,
    now: datetime,
    ctx: Any,
    reopen_when_dissatisfied: bool,
) -> SurveyRead:
    """Record a survey of the complaint's current resolution; 409 when the complaint has no
    resolution to measure or this round already has a survey by this method."""
    complaint = await complaints.get_for_update(session, complaint_id)
    if not surveyable(complaint.status, complaint.close_reason):
        raise Conflict(
            f"A survey measures a resolution; this complaint is {complaint.status}"
            + (f" ({complaint.close_reason})" if complaint.close_reason else "")
            + ".",
            current=complaint.status,
        )
    round_ = complaint.reopen_count
    taken = (
        await session.execute(
            select(Survey.id).where(
                Survey.complaint_id == complaint_id,
                Survey.round == round_,
                Survey.method == body.method.value,
            )
        )
    ).first()
    if taken is not None:
        raise Conflict(
            f"This resolution already has a {body.method.value} survey (round {round_}); a "
            "reopened and re-resolved complaint starts a new round.",
            round=round_,
            method=body.method.value,
        )
    dissatisfied = is_dissatisfied(body.score, body.resolved)
    survey = Survey(
        complaint_id=complaint_id,
        round=round_,
        method=body.method.value,
        score=body.score,
        resolved=body.resolved,
        comment=body.comment,
        dissatisfied=dissatisfied,
        reopened=False,
        created_by=actor.principal.name,
        created_at=now,
    )
    session.add(survey)
    await session.flush()
    detail = {
        "survey_id": survey.id,
        "method": survey.method,
        "score": survey.score,
        "resolved": survey.resolved,
        "dissatisfied": dissatisfied,
        "round": round_,
    }
    await complaints.append_event(
        session, complaint, actor, now, kind="survey", action="recorded",
        note=body.comment, detail=detail,
    )  # fmt: skip
    await audit.record(
        await session.connection(), actor, action="survey.recorded", entity_type="survey",
        entity_id=str(survey.id), at=now, detail={"complaint_id": complaint_id, **detail},
    )  # fmt: skip
    reopens = dissatisfied and reopen_when_dissatisfied
    # The survey is announced before the reopen it causes, so receivers see cause then effect.
    await outbox.emit(
        session,
        EventType.survey_recorded,
        {"complaint_id": complaint_id, "reference": complaint.reference, **detail,
         "reopens": reopens},
        at=now,
    )  # fmt: skip
    if reopens:
        survey.reopened = True
        await complaints.apply_action(
            session,
            complaint_id=complaint_id,
            body=TransitionCreate(
                action=Action.reopen,
                note=f"Reopened by a dissatisfied {survey.method} survey "
                f"(score {survey.score}, resolved: {'yes' if survey.resolved else 'no'}).",
            ),
            expected_version=None,
            actor=actor,
            now=now,
            ctx=ctx,
            lang="en",
        )
        await session.flush()
    return to_read(survey, complaint.reference, complaint.status)


@dataclass(frozen=True)
class SurveyFilter:
    """What the survey list is narrowed to."""

    dissatisfied: bool | None = None
    method: str | None = None
    complaint_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


async def list_surveys(
    session: AsyncSession, *, filters: SurveyFilter, limit: int, cursor: str | None
) -> SurveyPage:
    """Newest first, keyset pages."""
    position = decode_cursor("surveys", cursor)
    stmt = (
        select(Survey, Complaint.reference, Complaint.status)
        .join(Complaint, Complaint.id == Survey.complaint_id)
        .order_by(Survey.id.desc())  # type: ignore[union-attr]
        .limit(limit + 1)
    )
    if position is not None:
        stmt = stmt.where(Survey.id < keyset_id(position))
    f = filters
    for column, value in (
        (Survey.dissatisfied, f.dissatisfied),
        (Survey.method, f.method),
        (Survey.complaint_id, f.complaint_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.created_from is not None:
        stmt = stmt.where(Survey.created_at >= f.created_from)
    if f.created_to is not None:
        stmt = stmt.where(Survey.created_at < f.created_to)
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return SurveyPage(
        items=[to_read(s, reference, status) for s, reference, status in rows],
        next_cursor=encode_cursor("surveys", [rows[-1][0].id]) if more and rows else None,
    )
