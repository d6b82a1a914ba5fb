"""Follow-ups: create, complete / cancel / reschedule, and the work list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.complaints import service as complaints
from app.complaints.lifecycle import Status
from app.complaints.models import Complaint
from app.core.concurrency import check_version
from app.core.errors import Conflict, NotFound, Unprocessable
from app.core.pagination import decode_cursor, encode_cursor, time_and_id
from app.deadlines.notices import first_notice
from app.followups.models import FollowUp, new_follow_up
from app.followups.rules import NO_DUE_DATE, Kind, State, can_change, is_overdue
from app.followups.schemas import FollowUpCreate, FollowUpPage, FollowUpRead, FollowUpUpdate
from app.webhooks import outbox
from app.webhooks.events import EventType


def to_read(f: FollowUp, reference: str, now: datetime) -> FollowUpRead:
    """The API view of a follow-up."""
    return FollowUpRead(
        id=f.id,  # type: ignore[arg-type]
        complaint_id=f.complaint_id,
        complaint_reference=reference,
        round=f.round,
        kind=Kind(f.kind),
        status=f.status,  # type: ignore[arg-type]
        due_at=f.due_at,
        overdue=is_overdue(f.status, f.due_at, now),
        assignee=f.assignee,
        note=f.note,
        outcome=f.outcome,
        assessor=f.assessor,
        result_amount=f.result_amount,
        created_by=f.created_by,
        created_at=f.created_at,
        completed_by=f.completed_by,
        completed_at=f.completed_at,
        version=f.version,
    )


async def record_created(
    session: AsyncSession, complaint: Complaint, follow_up: FollowUp, actor: Actor, now: datetime
) -> None:
    """Timeline entry and audit record of a new follow-up (after it is flushed)."""
    detail = {
        "follow_up_id": follow_up.id,
        "kind": follow_up.kind,
        "due_at": follow_up.due_at.isoformat() if follow_up.due_at else None,
        "assignee": follow_up.assignee,
    }
    if follow_up.assessor:
        detail["assessor"] = follow_up.assessor
    await complaints.append_event(
        session, complaint, actor, now, kind="follow_up", action="created",
        note=follow_up.note, detail=detail,
    )  # fmt: skip
    await audit.record(
        await session.connection(), actor, action="follow_up.created", entity_type="follow_up",
        entity_id=str(follow_up.id), at=now, detail={"complaint_id": complaint.id, **detail},
    )  # fmt: skip


async def create(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: FollowUpCreate,
    actor: Actor,
    now: datetime,
    ctx: Any,
) -> FollowUpRead:
    """Add a follow-up to a complaint; a closed complaint takes none (409). A third-party
    assessment the complainant was told of pauses the reply clock; new materials restart it."""
    complaint = await complaints.get_for_update(session, complaint_id)
    if complaint.status == Status.closed.value:
        raise Conflict(
            "A closed complaint takes no follow-ups; reopen it first.", current=complaint.status
        )
    follow_up = new_follow_up(
        complaint,
        kind=body.kind,
        note=body.note,
        due_at=body.due_at,
        assignee=body.assignee,
        assessor=body.assessor,
        created_by=actor.principal.name,
        now=now,
    )
    session.add(follow_up)
    await session.flush()
    await record_created(session, complaint, follow_up, actor, now)
    clock_changes = []
    if body.new_materials:
        if complaint.replied_at is not None:
            raise Conflict(
                "The complainant already has a decision; reopen the complaint to take new "
                "materials into account.",
                current=complaint.status,
            )
        complaint.restarted_at = now
        clock_changes.append("restarted")
    if body.notified:  # a third-party assessment the complainant was told of
        complaint.pauses = [
            *complaint.pauses,
            {"follow_up_id": follow_up.id, "started_at": now.isoformat(), "ended_at": None},
        ]
        complaint.reply_paused = True
        clock_changes.append("paused")
    for change in clock_changes:
        await complaints.append_event(
            session, complaint, actor, now, kind="reply_clock", action=change,
            detail={"follow_up_id": follow_up.id},
        )  # fmt: skip
    if clock_changes:
        await complaints.save(session, complaint, actor, now, ctx, "complaint.reply_clock")
    return to_read(follow_up, complaint.reference, now)


async def _end_pause(
    session: AsyncSession,
    complaint: Complaint,
    follow_up: FollowUp,
    actor: Actor,
    now: datetime,
    ctx: Any,
) -> None:
    """The assessment's result is in (or it was cancelled): the reply clock runs again."""
    pauses = [dict(p) for p in complaint.pauses]
    ended = False
    for pause in pauses:
        if pause.get("follow_up_id") == follow_up.id and pause.get("ended_at") is None:
            pause["ended_at"] = now.isoformat()
            ended = True
    if not ended:
        return
    complaint.pauses = pauses
    complaint.reply_paused = any(p.get("ended_at") is None for p in pauses)
    await complaints.append_event(
        session, complaint, actor, now, kind="reply_clock", action="resumed",
        detail={"follow_up_id": follow_up.id},
    )  # fmt: skip
    await complaints.save(session, complaint, actor, now, ctx, "complaint.reply_clock")


async def _get(session: AsyncSession, follow_up_id: int, *, lock: bool = False) -> FollowUp:
    stmt = select(FollowUp).where(FollowUp.id == follow_up_id)
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No follow-up {follow_up_id}.")
    return found


async def get(session: AsyncSession, *, follow_up_id: int, now: datetime) -> FollowUpRead:
    """One follow-up."""
    row = (
        await session.execute(
            select(FollowUp, Complaint.reference)
            .join(Complaint, Complaint.id == FollowUp.complaint_id)
            .where(FollowUp.id == follow_up_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"No follow-up {follow_up_id}.")
    return to_read(row[0], row[1], now)


async def update(
    session: AsyncSession,
    *,
    follow_up_id: int,
    body: FollowUpUpdate,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
    ctx: Any,
) -> FollowUpRead:
    """Complete (with outcome), cancel, reschedule or reassign an open follow-up; a done or
    cancelled one is final (409)."""
    complaint_id = (await _get(session, follow_up_id)).complaint_id
    complaint = await complaints.get_for_update(session, complaint_id)  # timeline order
    follow_up = await _get(session, follow_up_id, lock=True)
    check_version(expected_version, follow_up.version)
    if not can_change(follow_up.status):
        raise Conflict(
            f"This follow-up is {follow_up.status}; it cannot change any more.",
            current=follow_up.status,
        )
    changes = body.model_dump(exclude_unset=True)
    assessment = follow_up.kind == Kind.third_party_assessment.value
    if "result_amount" in changes and not assessment:
        raise Unprocessable("`result_amount` belongs to a third_party_assessment only.")
    if body.status == State.done.value and assessment:
        if body.result_amount is None and follow_up.result_amount is None:
            raise Unprocessable("Completing a third_party_assessment records its `result_amount`.")
    before = {"due_at": follow_up.due_at, "assignee": follow_up.assignee}
    if "due_at" in changes:
        follow_up.due_at = body.due_at
        follow_up.due_sort = body.due_at or NO_DUE_DATE
        follow_up.due_check_at = body.due_at  # a new due time is announced again when reached
    if "assignee" in changes:
        follow_up.assignee = body.assignee
    if body.result_amount is not None:
        follow_up.result_amount = body.result_amount
    if body.outcome is not None:
        follow_up.outcome = body.outcome
    if body.status is not None:
        follow_up.status = body.status
        follow_up.due_check_at = None
        follow_up.completed_by = actor.principal.name
        follow_up.completed_at = now
        action = body.status
    elif "due_at" in changes:
        action = "rescheduled"
    elif "assignee" in changes:
        action = "reassigned"
    else:
        action = "updated"
    follow_up.version += 1
    follow_up.updated_at = now
    await session.flush()
    detail: dict[str, Any] = {"follow_up_id": follow_up.id, "kind": follow_up.kind}
    if "due_at" in changes:
        detail["due_at"] = {
            "from": before["due_at"].isoformat() if before["due_at"] else None,
            "to": follow_up.due_at.isoformat() if follow_up.due_at else None,
        }
    if "assignee" in changes:
        detail["assignee"] = {"from": before["assignee"], "to": follow_up.assignee}
    if follow_up.result_amount is not None and assessment:
        detail["result_amount"] = str(follow_up.result_amount)
    await complaints.append_event(
        session, complaint, actor, now, kind="follow_up", action=action,
        note=body.outcome, detail=detail,
    )  # fmt: skip
    await audit.record(
        await session.connection(), actor, action=f"follow_up.{action}", entity_type="follow_up",
        entity_id=str(follow_up.id), at=now, detail={"version": follow_up.version},
    )  # fmt: skip
    if body.status is not None and assessment:
        await _end_pause(session, complaint, follow_up, actor, now, ctx)
    return to_read(follow_up, complaint.reference, now)


@dataclass(frozen=True)
class WorkListFilter:
    """What the work list is narrowed to."""

    assignee: str | None = None
    status: str | None = None
    kind: str | None = None
    complaint_id: int | None = None
    due_before: datetime | None = None
    overdue: bool | None = None


async def work_list(
    session: AsyncSession,
    *,
    filters: WorkListFilter,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> FollowUpPage:
    """Follow-ups by due time (open-ended ones last), then id; keyset pages."""
    position = decode_cursor("follow-ups", cursor)
    stmt = (
        select(FollowUp, Complaint.reference)
        .join(Complaint, Complaint.id == FollowUp.complaint_id)
        .order_by(FollowUp.due_sort, FollowUp.id)
        .limit(limit + 1)
    )
    if position is not None:
        due_sort, last_id = time_and_id(position)
        stmt = stmt.where(
            (FollowUp.due_sort > due_sort)
            | ((FollowUp.due_sort == due_sort) & (FollowUp.id > last_id))
        )
    f = filters
    for column, value in (
        (FollowUp.assignee, f.assignee),
        (FollowUp.status, f.status),
        (FollowUp.kind, f.kind),
        (FollowUp.complaint_id, f.complaint_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.due_before is not None:
        stmt = stmt.where(FollowUp.due_at < f.due_before)
    overdue = (FollowUp.status == State.open.value) & (FollowUp.due_at < now)
    if f.overdue is True:
        stmt = stmt.where(overdue)
    elif f.overdue is False:
        stmt = stmt.where(~overdue | FollowUp.due_at.is_(None))  # type: ignore[union-attr]
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1][0] if rows else None
    return FollowUpPage(
        items=[to_read(f, reference, now) for f, reference in rows],
        next_cursor=encode_cursor("follow-ups", [last.due_sort.isoformat(), last.id])
        if more and last is not None
        else None,
    )


# ---------------------------------------------------------------- due scanner


async def scan_due(session: AsyncSession, *, now: datetime, limit: int = 500) -> tuple[int, int]:
    """Announce each open follow-up reaching its due time once (`follow_up.due`).

    Returns (follow-ups looked at, events written).
    """
    stmt = (
        select(FollowUp, Complaint.reference)
        .join(Complaint, Complaint.id == FollowUp.complaint_id)
        .where(FollowUp.due_check_at <= now)
        .order_by(FollowUp.due_check_at, FollowUp.id)
        .limit(limit)
        .with_for_update(of=FollowUp, skip_locked=True)  # type: ignore[arg-type]
    )
    rows = (await session.execute(stmt)).all()
    events = 0
    for follow_up, reference in rows:
        due_at = follow_up.due_at
        if follow_up.status == State.open.value and due_at is not None:
            first = await first_notice(
                session,
                event_type=EventType.follow_up_due.value,
                entity_id=str(follow_up.id),
                deadline=follow_up.kind,
                due_at=due_at,
                now=now,
            )
            if first:
                await outbox.emit(
                    session,
                    EventType.follow_up_due,
                    {
                        "follow_up_id": follow_up.id,
                        "complaint_id": follow_up.complaint_id,
                        "reference": reference,
                        "kind": follow_up.kind,
                        "due_at": due_at.isoformat(),
                        "assignee": follow_up.assignee,
                    },
                    at=now,
                )
                events += 1
        follow_up.due_check_at = None
    await session.flush()
    return len(rows), events
