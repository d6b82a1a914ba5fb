"""Improvement actions: create, change, link complaints, list, delete; each linked complaint's
timeline shows the actions it fed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.classification.taxonomy import category_of
from app.complaints import service as complaints
from app.complaints.models import Complaint
from app.core.concurrency import check_version
from app.core.errors import Conflict, IllegalTransition, NotFound, Unprocessable
from app.core.pagination import decode_cursor, encode_cursor, time_and_id
from app.improvements.models import ImprovementAction, ImprovementLink
from app.improvements.rules import NEXT, ActionStatus, allowed_next, is_overdue
from app.improvements.schemas import (
    ImprovementCreate,
    ImprovementPage,
    ImprovementRead,
    ImprovementUpdate,
)


def to_read(a: ImprovementAction, complaint_ids: list[int], now: datetime) -> ImprovementRead:
    """The API view of an action."""
    return ImprovementRead(
        id=a.id,  # type: ignore[arg-type]
        subcause=a.subcause,
        category=category_of(a.subcause),
        title=a.title,
        description=a.description,
        owner=a.owner,
        due_at=a.due_at,
        overdue=is_overdue(a.status, a.due_at, now),
        status=a.status,  # type: ignore[arg-type]
        allowed_statuses=allowed_next(ActionStatus(a.status)),
        outcome=a.outcome,
        complaint_ids=sorted(complaint_ids),
        created_by=a.created_by,
        created_at=a.created_at,
        updated_at=a.updated_at,
        version=a.version,
    )


async def _check_complaints(session: AsyncSession, ids: list[int]) -> None:
    if not ids:
        return
    found = set(
        (await session.execute(select(Complaint.id).where(Complaint.id.in_(ids)))).scalars()  # type: ignore[union-attr]
    )
    missing = sorted(set(ids) - found)
    if missing:
        raise Unprocessable(
            f"No complaint with id {', '.join(map(str, missing))}.", missing=missing
        )


async def _linked(session: AsyncSession, action_id: int) -> list[int]:
    return list(
        (
            await session.execute(
                select(ImprovementLink.complaint_id).where(ImprovementLink.action_id == action_id)
            )
        ).scalars()
    )


async def _tell_complaints(
    session: AsyncSession,
    ids: list[int],
    action: ImprovementAction,
    what: str,
    actor: Actor,
    now: datetime,
) -> None:
    """A timeline entry on each complaint (locked in id order, so writers never deadlock)."""
    for complaint_id in sorted(ids):
        complaint = await complaints.get_for_update(session, complaint_id)
        await complaints.append_event(
            session,
            complaint,
            actor,
            now,
            kind="improvement",
            action=what,
            detail={
                "improvement_action_id": action.id,
                "title": action.title,
                "subcause": action.subcause,
                "status": action.status,
            },
        )


async def create(
    session: AsyncSession, *, body: ImprovementCreate, actor: Actor, now: datetime
) -> ImprovementRead:
    """A new action, linked to the complaints that fed it."""
    await _check_complaints(session, body.complaint_ids)
    action = ImprovementAction(
        subcause=body.subcause,
        title=body.title,
        description=body.description,
        owner=body.owner,
        due_at=body.due_at,
        status=ActionStatus.open.value,
        created_by=actor.principal.name,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(action)
    await session.flush()
    for complaint_id in body.complaint_ids:
        session.add(ImprovementLink(action_id=action.id, complaint_id=complaint_id))  # type: ignore[arg-type]
    await session.flush()
    await _tell_complaints(session, body.complaint_ids, action, "linked", actor, now)
    await _audit(session, actor, action, "created", now, {"complaint_ids": body.complaint_ids})
    return to_read(action, body.complaint_ids, now)


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: ImprovementAction,
    what: str,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    await audit.record(
        await session.connection(),
        actor,
        action=f"improvement_action.{what}",
        entity_type="improvement_action",
        entity_id=str(action.id),
        at=now,
        detail={"version": action.version, **detail},
    )


async def _get(session: AsyncSession, action_id: int, *, lock: bool = False) -> ImprovementAction:
    stmt = select(ImprovementAction).where(ImprovementAction.id == action_id)
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"No improvement action {action_id}.")
    return found


async def get(session: AsyncSession, *, action_id: int, now: datetime) -> ImprovementRead:
    """One action with its linked complaints."""
    action = await _get(session, action_id)
    return to_read(action, await _linked(session, action_id), now)


_NOT_NULL = ("title", "owner", "due_at", "status")


async def update(
    session: AsyncSession,
    *,
    action_id: int,
    body: ImprovementUpdate,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
) -> ImprovementRead:
    """Change fields, move the status (409 naming the allowed ones), or replace the linked
    complaints; linked and unlinked complaints and a finished action show in the timelines."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Unprocessable("Nothing to change.")
    nulls = [k for k in _NOT_NULL if k in changes and changes[k] is None]
    if nulls:
        raise Unprocessable(f"{', '.join(nulls)} cannot be null.")
    action = await _get(session, action_id, lock=True)
    check_version(expected_version, action.version)
    current = ActionStatus(action.status)
    if current in (ActionStatus.done, ActionStatus.cancelled) and set(changes) - {"complaint_ids"}:
        raise Conflict(
            f"This improvement action is {current.value}; only its linked complaints can change.",
            current=current.value,
        )
    if body.status is not None and body.status != current.value:
        target = ActionStatus(body.status)
        if target not in NEXT[current]:
            raise IllegalTransition(
                f"An action that is {current.value} cannot become {target.value}.",
                current=current.value,
                allowed=allowed_next(current),
            )
        if target is ActionStatus.done and not (body.outcome or action.outcome):
            raise Unprocessable("Marking an action done records its `outcome`.")
    before = await _linked(session, action_id)
    if body.complaint_ids is not None:
        await _check_complaints(session, body.complaint_ids)
    for key in ("title", "description", "owner", "due_at", "outcome"):
        if key in changes:
            setattr(action, key, changes[key])
    finished = None
    if body.status is not None and body.status != current.value:
        action.status = body.status
        if body.status in (ActionStatus.done.value, ActionStatus.cancelled.value):
            finished = body.status
    action.version += 1
    action.updated_at = now
    after = before
    if body.complaint_ids is not None:
        after = list(body.complaint_ids)
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        if removed:
            await session.execute(
                delete(ImprovementLink).where(
                    ImprovementLink.action_id == action_id,
                    ImprovementLink.complaint_id.in_(removed),  # type: ignore[attr-defined]
                )
            )
        for complaint_id in added:
            session.add(ImprovementLink(action_id=action_id, complaint_id=complaint_id))
        await session.flush()
        await _tell_complaints(session, added, action, "linked", actor, now)
        await _tell_complaints(session, removed, action, "unlinked", actor, now)
    await session.flush()
    if finished:
        await _tell_complaints(session, after, action, finished, actor, now)
    await _audit(session, actor, action, "updated", now, {"changed": sorted(changes)})
    return to_read(action, after, now)


async def remove(
    session: AsyncSession,
    *,
    action_id: int,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
) -> None:
    """Delete an action (its links go with it; the complaints' timelines say so)."""
    action = await _get(session, action_id, lock=True)
    check_version(expected_version, action.version)
    linked = await _linked(session, action_id)
    await _tell_complaints(session, linked, action, "deleted", actor, now)
    await _audit(session, actor, action, "deleted", now, {"complaint_ids": linked})
    await session.execute(delete(ImprovementLink).where(ImprovementLink.action_id == action_id))
    await session.execute(delete(ImprovementAction).where(ImprovementAction.id == action_id))


@dataclass(frozen=True)
class ImprovementFilter:
    """What the list is narrowed to."""

    status: str | None = None
    subcause: str | None = None
    owner: str | None = None
    complaint_id: int | None = None
    overdue: bool | None = None


async def list_actions(
    session: AsyncSession,
    *,
    filters: ImprovementFilter,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> ImprovementPage:
    """By due date, then id; keyset pages."""
    position = decode_cursor("improvement-actions", cursor)
    stmt = (
        select(ImprovementAction)
        .order_by(ImprovementAction.due_at, ImprovementAction.id)
        .limit(limit + 1)
    )
    if position is not None:
        due_at, last_id = time_and_id(position)
        stmt = stmt.where(
            (ImprovementAction.due_at > due_at)
            | ((ImprovementAction.due_at == due_at) & (ImprovementAction.id > last_id))
        )
    f = filters
    for column, value in (
        (ImprovementAction.status, f.status),
        (ImprovementAction.subcause, f.subcause),
        (ImprovementAction.owner, f.owner),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if f.complaint_id is not None:
        stmt = stmt.where(
            ImprovementAction.id.in_(  # type: ignore[union-attr]
                select(ImprovementLink.action_id).where(
                    ImprovementLink.complaint_id == f.complaint_id
                )
            )
        )
    unfinished = ImprovementAction.status.in_(  # type: ignore[attr-defined]
        (ActionStatus.open.value, ActionStatus.in_progress.value)
    )
    if f.overdue is True:
        stmt = stmt.where(unfinished & (ImprovementAction.due_at < now))
    elif f.overdue is False:
        stmt = stmt.where(~(unfinished & (ImprovementAction.due_at < now)))
    actions = list((await session.execute(stmt)).scalars())
    more = len(actions) > limit
    actions = actions[:limit]
    links: dict[int, list[int]] = {a.id: [] for a in actions}  # type: ignore[misc]
    if actions:
        rows = await session.execute(
            select(ImprovementLink.action_id, ImprovementLink.complaint_id).where(
                ImprovementLink.action_id.in_(list(links))  # type: ignore[attr-defined]
            )
        )
        for action_id, complaint_id in rows:
            links[action_id].append(complaint_id)
    last = actions[-1] if actions else None
    return ImprovementPage(
        items=[to_read(a, links[a.id], now) for a in actions],  # type: ignore[index]
        next_cursor=encode_cursor("improvement-actions", [last.due_at.isoformat(), last.id])
        if more and last is not None
        else None,
    )
