"""Claims: upsert, stage events, reads. Keeps the progress document current in each write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, String, Text, bindparam, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.claims import progress
from app.claims.models import Claim, ClaimStageEvent
from app.claims.schemas import (
    ClaimPage,
    ClaimRead,
    ClaimSummary,
    ClaimUpsert,
    ComplaintRef,
    StageEventCreate,
    StageEventRead,
    StageHistoryEntry,
)
from app.claims.stages import IllegalMove, ReasonRequired, Stage, check_move
from app.complaints import service as complaints_service
from app.core.concurrency import check_version
from app.core.db import Money, RawReader, UTCDateTime
from app.core.deps import CLOCK_SKEW
from app.core.errors import IllegalTransition, NotFound, PreconditionFailed, Unprocessable
from app.core.masking import mask_name, mask_phone, mask_plate
from app.core.pagination import decode_cursor, encode_cursor, keyset_id
from app.deadlines.calendar import WorkCalendar
from app.deadlines.compute import (
    ClaimFacts,
    Deadline,
    StageMove,
    compute_claim_deadlines,
    outstanding_documents,
    repeat_document_request,
)
from app.deadlines.notices import first_notice
from app.deadlines.rules import Profile
from app.webhooks import outbox
from app.webhooks.events import EventType


@dataclass(frozen=True)
class DeadlineContext:
    """The jurisdiction profile and working-day calendar deadlines are computed with."""

    profile: Profile
    calendar: WorkCalendar
    # Changes when the rules or the holiday schedule change: stored provisional deadlines
    # computed under another fingerprint are recounted on read.
    fingerprint: str


# ---------------------------------------------------------------- state → document


def _move_dict(event: StageEventCreate | ClaimStageEvent, recorded_at: datetime) -> dict[str, Any]:
    stage = event.stage if isinstance(event, StageEventCreate) else event.to_stage
    return {
        "to_stage": str(stage),
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": recorded_at.isoformat(),
        "missing_documents": event.missing_documents,
        "amount": None if event.amount is None else str(event.amount),
    }


def _facts(
    reported_at: datetime,
    coverage_type: str,
    advance_paid_at: datetime | None,
    moves: list[dict[str, Any]],
) -> ClaimFacts:
    return ClaimFacts(
        reported_at=reported_at,
        coverage_type=coverage_type,
        advance_paid_at=advance_paid_at,
        moves=tuple(
            StageMove(
                to_stage=m["to_stage"],
                occurred_at=datetime.fromisoformat(m["occurred_at"]),
                recorded_at=datetime.fromisoformat(m["recorded_at"]),
                missing_documents=None
                if m["missing_documents"] is None
                else tuple(m["missing_documents"]),
                amount=None if m["amount"] is None else Decimal(m["amount"]),
            )
            for m in moves
        ),
    )


def _deadline_dict(d: Deadline) -> dict[str, Any]:
    return {
        "code": d.code,
        "basis": d.basis,
        "description": d.description,
        "started_at": d.started_at.isoformat(),
        "due_at": d.due_at.isoformat(),
        "stopped_at": None if d.stopped_at is None else d.stopped_at.isoformat(),
        "state": d.state,
        "provisional": d.provisional,
        "due_ts": d.due_at.timestamp(),
    }


@dataclass
class _Derived:
    doc: dict[str, Any]
    next_due_at: datetime | None
    repeat_request: bool


def _derive(
    *,
    claim_no: str,
    stage: str,
    insured_name: str,
    insured_phone: str,
    plate_no: str,
    reported_at: datetime,
    coverage_type: str,
    advance_paid_at: datetime | None,
    moves: list[dict[str, Any]],
    now: datetime,
    ctx: DeadlineContext,
) -> _Derived:
    facts = _facts(reported_at, coverage_type, advance_paid_at, moves)
    deadlines = compute_claim_deadlines(facts, ctx.profile, ctx.calendar)
    running = [d.due_at for d in deadlines if d.state == "running"]
    doc = {
        "claim_no": claim_no,
        "stage": stage,
        "insured_name": mask_name(insured_name),
        "insured_phone": mask_phone(insured_phone),
        "plate_no": mask_plate(plate_no),
        "visits": progress.visits(reported_at, moves),
        "moves": moves,
        "outstanding_documents": list(outstanding_documents(facts)),
        "deadlines": [_deadline_dict(d) for d in deadlines],
        "provisional": any(d.provisional for d in deadlines),
        "calendar": ctx.fingerprint,
        "updated_at": now.isoformat(),
    }
    return _Derived(doc, min(running) if running else None, repeat_document_request(facts))


def _refresh_provisional(doc: dict[str, Any], claim: dict[str, Any], ctx: DeadlineContext) -> None:
    """Recount deadlines that were counted on an unannounced holiday calendar."""
    facts = _facts(
        claim["reported_at"], claim["coverage_type"], claim["advance_paid_at"], doc["moves"]
    )
    deadlines = compute_claim_deadlines(facts, ctx.profile, ctx.calendar)
    doc["deadlines"] = [_deadline_dict(d) for d in deadlines]
    doc["provisional"] = any(d.provisional for d in deadlines)
    doc["calendar"] = ctx.fingerprint


def _needs_refresh(doc: dict[str, Any], ctx: DeadlineContext) -> bool:
    return bool(doc.get("provisional")) and doc.get("calendar") != ctx.fingerprint


def _flags(repeat_request: bool) -> list[str]:
    return ["repeat_document_request"] if repeat_request else []


# ---------------------------------------------------------------- writes


async def _lock_claim(session: AsyncSession, claim_no: str) -> Claim | None:
    result = await session.execute(
        select(Claim).where(Claim.claim_no == claim_no).with_for_update()
    )
    return result.scalar_one_or_none()


async def upsert_claim(
    session: AsyncSession,
    *,
    claim_no: str,
    body: ClaimUpsert,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
    ctx: DeadlineContext,
    lang: str,
) -> tuple[ClaimRead, bool]:
    """Create or update a claim; returns it and whether it was created."""
    if body.reported_at > now + CLOCK_SKEW:
        raise Unprocessable("reported_at is in the future.")
    claim = await _lock_claim(session, claim_no)
    created = claim is None
    if claim is None:
        if expected_version is not None:
            raise PreconditionFailed(f"claim {claim_no} does not exist, so If-Match cannot match.")
        moves: list[dict[str, Any]] = []
        stage = Stage.reported.value
        derived = _derive(
            claim_no=claim_no,
            stage=stage,
            insured_name=body.insured_name,
            insured_phone=body.insured_phone,
            plate_no=body.plate_no,
            reported_at=body.reported_at,
            coverage_type=body.coverage_type.value,
            advance_paid_at=body.advance_paid_at,
            moves=moves,
            now=now,
            ctx=ctx,
        )
        claim = Claim(
            claim_no=claim_no,
            **body.model_dump(exclude={"coverage_type"}),
            coverage_type=body.coverage_type.value,
            stage=stage,
            stage_entered_at=body.reported_at,
            repeat_document_request=derived.repeat_request,
            next_due_at=derived.next_due_at,
            breach_check_at=derived.next_due_at,
            progress_doc=orjson.dumps(derived.doc).decode(),
            version=1,
            created_at=now,
            updated_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(claim)
                await session.flush()
                await complaints_service.link_claim(
                    await session.connection(), claim_no=claim_no, claim_id=claim.id, stage=stage
                )
        except IntegrityError:
            # Another request created it first (the savepoint rollback discarded our row):
            # this request becomes an update of that row.
            return await upsert_claim(
                session,
                claim_no=claim_no,
                body=body,
                expected_version=expected_version,
                actor=actor,
                now=now,
                ctx=ctx,
                lang=lang,
            )
    else:
        check_version(expected_version, claim.version)
        doc = orjson.loads(claim.progress_doc)
        moves = doc["moves"]
        if moves and body.reported_at > datetime.fromisoformat(moves[0]["occurred_at"]):
            raise Unprocessable("reported_at must not be after the claim's first stage event.")
        for field, value in body.model_dump().items():
            setattr(claim, field, value.value if field == "coverage_type" else value)
        derived = _derive(
            claim_no=claim_no,
            stage=claim.stage,
            insured_name=body.insured_name,
            insured_phone=body.insured_phone,
            plate_no=body.plate_no,
            reported_at=body.reported_at,
            coverage_type=body.coverage_type.value,
            advance_paid_at=body.advance_paid_at,
            moves=moves,
            now=now,
            ctx=ctx,
        )
        if not moves:
            claim.stage_entered_at = body.reported_at
        claim.repeat_document_request = derived.repeat_request
        claim.next_due_at = derived.next_due_at
        claim.breach_check_at = derived.next_due_at
        claim.progress_doc = orjson.dumps(derived.doc).decode()
        claim.version += 1
        claim.updated_at = now
        await session.flush()
    await audit.record(
        await session.connection(),
        actor,
        action="claim.created" if created else "claim.updated",
        entity_type="claim",
        entity_id=claim_no,
        at=now,
        detail={"version": claim.version},
    )
    events = await _events(session, claim.id)
    read = _claim_read(claim, events, derived.doc, lang, now)
    read.open_complaints = [
        ComplaintRef(**c)
        for c in await complaints_service.open_complaints_of_claim(session, claim_no)
    ]
    return read, created


# The stage-event write path is hot (the core claims system pushes every move), so it runs
# prepared text statements on the session's connection: no ORM objects, no expression building.
_CLAIM_COLUMNS = (
    "id, stage, version, reported_at, coverage_type, advance_paid_at, insured_name, "
    "insured_phone, plate_no, stage_entered_at, repeat_document_request, progress_doc"
)
# The claim row, locked. The event_id lookup must be a later statement: under READ COMMITTED
# a statement that waited for the lock still reads everything but the locked row from its
# first snapshot, and would miss an event committed by the transaction it waited for.
_LOCK_CLAIM = {
    dialect: text(
        f"SELECT {_CLAIM_COLUMNS} FROM claim WHERE claim_no = :claim_no"  # noqa: S608 - constant
        + (" FOR UPDATE" if dialect == "postgresql" else "")
    ).columns(
        reported_at=UTCDateTime(),
        advance_paid_at=UTCDateTime(),
        stage_entered_at=UTCDateTime(),
        repeat_document_request=Boolean(),
    )
    for dialect in ("sqlite", "postgresql")
}
_EVENT_COLUMNS = (
    "seq, event_id, from_stage, to_stage, occurred_at, recorded_at, note, actor, "
    "missing_documents, amount, recorded_by"
)
_FIND_EVENT = text(
    f"SELECT {_EVENT_COLUMNS} FROM claim_stage_event "  # noqa: S608 - constant
    "WHERE claim_id = :claim_id AND event_id = :event_id"
).columns(
    occurred_at=UTCDateTime(), recorded_at=UTCDateTime(), missing_documents=JSON(), amount=Money()
)
_INSERT_EVENT_SQL = (
    f"INSERT INTO claim_stage_event (claim_id, {_EVENT_COLUMNS}) VALUES (:claim_id, :seq, "  # noqa: S608
    ":event_id, :from_stage, :to_stage, :occurred_at, :recorded_at, :note, :actor, "
    ":missing_documents, :amount, :recorded_by)"
)
_INSERT_EVENT_PARAMS = (
    bindparam("event_id", type_=String()),
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("recorded_at", type_=UTCDateTime()),
    bindparam("note", type_=Text()),
    bindparam("actor", type_=String()),
    bindparam("missing_documents", type_=JSON(none_as_null=True)),
    bindparam("amount", type_=Money()),
)
_UPDATE_CLAIM_SQL = (
    "UPDATE claim SET stage = :stage, stage_entered_at = :stage_entered_at, "
    "repeat_document_request = :repeat_document_request, next_due_at = :next_due_at, "
    "breach_check_at = :next_due_at, progress_doc = :progress_doc, version = :new_version, "
    "updated_at = :updated_at "
    "WHERE id = :id AND version = :version"
)
_UPDATE_CLAIM_PARAMS = (
    bindparam("stage_entered_at", type_=UTCDateTime()),
    bindparam("repeat_document_request", type_=Boolean()),
    bindparam("next_due_at", type_=UTCDateTime()),
    bindparam("updated_at", type_=UTCDateTime()),
)
_INSERT_EVENT = text(_INSERT_EVENT_SQL).bindparams(*_INSERT_EVENT_PARAMS)
_UPDATE_CLAIM = text(_UPDATE_CLAIM_SQL).bindparams(*_UPDATE_CLAIM_PARAMS)
# On PostgreSQL the event, its audit record and the claim update travel in one round trip
# (SQLite runs them inline on the event loop, where a statement costs no round trip).
_INSERT_AUDIT_A = text(audit.insert_sql("a_")).bindparams(*audit.insert_bindparams("a_"))
_WRITE_MOVE_PG = text(
    f"WITH ev AS ({_INSERT_EVENT_SQL}), au AS ({audit.insert_sql('a_')}), {outbox.pg_ctes()} "
    f"{_UPDATE_CLAIM_SQL}"
).bindparams(
    *_INSERT_EVENT_PARAMS,
    *_UPDATE_CLAIM_PARAMS,
    *audit.insert_bindparams("a_"),
    *outbox.pg_bindparams(),
)


def _same_event(existing: Any, body: StageEventCreate) -> bool:
    return (
        existing.to_stage == body.stage.value
        and existing.occurred_at == body.occurred_at
        and (existing.note or None) == (body.note or None)
        and existing.actor == body.actor
        and existing.missing_documents == body.missing_documents
        and existing.amount == body.amount
    )


def _entry_of(row: Any) -> StageHistoryEntry:
    return StageHistoryEntry(
        seq=row.seq,
        stage=Stage(row.to_stage),
        from_stage=Stage(row.from_stage),
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        event_id=row.event_id,
        note=row.note,
        actor=row.actor,
        missing_documents=row.missing_documents,
        amount=row.amount,
        recorded_by=row.recorded_by,
    )


async def record_stage_event(
    conn: Any,
    *,
    claim_no: str,
    body: StageEventCreate,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
    ctx: DeadlineContext,
    lang: str,
) -> tuple[StageEventRead, bool]:
    """Record a stage move on `conn` (a transaction); returns it and whether it was new."""
    dialect = conn.dialect.name
    claim = (await conn.execute(_LOCK_CLAIM[dialect], {"claim_no": claim_no})).first()
    if claim is None:
        raise NotFound(f"No claim {claim_no}.")
    doc = orjson.loads(claim.progress_doc)
    existing = None
    if body.event_id is not None:
        existing = (
            await conn.execute(_FIND_EVENT, {"claim_id": claim.id, "event_id": body.event_id})
        ).first()
    if existing is not None:
        if not _same_event(existing, body):
            raise Unprocessable(
                f"event_id {body.event_id} was already recorded with different content."
            )
        return (
            StageEventRead(
                claim_no=claim_no,
                entry=_entry_of(existing),
                stage=Stage(claim.stage),
                stage_label=progress.stage_label(claim.stage, lang),
                version=claim.version,
                outstanding_documents=doc["outstanding_documents"],
                deadlines=progress.render_deadlines(doc["deadlines"], lang, now),  # type: ignore[arg-type]
                compliance_flags=_flags(claim.repeat_document_request),
            ),
            False,
        )
    check_version(expected_version, claim.version)
    current = Stage(claim.stage)
    try:
        check_move(current, body.stage, note=body.note)
    except IllegalMove as exc:
        raise IllegalTransition(
            str(exc), current=current.value, allowed=[s.value for s in exc.allowed]
        ) from None
    except ReasonRequired as exc:
        raise Unprocessable(str(exc)) from None
    if body.occurred_at > now + CLOCK_SKEW:
        raise Unprocessable("occurred_at is in the future.")
    moves: list[dict[str, Any]] = doc["moves"]
    last_at = datetime.fromisoformat(moves[-1]["occurred_at"]) if moves else claim.reported_at
    if body.occurred_at < last_at:
        raise Unprocessable(
            f"occurred_at {body.occurred_at.isoformat()} is before the claim's last recorded "
            f"change ({last_at.isoformat()}); stage events must arrive in order.",
            last_occurred_at=last_at.isoformat(),
        )
    moves.append(_move_dict(body, now))
    event = {
        "claim_id": claim.id,
        "seq": len(moves),
        "event_id": body.event_id,
        "from_stage": current.value,
        "to_stage": body.stage.value,
        "occurred_at": body.occurred_at,
        "recorded_at": now,
        "note": body.note or None,
        "actor": body.actor,
        "missing_documents": body.missing_documents,
        "amount": body.amount,
        "recorded_by": actor.principal.name,
    }
    derived = _derive(
        claim_no=claim_no,
        stage=body.stage.value,
        insured_name=claim.insured_name,
        insured_phone=claim.insured_phone,
        plate_no=claim.plate_no,
        reported_at=claim.reported_at,
        coverage_type=claim.coverage_type,
        advance_paid_at=claim.advance_paid_at,
        moves=moves,
        now=now,
        ctx=ctx,
    )
    update = {
        "stage": body.stage.value,
        "stage_entered_at": claim.stage_entered_at if body.stage is current else body.occurred_at,
        "repeat_document_request": derived.repeat_request,
        "next_due_at": derived.next_due_at,
        "progress_doc": orjson.dumps(derived.doc).decode(),
        "new_version": claim.version + 1,
        "updated_at": now,
        "id": claim.id,
        "version": claim.version,
    }
    audit_params = audit.insert_params(
        actor,
        action="claim.stage_event",
        entity_type="claim",
        entity_id=claim_no,
        at=now,
        detail={"seq": event["seq"], "from": current.value, "to": body.stage.value},
        prefix="a_",
    )
    event_data = {
        "claim_no": claim_no,
        "seq": event["seq"],
        "event_id": body.event_id,
        "from_stage": current.value,
        "to_stage": body.stage.value,
        "occurred_at": body.occurred_at.isoformat(),
        "missing_documents": body.missing_documents,
        "version": claim.version + 1,
    }
    if dialect == "postgresql":
        outbox_params = outbox.pg_params(EventType.claim_stage_changed, now, event_data)
        result = await conn.execute(
            _WRITE_MOVE_PG, {**event, **update, **audit_params, **outbox_params}
        )
    else:
        await conn.execute(_INSERT_EVENT, event)
        result = await conn.execute(_UPDATE_CLAIM, update)
        await conn.execute(_INSERT_AUDIT_A, audit_params)
        await outbox.emit(conn, EventType.claim_stage_changed, event_data, at=now)
    if result.rowcount != 1:
        raise PreconditionFailed("The claim changed while this event was being recorded.")
    return (
        StageEventRead(
            claim_no=claim_no,
            entry=StageHistoryEntry(
                seq=event["seq"],
                stage=body.stage,
                from_stage=current,
                occurred_at=body.occurred_at,
                recorded_at=now,
                event_id=body.event_id,
                note=event["note"],
                actor=body.actor,
                missing_documents=body.missing_documents,
                amount=body.amount,
                recorded_by=actor.principal.name,
            ),
            stage=body.stage,
            stage_label=progress.stage_label(body.stage, lang),
            version=claim.version + 1,
            outstanding_documents=derived.doc["outstanding_documents"],
            deadlines=progress.render_deadlines(derived.doc["deadlines"], lang, now),  # type: ignore[arg-type]
            compliance_flags=_flags(derived.repeat_request),
        ),
        True,
    )


# ---------------------------------------------------------------- reads


async def _events(session: AsyncSession, claim_id: int | None) -> list[ClaimStageEvent]:
    result = await session.execute(
        select(ClaimStageEvent)
        .where(ClaimStageEvent.claim_id == claim_id)
        .order_by(ClaimStageEvent.seq)
    )
    return list(result.scalars().all())


def _claim_read(
    claim: Claim, events: list[ClaimStageEvent], doc: dict[str, Any], lang: str, now: datetime
) -> ClaimRead:
    history = [
        StageHistoryEntry(
            seq=0,
            stage=Stage.reported,
            from_stage=None,
            occurred_at=claim.reported_at,
            recorded_at=claim.created_at,
        ),
        *(_entry_of(e) for e in events),
    ]
    return ClaimRead(
        claim_no=claim.claim_no,
        policy_no=claim.policy_no,
        plate_no=claim.plate_no,
        insured_name=claim.insured_name,
        insured_phone=claim.insured_phone,
        accident_at=claim.accident_at,
        reported_at=claim.reported_at,
        region=claim.region,
        coverage_type=claim.coverage_type,  # type: ignore[arg-type]
        advance_paid_at=claim.advance_paid_at,
        stage=Stage(claim.stage),
        stage_label=progress.stage_label(claim.stage, lang),
        stage_entered_at=claim.stage_entered_at,
        stage_history=history,
        outstanding_documents=doc["outstanding_documents"],
        deadlines=progress.render_deadlines(doc["deadlines"], lang, now),  # type: ignore[arg-type]
        compliance_flags=_flags(claim.repeat_document_request),
        version=claim.version,
        created_at=claim.created_at,
        updated_at=claim.updated_at,
    )


async def get_claim(
    session: AsyncSession, *, claim_no: str, lang: str, now: datetime, ctx: DeadlineContext
) -> ClaimRead:
    """One claim with its full stage history and deadlines."""
    claim = (
        await session.execute(select(Claim).where(Claim.claim_no == claim_no))
    ).scalar_one_or_none()
    if claim is None:
        raise NotFound(f"No claim {claim_no}.")
    doc = orjson.loads(claim.progress_doc)
    if _needs_refresh(doc, ctx):
        _refresh_provisional(doc, claim.model_dump(), ctx)
    read = _claim_read(claim, await _events(session, claim.id), doc, lang, now)
    read.open_complaints = [
        ComplaintRef(**c)
        for c in await complaints_service.open_complaints_of_claim(session, claim_no)
    ]
    return read


_PROGRESS_SQL = (
    "SELECT progress_doc, reported_at, coverage_type, advance_paid_at FROM claim "
    "WHERE claim_no = $1"
)


async def get_progress_json(
    raw: RawReader, *, claim_no: str, lang: str, now: datetime, ctx: DeadlineContext
) -> bytes:
    """The customer's progress view as JSON bytes: one indexed select, no ORM."""
    row = await raw.fetchrow(_PROGRESS_SQL, claim_no)
    if row is None:
        raise NotFound(f"No claim {claim_no}.")
    doc = orjson.loads(row[0])
    if _needs_refresh(doc, ctx):
        _refresh_provisional(
            doc,
            {
                "reported_at": aware(row[1]),
                "coverage_type": row[2],
                "advance_paid_at": None if row[3] is None else aware(row[3]),
            },
            ctx,
        )
    return orjson.dumps(progress.render_progress(doc, lang, now))


def aware(value: Any) -> datetime:
    """A stored instant read through the bare driver, as an aware UTC datetime."""
    from app.core.db import UTCDateTime

    result = UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
    assert result is not None
    return result


async def list_claims(
    session: AsyncSession,
    *,
    stage: Stage | None,
    overdue: bool | None,
    region: str | None,
    limit: int,
    cursor: str | None,
    lang: str,
    now: datetime,
) -> ClaimPage:
    """Claims, newest first, by keyset on the primary key (stable under inserts)."""
    position = decode_cursor("claims", cursor)
    stmt = select(Claim).order_by(Claim.id.desc()).limit(limit + 1)
    if position is not None:
        stmt = stmt.where(Claim.id < keyset_id(position))
    if stage is not None:
        stmt = stmt.where(Claim.stage == stage.value)
    if region is not None:
        stmt = stmt.where(Claim.region == region)
    if overdue is True:
        stmt = stmt.where(Claim.next_due_at.is_not(None), Claim.next_due_at <= now)
    elif overdue is False:
        stmt = stmt.where((Claim.next_due_at.is_(None)) | (Claim.next_due_at > now))
    rows = list((await session.execute(stmt)).scalars().all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        ClaimSummary(
            claim_no=c.claim_no,
            policy_no=c.policy_no,
            plate_no=c.plate_no,
            region=c.region,
            coverage_type=c.coverage_type,  # type: ignore[arg-type]
            stage=Stage(c.stage),
            stage_label=progress.stage_label(c.stage, lang),
            stage_entered_at=c.stage_entered_at,
            reported_at=c.reported_at,
            next_due_at=c.next_due_at,
            overdue=c.next_due_at is not None and c.next_due_at <= now,
            version=c.version,
            updated_at=c.updated_at,
        )
        for c in rows
    ]
    next_cursor = encode_cursor("claims", [rows[-1].id]) if more and rows else None
    return ClaimPage(items=items, next_cursor=next_cursor)


# ---------------------------------------------------------------- deadline scanner


async def scan_breaches(
    session: AsyncSession, *, now: datetime, ctx: DeadlineContext, limit: int = 500
) -> tuple[int, int]:
    """Announce each passed running deadline of a claim once (`claim.deadline_breached`).

    Reads only claims whose `breach_check_at` has come, then moves it to the next running due
    time. Returns (claims looked at, events written).
    """
    stmt = (
        select(Claim)
        .where(Claim.breach_check_at <= now)
        .order_by(Claim.breach_check_at, Claim.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.scalars(stmt)).all()
    now_ts = now.timestamp()
    events = 0
    for claim in rows:
        doc = orjson.loads(claim.progress_doc)
        if _needs_refresh(doc, ctx):  # counted on a calendar since corrected: count again
            _refresh_provisional(
                doc,
                {
                    "reported_at": claim.reported_at,
                    "coverage_type": claim.coverage_type,
                    "advance_paid_at": claim.advance_paid_at,
                },
                ctx,
            )
        running = [d for d in doc["deadlines"] if d["state"] == "running"]
        for d in running:
            if d["due_ts"] > now_ts:
                continue
            due_at = datetime.fromisoformat(d["due_at"])
            first = await first_notice(
                session,
                event_type=EventType.claim_deadline_breached.value,
                entity_id=claim.claim_no,
                deadline=d["code"],
                due_at=due_at,
                now=now,
            )
            if first:
                await outbox.emit(
                    session,
                    EventType.claim_deadline_breached,
                    {
                        "claim_no": claim.claim_no,
                        "deadline": d["code"],
                        "basis": d["basis"],
                        "due_at": d["due_at"],
                        "started_at": d["started_at"],
                        "stage": claim.stage,
                        "stage_entered_at": claim.stage_entered_at.isoformat(),
                    },
                    at=now,
                )
                events += 1
        later = [d["due_ts"] for d in running if d["due_ts"] > now_ts]
        claim.breach_check_at = datetime.fromtimestamp(min(later), UTC) if later else None
    await session.flush()
    return len(rows), events
