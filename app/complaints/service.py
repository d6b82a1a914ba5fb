"""Complaints: intake, reads, lifecycle actions, assignment, timeline."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    column,
    func,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.classification.schemas import Classification, ClassificationOverrideCreate
from app.classification.service import record_override
from app.classification.taxonomy import BY_CODE, category_of
from app.complaints.labels import status_label
from app.complaints.lifecycle import (
    Action,
    CloseReason,
    IllegalAction,
    Status,
    allowed_actions,
    next_status,
)
from app.complaints.models import Complaint, ComplaintEvent
from app.complaints.priority import (
    Priority,
    PriorityInputs,
    PriorityReason,
    assess_priority,
    escalation_reason,
    is_serious,
    max_priority,
    recause,
)
from app.complaints.schemas import (
    ComplainantRead,
    ComplaintCreate,
    ComplaintPatch,
    ComplaintRead,
    Due,
    PriorityReasonRead,
    Timeline,
    TimelineEntry,
    TransitionCreate,
)
from app.core import idempotency
from app.core.concurrency import check_version
from app.core.db import Money, Undo, UTCDateTime
from app.core.deps import CLOCK_SKEW
from app.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, Unprocessable
from app.core.pagination import decode_cursor, encode_cursor, keyset_id
from app.deadlines.complaint import (
    ComplaintFacts,
    Extension,
    Pause,
    breachable,
    compute_complaint_deadlines,
    extension_allowed,
)
from app.deadlines.compute import Deadline
from app.deadlines.notices import first_notice
from app.followups.models import FollowUp, new_follow_up
from app.followups.rules import Kind, State, callback_due, missing_before_resolve
from app.webhooks import outbox
from app.webhooks.events import EventType

log = logging.getLogger("claimdesk.complaints")


@dataclass(frozen=True)
class IntakeSettings:
    """Knobs of intake that come from settings."""

    amount_threshold: Decimal
    idempotency_ttl: timedelta


# ---------------------------------------------------------------- deadlines


def _facts(c: Any) -> ComplaintFacts:
    return ComplaintFacts(
        received_at=c.received_at,
        acknowledged_at=c.acknowledged_at,
        replied_at=c.replied_at,
        withdrawn_at=c.closed_at if c.close_reason == CloseReason.withdrawn.value else None,
        extensions=tuple(
            Extension(reason=e["reason"], at=datetime.fromisoformat(e["at"])) for e in c.extensions
        ),
        pauses=tuple(
            Pause(
                started_at=datetime.fromisoformat(p["started_at"]),
                ended_at=datetime.fromisoformat(p["ended_at"]) if p.get("ended_at") else None,
            )
            for p in c.pauses
        ),
        restarted_at=c.restarted_at,
    )


def _deadlines(c: Any, ctx: Any, now: datetime) -> list[Deadline]:
    return compute_complaint_deadlines(_facts(c), ctx.profile, ctx.calendar, now)


def _deadline_rows(deadlines: list[Deadline], lang: str, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "code": d.code,
            "basis": d.basis,
            "label": _DEADLINE_LABELS.get(d.code, {}).get(lang, d.code),
            "description": d.description,
            "started_at": d.started_at,
            "due_at": d.due_at,
            "stopped_at": d.stopped_at,
            "state": d.state,
            "overdue": d.state == "running" and now >= d.due_at,
            "provisional": d.provisional,
        }
        for d in deadlines
    ]


_DEADLINE_LABELS = {
    "complaint.acknowledge": {
        "zh-Hant": "受理確認時限",
        "zh-Hans": "受理确认时限",
        "en": "Acknowledge by",
    },
    "complaint.reply": {"zh-Hant": "投訴答覆時限", "zh-Hans": "投诉答复时限", "en": "Reply by"},
}


# ---------------------------------------------------------------- read model


def to_read(
    c: Any, ctx: Any, lang: str, now: datetime, deadlines: list[Deadline] | None = None
) -> ComplaintRead:
    """The API view of a complaint row (its deadlines computed unless given)."""
    if deadlines is None:
        deadlines = _deadlines(c, ctx, now)
    rows = _deadline_rows(deadlines, lang, now)
    by_code = {d.code: d for d in deadlines}
    return ComplaintRead(
        id=c.id,
        reference=c.reference,
        status=c.status,
        status_label=status_label(c.status, lang),
        channel=c.channel,
        text=c.text,
        complainant=ComplainantRead(
            name=c.complainant_name, phone=c.complainant_phone, id_number=c.complainant_id_number
        ),
        claim_no=c.claim_no,
        claim_stage=c.claim_stage,
        policy_no=c.policy_no,
        plate_no=c.plate_no,
        disputed_amount=c.disputed_amount,
        external_ref=c.external_ref,
        received_at=c.received_at,
        classification=Classification.model_validate(c.classification),
        category_label=BY_CODE[c.category].label(lang),
        subcause_label=BY_CODE[c.subcause].label(lang),
        priority=c.priority,
        priority_reasons=[PriorityReasonRead(**r) for r in c.priority_reasons],
        route_to_supervisor=c.route_to_supervisor,
        assignee=c.assignee,
        team=c.team,
        escalation_level=c.escalation_level,
        due=Due(
            acknowledge_by=by_code["complaint.acknowledge"].due_at,
            reply_by=by_code["complaint.reply"].due_at,
        ),
        overdue=any(r["overdue"] for r in rows),
        deadlines=rows,  # type: ignore[arg-type]
        acknowledged_at=c.acknowledged_at,
        replied_at=c.replied_at,
        resolved_at=c.resolved_at,
        closed_at=c.closed_at,
        close_reason=c.close_reason,
        extensions=c.extensions,
        reopen_count=c.reopen_count,
        notes=c.notes,
        allowed_actions=[a.value for a in allowed_actions(Status(c.status))],
        version=c.version,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


# ---------------------------------------------------------------- intake

# Complaints already filed on the claim number, and the claim it names (if synced yet).
_CLAIM_CONTEXT_SQL = (
    "(SELECT count(*) FROM complaint WHERE claim_no = :claim_no) AS earlier, "
    "c.id AS claim_id, c.stage, c.progress_doc FROM (SELECT 1 AS one) AS x "
    "LEFT JOIN claim c ON c.claim_no = :claim_no"
)
_CLAIM_CONTEXT = text("SELECT " + _CLAIM_CONTEXT_SQL)
# SQLite's reference counter: a row (PostgreSQL uses the sequence complaint_reference_seq).
_NEXT_REFERENCE = text(
    "INSERT INTO reference_counter (name, value) VALUES ('complaint', 1) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
)
_COMPLAINT_COLUMNS = (
    "reference", "status", "channel", "text", "complainant_name", "complainant_phone",
    "complainant_id_number", "claim_no", "claim_id", "claim_stage", "policy_no", "plate_no",
    "disputed_amount", "external_ref", "received_at", "category", "subcause", "classification",
    "priority", "priority_reasons", "route_to_supervisor", "extensions", "pauses",
    "reply_paused", "acknowledge_due_at", "reply_due_at", "breach_check_at", "reopen_count",
    "version", "created_by", "created_at", "updated_at",
)  # fmt: skip
_INSERT_COMPLAINT_SQL = (
    f"INSERT INTO complaint ({', '.join(_COMPLAINT_COLUMNS)}) "  # noqa: S608 - constant
    f"VALUES ({', '.join(':' + c for c in _COMPLAINT_COLUMNS)}) RETURNING id"
)
_COMPLAINT_PARAMS = (
    bindparam("complainant_id_number", type_=String()),
    bindparam("claim_no", type_=String()),
    bindparam("claim_id", type_=Integer()),
    bindparam("claim_stage", type_=String()),
    bindparam("policy_no", type_=String()),
    bindparam("plate_no", type_=String()),
    bindparam("disputed_amount", type_=Money()),
    bindparam("external_ref", type_=String()),
    bindparam("received_at", type_=UTCDateTime()),
    bindparam("classification", type_=JSON()),
    bindparam("priority_reasons", type_=JSON()),
    bindparam("route_to_supervisor", type_=Boolean()),
    bindparam("extensions", type_=JSON()),
    bindparam("pauses", type_=JSON()),
    bindparam("reply_paused", type_=Boolean()),
    bindparam("acknowledge_due_at", type_=UTCDateTime()),
    bindparam("reply_due_at", type_=UTCDateTime()),
    bindparam("breach_check_at", type_=UTCDateTime()),
    bindparam("created_at", type_=UTCDateTime()),
    bindparam("updated_at", type_=UTCDateTime()),
)
_INSERT_COMPLAINT = text(_INSERT_COMPLAINT_SQL).bindparams(*_COMPLAINT_PARAMS)
_EVENT_COLUMNS = (
    "complaint_id", "seq", "kind", "action", "from_status", "to_status", "actor", "role",
    "occurred_at", "note", "detail",
)  # fmt: skip


# PostgreSQL intake is two statements on the bare driver, no transaction block:
# 1. the complaint's id and reference number (sequences: a number a failed or replayed intake
#    took is a gap, which references tolerate) and the claim it names;
# 2. one statement, atomic by itself, that claims the Idempotency-Key and stores the response
#    with it, and inserts the complaint, its timeline, its audit record and its event. The
#    response is rendered before it runs (the id is known), so nothing is left to update. A
#    second request with the same key waits on the key's row until the first commits, then
#    inserts nothing and replays what the first stored.
_INTAKE_PG_PREPARE = text(
    "SELECT nextval('complaint_id_seq') AS id, nextval('complaint_reference_seq') AS number, "
    + _CLAIM_CONTEXT_SQL
).bindparams(bindparam("claim_no", type_=String()))
_INTAKE_PG_KEY_CTE = (
    "k AS (INSERT INTO idempotency_record (scope_key, request_hash, status_code, "
    "response_body, created_at, expires_at) VALUES (:k_scope, :k_hash, 201, :k_body, "
    ":created_at, :k_expires) ON CONFLICT (scope_key) DO UPDATE SET "
    "request_hash = EXCLUDED.request_hash, status_code = EXCLUDED.status_code, "
    "response_body = EXCLUDED.response_body, created_at = EXCLUDED.created_at, "
    "expires_at = EXCLUDED.expires_at "
    # an expired key is free again: this request takes it over
    "WHERE idempotency_record.expires_at < EXCLUDED.created_at RETURNING id)"
)
_INTAKE_PG_FIND = (
    "SELECT request_hash, status_code, response_body FROM idempotency_record WHERE scope_key = $1"
)


def _intake_pg_sql(*, keyed: bool) -> str:
    """The write statement of PostgreSQL intake (see above); `keyed`: with an Idempotency-Key."""
    columns = ("id", *_COMPLAINT_COLUMNS)
    values = ", ".join(":" + c for c in columns)
    rows = f"SELECT {values} FROM k" if keyed else f"VALUES ({values})"  # noqa: S608 - constant
    event_columns = ", ".join(_EVENT_COLUMNS)
    events = " UNION ALL ".join(
        f"SELECT c.id, {n}, :e{n}_kind, NULL, NULL, :e{n}_to_status, :actor, :role, "  # noqa: S608 - constant
        f"CAST(:created_at AS TIMESTAMPTZ), NULL, CAST(:e{n}_detail AS JSON) FROM c"
        for n in (1, 2)
    )
    audit_columns = "occurred_at, actor, role, action, entity_type, entity_id, request_id, detail"
    key_cte = _INTAKE_PG_KEY_CTE + ", " if keyed else ""
    return (
        f"WITH {key_cte}c AS (INSERT INTO complaint ({', '.join(columns)}) {rows} "  # noqa: S608
        "RETURNING id), "
        f"e AS (INSERT INTO complaint_event ({event_columns}) {events}), "
        f"a AS (INSERT INTO audit_event ({audit_columns}) SELECT CAST(:created_at AS TIMESTAMPTZ), "
        ":actor, :role, 'complaint.created', 'complaint', CAST(c.id AS VARCHAR), "
        "CAST(:request_id AS VARCHAR), CAST(:a_detail AS JSON) FROM c), "
        + outbox.pg_ctes("CAST(:o_data AS JSON)", "c")
        + " SELECT id FROM c"
    )


# Typed: in INSERT … SELECT the target columns do not type the parameters.
_INTAKE_PG_STRINGS = (
    "reference", "status", "channel", "text", "complainant_name", "complainant_phone",
    "category", "subcause", "priority", "created_by", "actor", "role", "e1_kind", "e2_kind",
    "e1_to_status", "e2_to_status", "request_id", "k_scope", "k_hash", "k_body",
)  # fmt: skip
_INTAKE_PG_PARAMS = (
    *_COMPLAINT_PARAMS,
    *(bindparam(name, type_=String()) for name in _INTAKE_PG_STRINGS),
    *(bindparam(name, type_=Integer()) for name in ("id", "reopen_count", "version")),
    bindparam("k_expires", type_=UTCDateTime()),
    bindparam("e1_detail", type_=JSON()),
    bindparam("e2_detail", type_=JSON()),
    bindparam("a_detail", type_=JSON()),
    *outbox.pg_bindparams(),
)
_INTAKE_PG = {
    keyed: text(_intake_pg_sql(keyed=keyed)).bindparams(
        *(p for p in _INTAKE_PG_PARAMS if keyed or not p.key.startswith("k_"))
    )
    for keyed in (True, False)
}
# SQLite intake's two timeline entries (intake, classification) in one statement.
_INTAKE_EVENTS_SQLITE = text(
    f"INSERT INTO complaint_event ({', '.join(_EVENT_COLUMNS)}) VALUES "  # noqa: S608 - constant
    + ", ".join(
        f"(:complaint_id, {n}, :e{n}_kind, NULL, NULL, :e{n}_to_status, :actor, :role, "
        f":occurred_at, NULL, :e{n}_detail)"
        for n in (1, 2)
    )
).bindparams(
    bindparam("occurred_at", type_=UTCDateTime()),
    *(bindparam(f"e{n}_to_status", type_=String()) for n in (1, 2)),
    *(bindparam(f"e{n}_detail", type_=JSON()) for n in (1, 2)),
)
_INSERT_EVENT = text(
    "INSERT INTO complaint_event (complaint_id, seq, kind, action, from_status, to_status, "
    "actor, role, occurred_at, note, detail) VALUES (:complaint_id, :seq, :kind, :action, "
    ":from_status, :to_status, :actor, :role, :occurred_at, :note, :detail)"
).bindparams(
    bindparam("action", type_=String()),
    bindparam("from_status", type_=String()),
    bindparam("to_status", type_=String()),
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("note", type_=Text()),
    bindparam("detail", type_=JSON()),
)


def _claim_past_legal_deadline(progress_doc: str | None, now: datetime) -> bool:
    if not progress_doc:
        return False
    doc = orjson.loads(progress_doc)
    now_ts = now.timestamp()
    return any(
        d["code"].startswith("claim.")
        and (d["state"] == "missed" or (d["state"] == "running" and now_ts >= d["due_ts"]))
        for d in doc["deadlines"]
    )


def _breach_check_at(deadlines: list[Deadline], *, reply_paused: bool) -> datetime | None:
    """When the deadline scanner should next look at the complaint (its earliest running due)."""
    dues = [d.due_at for d in breachable(deadlines, reply_paused=reply_paused)]
    return min(dues) if dues else None


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _created_event(values: dict[str, Any]) -> dict[str, Any]:
    """`complaint.created` data: what a receiving system routes on; no personal data."""
    return {
        "complaint_id": values.get("id"),
        "reference": values["reference"],
        "status": values["status"],
        "channel": values["channel"],
        "category": values["category"],
        "subcause": values["subcause"],
        "priority": values["priority"],
        "route_to_supervisor": values["route_to_supervisor"],
        "claim_no": values["claim_no"],
        "received_at": _iso(values["received_at"]),
        "acknowledge_due_at": _iso(values["acknowledge_due_at"]),
        "reply_due_at": _iso(values["reply_due_at"]),
    }


def _reason_dict(reason: PriorityReason) -> dict[str, str]:
    return {"code": reason.code, "priority": reason.priority.value, "detail": reason.detail}


def format_reference(received_at: datetime, number: int, tz: Any) -> str:
    """`CMP-YYYYMMDD-NNNNNN`: the local date of receipt and a database counter."""
    return f"CMP-{received_at.astimezone(tz):%Y%m%d}-{number:06d}"


@dataclass(frozen=True)
class _ClaimContext:
    """What intake reads about the claim a complaint names."""

    earlier: int = 0  # complaints already filed on the claim number
    claim_id: int | None = None
    stage: str | None = None
    progress_doc: str | None = None


@dataclass
class _Prepared:
    """A complaint ready to insert: its row, due dates, timeline, audit record and event."""

    values: dict[str, Any]
    deadlines: list[Deadline]
    entries: tuple[tuple[str, str | None, dict[str, Any]], ...]
    audit_detail: dict[str, Any]


def _prepare(
    body: ComplaintCreate,
    *,
    received_at: datetime,
    reference: str,
    claim: _ClaimContext,
    classification: Classification,
    idempotency_key: str | None,
    actor: Actor,
    now: datetime,
    ctx: Any,
    cfg: IntakeSettings,
) -> _Prepared:
    """Priority, due dates and every row of a new complaint (pure: no database)."""
    priority, reasons, route = assess_priority(
        PriorityInputs(
            channel=body.channel.value,
            text=body.text,
            disputed_amount=body.disputed_amount,
            amount_threshold=cfg.amount_threshold,
            repeat_on_claim=claim.earlier > 0,
            claim_past_legal_deadline=_claim_past_legal_deadline(claim.progress_doc, now),
            subcause=classification.subcause,
            escalation_level=None,
        )
    )
    values: dict[str, Any] = {
        "id": None,
        "reference": reference,
        "status": Status.received.value,
        "channel": body.channel.value,
        "text": body.text,
        "complainant_name": body.complainant.name,
        "complainant_phone": body.complainant.phone,
        "complainant_id_number": body.complainant.id_number,
        "claim_no": body.claim_no,
        "claim_id": claim.claim_id,
        "claim_stage": claim.stage,
        "policy_no": body.policy_no,
        "plate_no": body.plate_no,
        "disputed_amount": body.disputed_amount,
        "external_ref": body.external_ref,
        "received_at": received_at,
        "category": classification.category,
        "subcause": classification.subcause,
        "classification": classification.model_dump(mode="json"),
        "priority": priority.value,
        "priority_reasons": [_reason_dict(r) for r in reasons],
        "route_to_supervisor": route,
        "extensions": [],
        "pauses": [],
        "reply_paused": False,
        "restarted_at": None,
        "reopen_count": 0,
        "version": 1,
        "created_by": actor.principal.name,
        "created_at": now,
        "updated_at": now,
        # not set at intake; present so the view code reads intake like a stored row
        "acknowledged_at": None,
        "replied_at": None,
        "resolved_at": None,
        "closed_at": None,
        "close_reason": None,
        "assignee": None,
        "team": None,
        "escalation_level": None,
        "notes": None,
    }
    computed = _deadlines(_Row(values), ctx, now)
    deadlines = {d.code: d for d in computed}
    values["acknowledge_due_at"] = deadlines["complaint.acknowledge"].due_at
    values["reply_due_at"] = deadlines["complaint.reply"].due_at
    values["breach_check_at"] = _breach_check_at(computed, reply_paused=False)
    return _Prepared(
        values=values,
        deadlines=computed,
        entries=(
            (
                "intake",
                Status.received.value,
                {"channel": body.channel.value, "reference": reference},
            ),
            ("classification", None, values["classification"]),
        ),
        audit_detail={"reference": reference, "idempotency_key": idempotency_key},
    )


def _render(prepared: _Prepared, ctx: Any, lang: str, now: datetime) -> bytes:
    """The 201 body of a new complaint (what a retry with the same key gets again)."""
    read = to_read(_Row(prepared.values), ctx, lang, now, prepared.deadlines)
    return read.model_dump_json().encode()


async def intake(
    db: Any,
    *,
    body: ComplaintCreate,
    raw_body: Any,
    idempotency_key: str | None,
    actor: Actor,
    now: datetime,
    ctx: Any,
    cfg: IntakeSettings,
    lang: str,
    classification: Classification,
) -> tuple[int, bytes]:
    """Record a complaint with its cause, priority, due dates and timeline, atomically.

    `classification` is computed by the caller, outside the write. Returns the status code and
    the JSON body, which a retry with the same key gets again.
    """
    received_at = body.received_at or now
    if received_at > now + CLOCK_SKEW:
        raise Unprocessable("received_at is in the future.")
    key = None
    if idempotency_key is not None:
        key = (
            f"{actor.principal.name}:POST:/v1/complaints:{idempotency_key}",
            idempotency.request_hash(raw_body),
        )
    common = {
        "body": body,
        "received_at": received_at,
        "classification": classification,
        "idempotency_key": idempotency_key,
        "actor": actor,
        "now": now,
        "ctx": ctx,
        "cfg": cfg,
    }
    if db.is_sqlite:
        return await db.grouped_write(  # type: ignore[no-any-return]
            lambda conn: _intake_sqlite(conn, key=key, lang=lang, **common)
        )
    return await _intake_pg(db.raw, key=key, lang=lang, **common)


async def _intake_sqlite(
    conn: Any, *, key: tuple[str, str] | None, lang: str, **common: Any
) -> tuple[int, bytes]:
    """SQLite: inline statements in one write transaction (the database's only writer)."""
    now: datetime = common["now"]
    body: ComplaintCreate = common["body"]
    claim = _ClaimContext()
    if body.claim_no:
        row = (await conn.execute(_CLAIM_CONTEXT, {"claim_no": body.claim_no})).one()
        claim = _ClaimContext(*row)
    number = (await conn.execute(_NEXT_REFERENCE)).scalar_one()
    reference = format_reference(common["received_at"], int(number), common["ctx"].profile.tz)
    prepared = _prepare(reference=reference, claim=claim, **common)
    values = prepared.values
    principal = common["actor"].principal
    complaint_values = {k: values[k] for k in _COMPLAINT_COLUMNS}
    complaint_id = (await conn.execute(_INSERT_COMPLAINT, complaint_values)).scalar_one()
    events = {
        "complaint_id": complaint_id,
        "actor": principal.name,
        "role": principal.role.value,
        "occurred_at": now,
    }
    for n, (kind, status, detail) in enumerate(prepared.entries, start=1):
        events.update({f"e{n}_kind": kind, f"e{n}_to_status": status, f"e{n}_detail": detail})
    await conn.execute(_INTAKE_EVENTS_SQLITE, events)
    await audit.record(
        conn,
        common["actor"],
        action="complaint.created",
        entity_type="complaint",
        entity_id=str(complaint_id),
        at=now,
        detail=prepared.audit_detail,
    )
    values["id"] = complaint_id
    await outbox.emit(conn, EventType.complaint_created, _created_event(values), at=now)
    body_bytes = _render(prepared, common["ctx"], lang, now)
    if key is not None:
        # The key is claimed last, with the response: one statement. A live key (a retry)
        # undoes everything above (reference number included) and answers what it stored.
        stored = await idempotency.claim_answered(
            conn,
            scope_key=key[0],
            digest=key[1],
            now=now,
            ttl=common["cfg"].idempotency_ttl,
            status_code=201,
            body=body_bytes,
        )
        if stored is not None:
            raise Undo((stored.status_code, stored.body))
    return 201, body_bytes


async def _intake_pg(
    raw: Any, *, key: tuple[str, str] | None, lang: str, **common: Any
) -> tuple[int, bytes]:
    """PostgreSQL: two statements on the bare driver (see _INTAKE_PG_PREPARE)."""
    now: datetime = common["now"]
    body: ComplaintCreate = common["body"]
    row = await raw.run(_INTAKE_PG_PREPARE, {"claim_no": body.claim_no})
    complaint_id, number, earlier, claim_id, stage, progress_doc = row
    claim = _ClaimContext(int(earlier), claim_id, stage, progress_doc)
    reference = format_reference(common["received_at"], int(number), common["ctx"].profile.tz)
    prepared = _prepare(reference=reference, claim=claim, **common)
    values = prepared.values
    values["id"] = int(complaint_id)
    body_bytes = _render(prepared, common["ctx"], lang, now)
    principal = common["actor"].principal
    params: dict[str, Any] = {
        **{k: values[k] for k in ("id", *_COMPLAINT_COLUMNS)},
        "actor": principal.name,
        "role": principal.role.value,
        "request_id": common["actor"].request_id,
        "a_detail": prepared.audit_detail,
        **outbox.pg_params(EventType.complaint_created, now, _created_event(values)),
    }
    for n, (kind, status, detail) in enumerate(prepared.entries, start=1):
        params.update({f"e{n}_kind": kind, f"e{n}_to_status": status, f"e{n}_detail": detail})
    if key is not None:
        params.update(
            k_scope=key[0],
            k_hash=key[1],
            k_body=body_bytes.decode(),
            k_expires=now + common["cfg"].idempotency_ttl,
        )
    inserted = await raw.run(_INTAKE_PG[key is not None], params)
    if inserted is not None or key is None:  # without a key the insert returns its row
        return 201, body_bytes
    found = await raw.fetchrow(_INTAKE_PG_FIND, key[0])
    if found is None:  # pragma: no cover - purged between the two statements
        raise Unprocessable("Idempotency-Key is being purged; retry.")
    stored = idempotency.replay(*found, digest=key[1])
    return stored.status_code, stored.body


class _Row:
    """Attribute access over a dict, so intake can use the same view code as stored rows."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


# ---------------------------------------------------------------- reads


async def get_for_update(session: AsyncSession, complaint_id: int) -> Complaint:
    """The complaint, its row locked until the transaction ends (404 when unknown)."""
    return await _get(session, complaint_id, lock=True)


async def _get(session: AsyncSession, complaint_id: int, *, lock: bool = False) -> Complaint:
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if lock:
        stmt = stmt.with_for_update()
    complaint = (await session.execute(stmt)).scalar_one_or_none()
    if complaint is None:
        raise NotFound(f"No complaint {complaint_id}.")
    return complaint


async def get_complaint(
    session: AsyncSession, *, complaint_id: int, ctx: Any, lang: str, now: datetime
) -> ComplaintRead:
    """One complaint."""
    return to_read(await _get(session, complaint_id), ctx, lang, now)


@dataclass(frozen=True)
class ComplaintFilter:
    """The list's filters (all optional)."""

    status: str | None = None
    category: str | None = None
    subcause: str | None = None
    channel: str | None = None
    priority: str | None = None
    assignee: str | None = None
    claim_no: str | None = None
    overdue: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    q: str | None = None


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# The table's columns: lists select plain columns through Core, without the ORM's row loading.
_T = Complaint.__table__.c  # type: ignore[attr-defined]


def _text_search(dialect: str, q: str) -> tuple[str, dict[str, str]]:
    """How a substring search `q` is answered, and its bound values (:q_match, :q_like):
    PostgreSQL's pg_trgm GIN index serves ILIKE (migration 3e483f7457c9); SQLite's FTS5
    trigram index a quoted phrase (the substring anywhere) of 3+ characters, and the complaints
    still queued for that index (migration 5b1e0c7a9d42) a LIKE; shorter ones scan the text."""
    pattern = f"%{_like_escape(q)}%"
    if dialect == "postgresql":
        return "ilike", {"q_match": pattern}
    if len(q) >= 3:
        return "fts", {"q_match": '"' + q.replace('"', '""') + '"', "q_like": pattern}
    return "like", {"q_match": pattern}


# SQLite's FTS5 table, joined so that matches are read newest first and the page stops early
# (an `id IN (all matches)` reads every match of a common word before taking fifty).
_FTS = table("complaint_fts", column("rowid", Integer()))
# Complaints stored but not yet in the FTS5 table (SQLite): queued by a trigger at insert,
# indexed in batches by `index_pending_text`.
_FTS_PENDING = table("complaint_fts_pending", column("id", Integer()))
_PENDING_BATCH = text(
    "SELECT max(id), count(*) FROM (SELECT id FROM complaint_fts_pending ORDER BY id LIMIT :batch)"
)
_INDEX_PENDING = text(
    "INSERT INTO complaint_fts (rowid, text) SELECT c.id, c.text FROM complaint_fts_pending p "
    "JOIN complaint c ON c.id = p.id WHERE p.id <= :upto"
)
_DEQUEUE_PENDING = text("DELETE FROM complaint_fts_pending WHERE id <= :upto")
_ANY_PENDING = "SELECT EXISTS (SELECT 1 FROM complaint_fts_pending)"


async def index_pending_text(conn: Any, batch: int = 2000) -> int:
    """SQLite: move up to `batch` queued complaints into the FTS5 text index (in the caller's
    write transaction); returns how many. One insert of many rows writes one index segment,
    where one per intake made the index merge small segments all the time."""
    upto, count = (await conn.execute(_PENDING_BATCH, {"batch": batch})).one()
    if not count:
        return 0
    await conn.execute(_INDEX_PENDING, {"upto": upto})
    await conn.execute(_DEQUEUE_PENDING, {"upto": upto})
    return int(count)


async def keep_text_index(db: Any, interval: float, batch: int = 2000) -> None:
    """SQLite: index queued complaint texts every `interval` seconds, through the group
    writer (so a batch shares a commit with the intakes of its turn). Runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            while (await db.raw.fetchrow(_ANY_PENDING))[0]:
                if await db.grouped_write(lambda conn: index_pending_text(conn, batch)) < batch:
                    break
        except Exception:  # keep indexing; the queue keeps what is not yet indexed
            log.exception("text index round failed")


def _overdue() -> Any:
    """SQL: an open complaint past its acknowledge-by, or past its running reply-by (:now)."""
    now = bindparam("now", type_=UTCDateTime())
    late_reply = _T.replied_at.is_(None) & ~_T.reply_paused & (_T.reply_due_at <= now)
    late_ack = _T.acknowledged_at.is_(None) & (_T.acknowledge_due_at <= now)
    # "not closed" stands alone, ANDed with the rest: that is what lets a planner answer
    # the filter from the partial index of open complaints (ix_complaint_open_id).
    return and_(_T.closed_at.is_(None), or_(late_reply, late_ack))


_OVERDUE = _overdue()
_EQUAL_FILTERS = ("status", "category", "subcause", "channel", "priority", "assignee", "claim_no")


# In the order `_summary` unpacks them.
_SUMMARY_COLUMNS = (
    _T.id,
    _T.reference,
    _T.status,
    _T.channel,
    func.substr(_T.text, 1, 200).label("excerpt"),
    _T.complainant_name,
    _T.claim_no,
    _T.claim_stage,
    _T.received_at,
    _T.category,
    _T.subcause,
    _T.priority,
    _T.route_to_supervisor,
    _T.assignee,
    _T.team,
    _T.acknowledge_due_at,
    _T.reply_due_at,
    _T.version,
    _T.updated_at,
)
_STATUS_LABELS = {
    lang: {status.value: status_label(status.value, lang) for status in Status}
    for lang in ("zh-Hant", "zh-Hans", "en")
}
_SUBCAUSE_LABELS = {
    lang: {code: cause.label(lang) for code, cause in BY_CODE.items()}
    for lang in ("zh-Hant", "zh-Hans", "en")
}


def _summary(row: tuple[Any, ...], lang: str) -> dict[str, Any]:
    """A list item from the plain columns of `_SUMMARY_COLUMNS` and the SQL overdue flag."""
    (
        id_, reference, status, channel, excerpt, name, claim_no, claim_stage, received_at,
        category, subcause, priority, route, assignee, team, acknowledge_by, reply_by, version,
        updated_at, overdue,
    ) = row  # fmt: skip
    return {
        "id": id_,
        "reference": reference,
        "status": status,
        "status_label": _STATUS_LABELS[lang][status],
        "channel": channel,
        "excerpt": excerpt,
        "complainant_name": name,
        "claim_no": claim_no,
        "claim_stage": claim_stage,
        "received_at": received_at,
        "category": category,
        "subcause": subcause,
        "subcause_label": _SUBCAUSE_LABELS[lang][subcause],
        "priority": priority,
        "route_to_supervisor": route,
        "assignee": assignee,
        "team": team,
        "due": {"acknowledge_by": acknowledge_by, "reply_by": reply_by},
        "overdue": bool(overdue),
        "version": version,
        "updated_at": updated_at,
    }


_LIST_STATEMENTS: dict[tuple[Any, ...], Any] = {}


def _list_statement(params: dict[str, Any], overdue: bool | None, search: str | None) -> Any:
    """The page query for the parameters present (bound by name; see list_complaints).

    SQLite's "fts" search is one statement (one snapshot) of two pages: the complaints still
    queued for the FTS5 index, matched by LIKE ("fts_pending"), and the indexed ones, matched
    by MATCH ("fts_indexed"); the caller merges them newest first."""
    if search == "fts":
        halves = [_list_statement(params, overdue, h) for h in ("fts_pending", "fts_indexed")]
        return union_all(*(select(half.subquery()) for half in halves))
    newest_first = _FTS.c.rowid if search == "fts_indexed" else _T.id
    stmt = (
        select(*_SUMMARY_COLUMNS, _OVERDUE.label("overdue"))
        .order_by(newest_first.desc())
        .limit(bindparam("limit", type_=Integer()))
    )
    if search == "fts_indexed":
        stmt = stmt.select_from(Complaint.__table__.join(_FTS, _FTS.c.rowid == _T.id)).where(
            text("complaint_fts MATCH :q_match").bindparams(bindparam("q_match", type_=String()))
        )
    elif search == "fts_pending":
        # The (short) queue drives: `id IN (queue)` is a lookup per queued id, where a join
        # let SQLite walk a million complaints newest first and probe the queue for each.
        stmt = stmt.where(
            _T.id.in_(select(_FTS_PENDING.c.id)),
            _T.text.like(bindparam("q_like", type_=String()), escape="\\"),
        )
    elif search is not None:
        match = bindparam("q_match", type_=String())
        like = _T.text.ilike if search == "ilike" else _T.text.like
        stmt = stmt.where(like(match, escape="\\"))
    if "before" in params:
        stmt = stmt.where(newest_first < bindparam("before", type_=Integer()))
    for name in _EQUAL_FILTERS:
        if name in params:
            stmt = stmt.where(_T[name] == bindparam(name, type_=String()))
    if "received_from" in params:
        stmt = stmt.where(_T.received_at >= bindparam("received_from", type_=UTCDateTime()))
    if "received_to" in params:
        stmt = stmt.where(_T.received_at < bindparam("received_to", type_=UTCDateTime()))
    if overdue is True:
        stmt = stmt.where(_OVERDUE)
    elif overdue is False:
        stmt = stmt.where(~_OVERDUE)
    return stmt


async def list_complaints(
    db: Any,
    *,
    filters: ComplaintFilter,
    limit: int,
    cursor: str | None,
    lang: str,
    now: datetime,
    session: AsyncSession | None = None,
) -> bytes:
    """Complaints newest first by keyset on id, filtered; the page as JSON bytes.

    Rows are read as plain columns and serialised once: a page is fifty rows, and building a
    full model per row (deadlines, classification) is what made lists slow. They are read
    through the bare driver (`Database.fetch_page`); with `session`, through that ORM session
    instead (the reference the driver's pages are tested against).
    """
    position = decode_cursor("complaints", cursor)
    f = filters
    params: dict[str, Any] = {"now": now, "limit": limit + 1}
    if position is not None:
        params["before"] = keyset_id(position)
    params |= {name: getattr(f, name) for name in _EQUAL_FILTERS if getattr(f, name) is not None}
    if f.received_from is not None:
        params["received_from"] = f.received_from
    if f.received_to is not None:
        params["received_to"] = f.received_to
    search = None
    if f.q:
        search, values = _text_search("sqlite" if db.is_sqlite else "postgresql", f.q)
        params |= values
    rows = await _page_rows(db, params, f.overdue, search, session)
    # Newest first: a search's two pages (queued and indexed) merged, and any page in the
    # order of its keyset whatever way the driver handed its rows over.
    rows = sorted(rows, key=lambda r: -r[0])[: limit + 1]
    more = len(rows) > limit
    rows = rows[:limit]
    page = {
        "items": [_summary(r, lang) for r in rows],
        "next_cursor": encode_cursor("complaints", [rows[-1][0]]) if more and rows else None,
    }
    return orjson.dumps(page)


async def _page_rows(
    db: Any,
    params: dict[str, Any],
    overdue: bool | None,
    search: str | None,
    session: AsyncSession | None,
) -> list[Any]:
    # One statement per shape of query (which filters, which kind of search), built once:
    # building and cache-keying a select costs more than running an indexed page.
    shape = (frozenset(params), overdue, search)
    stmt = _LIST_STATEMENTS.get(shape)
    if stmt is None:
        stmt = _list_statement(params, overdue, search)
        if len(_LIST_STATEMENTS) >= 256:
            _LIST_STATEMENTS.clear()
        _LIST_STATEMENTS[shape] = stmt
    if session is not None:
        return list((await session.execute(stmt, params)).all())
    # A text search or the overdue filter may read many rows before a page fills.
    return await db.fetch_page(stmt, params, may_scan=search is not None or overdue is not None)


async def timeline(session: AsyncSession, *, complaint_id: int) -> Timeline:
    """Every event of a complaint in order."""
    complaint = await _get(session, complaint_id)
    events = (
        await session.execute(
            select(ComplaintEvent)
            .where(ComplaintEvent.complaint_id == complaint_id)
            .order_by(ComplaintEvent.seq)
        )
    ).scalars()
    return Timeline(
        complaint_id=complaint_id,
        reference=complaint.reference,
        items=[TimelineEntry.model_validate(e, from_attributes=True) for e in events],
    )


# ---------------------------------------------------------------- changes


async def append_event(
    session: AsyncSession, complaint: Complaint, actor: Actor, now: datetime, **fields: Any
) -> None:
    """Add an entry to the complaint's timeline (call with the complaint row locked)."""
    last = (
        await session.execute(
            select(func.coalesce(func.max(ComplaintEvent.seq), 0)).where(
                ComplaintEvent.complaint_id == complaint.id
            )
        )
    ).scalar_one()
    session.add(
        ComplaintEvent(
            complaint_id=complaint.id,  # type: ignore[arg-type]
            seq=int(last) + 1,
            actor=actor.principal.name,
            role=actor.principal.role.value,
            occurred_at=now,
            **fields,
        )
    )


async def save(
    session: AsyncSession, complaint: Complaint, actor: Actor, now: datetime, ctx: Any, action: str
) -> None:
    """Recompute due dates and handling time, bump the version (ETag) and audit a change."""
    finished = complaint.resolved_at or complaint.closed_at
    complaint.handling_hours = (
        (finished - complaint.received_at).total_seconds() / 3600 if finished else None
    )
    computed = _deadlines(complaint, ctx, now)
    deadlines = {d.code: d for d in computed}
    complaint.acknowledge_due_at = deadlines["complaint.acknowledge"].due_at
    complaint.reply_due_at = deadlines["complaint.reply"].due_at
    complaint.breach_check_at = _breach_check_at(computed, reply_paused=complaint.reply_paused)
    complaint.version += 1
    complaint.updated_at = now
    await session.flush()
    await audit.record(
        await session.connection(),
        actor,
        action=action,
        entity_type="complaint",
        entity_id=str(complaint.id),
        at=now,
        detail={"version": complaint.version},
    )


async def apply_action(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: TransitionCreate,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
    ctx: Any,
    lang: str,
    callback_delay: timedelta = timedelta(days=3),
) -> ComplaintRead:
    """Apply a lifecycle action; 409 with the allowed actions when it is illegal here.

    `resolve` needs a resolution proposal among the round's follow-ups (409 naming what is
    missing) and schedules a callback follow-up `callback_delay` later to check the remedy."""
    complaint = await _get(session, complaint_id, lock=True)
    check_version(expected_version, complaint.version)
    current = Status(complaint.status)
    action = Action(body.action)
    close_reason = None
    if action is Action.close:
        try:
            close_reason = CloseReason(body.reason or CloseReason.completed.value)
        except ValueError:
            raise Unprocessable("close reason must be `completed` or `withdrawn`.") from None
    try:
        target = next_status(current, action, close_reason=close_reason)
    except IllegalAction as exc:
        raise IllegalTransition(
            str(exc), current=current.value, allowed=[a.value for a in exc.allowed]
        ) from None
    detail: dict[str, Any] = {}
    if action is Action.acknowledge:
        complaint.acknowledged_at = now
    elif action in (Action.propose_resolution, Action.resolve):
        if action is Action.resolve:
            missing = missing_before_resolve(await _round_kinds(session, complaint))
            if missing:
                raise Conflict(
                    "Record the remedy offered before resolving: a "
                    + " and a ".join(missing)
                    + " follow-up is missing in this round.",
                    missing=missing,
                    current=current.value,
                )
        if body.notified and complaint.replied_at is None:
            complaint.replied_at = now
        if action is Action.resolve:
            complaint.resolved_at = now
        detail["notified"] = body.notified
    elif action is Action.close:
        assert close_reason is not None
        complaint.closed_at = now
        complaint.close_reason = close_reason.value
        detail["reason"] = close_reason.value
    elif action is Action.reopen:
        complaint.reopen_count += 1
        complaint.resolved_at = None
        complaint.closed_at = None
        complaint.close_reason = None
    elif action is Action.escalate:
        if body.level is None:
            raise Unprocessable("escalate needs a `level`: supervisor, management or regulator.")
        complaint.escalation_level = body.level
        reason = escalation_reason(body.level)
        complaint.priority = max_priority(Priority(complaint.priority), reason.priority).value
        complaint.priority_reasons = [*complaint.priority_reasons, _reason_dict(reason)]
        if body.level in ("supervisor", "management"):
            complaint.route_to_supervisor = True
        detail["level"] = body.level
    elif action is Action.extend_deadline:
        reason = body.reason
        if reason not in ("complex", "very_complex"):
            raise Unprocessable("extend_deadline needs a `reason`: complex or very_complex.")
        if reason == "very_complex" and not body.approver:
            raise Unprocessable(
                "A very_complex extension needs the approving executive (`approver`)."
            )
        if not body.note:
            raise Unprocessable("Record the notice to the complainant in `note`.")
        ok, why = extension_allowed(_facts(complaint), ctx.profile, reason)
        if not ok:
            raise Unprocessable(why)
        complaint.extensions = [
            *complaint.extensions,
            {
                "reason": reason,
                "at": now.isoformat(),
                "approver": body.approver,
                "by": actor.principal.name,
            },
        ]
        detail["reason"] = reason
    complaint.status = target.value
    await append_event(
        session,
        complaint,
        actor,
        now,
        kind="transition",
        action=action.value,
        from_status=current.value,
        to_status=target.value,
        note=body.note,
        detail=detail or None,
    )
    if action is Action.resolve:
        await _schedule_callback(session, complaint, actor, now, callback_delay)
    await save(session, complaint, actor, now, ctx, f"complaint.{action.value}")
    await outbox.emit(
        session,
        EventType.complaint_status_changed,
        {
            "complaint_id": complaint.id,
            "reference": complaint.reference,
            "action": action.value,
            "from_status": current.value,
            "to_status": target.value,
            "priority": complaint.priority,
            "escalation_level": complaint.escalation_level,
            "actor": actor.principal.name,
            "version": complaint.version,
        },
        at=now,
    )
    return to_read(complaint, ctx, lang, now)


async def _round_kinds(session: AsyncSession, complaint: Complaint) -> list[str]:
    """Kinds of the complaint's follow-ups in its current round that are not cancelled."""
    rows = await session.execute(
        select(FollowUp.kind).where(
            FollowUp.complaint_id == complaint.id,
            FollowUp.round == complaint.reopen_count,
            FollowUp.status != State.cancelled.value,
        )
    )
    return [kind for (kind,) in rows]


async def _schedule_callback(
    session: AsyncSession, complaint: Complaint, actor: Actor, now: datetime, delay: timedelta
) -> None:
    """The callback that checks the remedy worked (domain.md §3: follow up after resolving)."""
    callback = new_follow_up(
        complaint,
        kind=Kind.callback,
        note="Call the complainant back: did the remedy work, are they satisfied?",
        due_at=callback_due(now, delay),
        assignee=complaint.assignee,
        assessor=None,
        created_by=actor.principal.name,
        now=now,
    )
    session.add(callback)
    await session.flush()
    await append_event(
        session,
        complaint,
        actor,
        now,
        kind="follow_up",
        action="scheduled",
        note=callback.note,
        detail={
            "follow_up_id": callback.id,
            "kind": callback.kind,
            "due_at": callback.due_at.isoformat() if callback.due_at else None,
            "assignee": callback.assignee,
        },
    )


async def patch_complaint(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: ComplaintPatch,
    expected_version: int | None,
    actor: Actor,
    can_assign: bool,
    now: datetime,
    ctx: Any,
    lang: str,
) -> ComplaintRead:
    """Assignment and priority (supervisors), contact details and notes (call centre)."""
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Unprocessable("Nothing to change.")
    if not can_assign and {"assignee", "team", "priority"} & set(changes):
        raise Forbidden("Only supervisors assign complaints or set their priority.")
    complaint = await _get(session, complaint_id, lock=True)
    check_version(expected_version, complaint.version)
    before = {k: getattr(complaint, k) for k in changes}
    for key, value in changes.items():
        setattr(complaint, key, value)
    await append_event(
        session,
        complaint,
        actor,
        now,
        kind="assignment" if {"assignee", "team"} & set(changes) else "update",
        detail={
            "changed": sorted(changes),
            "before": {k: v for k, v in before.items() if k in ("assignee", "team", "priority")},
        },
    )
    await save(session, complaint, actor, now, ctx, "complaint.updated")
    return to_read(complaint, ctx, lang, now)


async def override_classification(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: ClassificationOverrideCreate,
    expected_version: int | None,
    actor: Actor,
    now: datetime,
    ctx: Any,
    lang: str,
) -> ComplaintRead:
    """A supervisor corrects the cause: the complaint is re-filed under it (reports follow),
    priority follows the serious-cause rule, the timeline shows who and why, and the text is
    kept as a labelled example for the next retrain."""
    complaint = await _get(session, complaint_id, lock=True)
    check_version(expected_version, complaint.version)
    previous = dict(complaint.classification)
    manual = Classification(
        category=category_of(body.subcause),
        subcause=body.subcause,
        confidence=1.0,
        method="manual",
        model_version=previous.get("model_version"),
        evidence=[],
        alternatives=[],
        needs_review=False,
    )
    complaint.category = manual.category
    complaint.subcause = manual.subcause
    complaint.classification = manual.model_dump(mode="json")
    priority, reasons = recause(
        Priority(complaint.priority),
        [
            PriorityReason(r["code"], Priority(r["priority"]), r["detail"])
            for r in complaint.priority_reasons
        ],
        body.subcause,
    )
    complaint.priority = priority.value
    complaint.priority_reasons = [_reason_dict(r) for r in reasons]
    if is_serious(body.subcause):
        complaint.route_to_supervisor = True
    await append_event(
        session,
        complaint,
        actor,
        now,
        kind="classification",
        action="override",
        note=body.reason,
        detail={
            "from": previous.get("subcause"),
            "to": body.subcause,
            "previous_confidence": previous.get("confidence"),
            "model_version": previous.get("model_version"),
            "reason": body.reason,
        },
    )
    record_override(
        session,
        complaint_id=complaint_id,
        text=complaint.text,
        subcause=body.subcause,
        previous=previous,
        reason=body.reason,
        actor=actor,
        now=now,
    )
    await save(session, complaint, actor, now, ctx, "complaint.classification_overridden")
    return to_read(complaint, ctx, lang, now)


_LINK_CLAIM = text(
    "UPDATE complaint SET claim_id = :claim_id, claim_stage = COALESCE(claim_stage, :stage) "
    "WHERE claim_no = :claim_no AND claim_id IS NULL"
)


async def link_claim(conn: Any, *, claim_no: str, claim_id: int, stage: str) -> None:
    """Link complaints filed before their claim was synced (claim_stage stays as recorded)."""
    await conn.execute(_LINK_CLAIM, {"claim_id": claim_id, "stage": stage, "claim_no": claim_no})


async def open_complaints_of_claim(session: AsyncSession, claim_no: str) -> list[dict[str, Any]]:
    """The claim's complaints that are not closed, oldest first."""
    rows = await session.execute(
        select(Complaint.id, Complaint.reference, Complaint.status, Complaint.received_at)
        .where(Complaint.claim_no == claim_no, Complaint.status != Status.closed.value)
        .order_by(Complaint.id)
    )
    return [
        {"id": r.id, "reference": r.reference, "status": r.status, "received_at": r.received_at}
        for r in rows
    ]


# ---------------------------------------------------------------- deadline scanner


async def scan_breaches(
    session: AsyncSession, *, ctx: Any, now: datetime, limit: int = 500
) -> tuple[int, int]:
    """Announce each passed acknowledge-by and reply-by once (`complaint.sla_breached`).

    Reads only complaints whose `breach_check_at` has come, then moves it to the next running
    due time. Returns (complaints looked at, events written).
    """
    stmt = (
        select(Complaint)
        .where(Complaint.breach_check_at <= now)
        .order_by(Complaint.breach_check_at, Complaint.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = (await session.scalars(stmt)).all()
    events = 0
    for c in rows:
        running = breachable(_deadlines(c, ctx, now), reply_paused=c.reply_paused)
        for d in running:
            if d.due_at > now:
                continue
            first = await first_notice(
                session,
                event_type=EventType.complaint_sla_breached.value,
                entity_id=str(c.id),
                deadline=d.code,
                due_at=d.due_at,
                now=now,
            )
            if first:
                await outbox.emit(
                    session,
                    EventType.complaint_sla_breached,
                    {
                        "complaint_id": c.id,
                        "reference": c.reference,
                        "deadline": d.code,
                        "due_at": d.due_at.isoformat(),
                        "status": c.status,
                        "priority": c.priority,
                        "assignee": c.assignee,
                        "team": c.team,
                        "escalation_level": c.escalation_level,
                    },
                    at=now,
                )
                events += 1
        later = [d.due_at for d in running if d.due_at > now]
        c.breach_check_at = min(later) if later else None
    await session.flush()
    return len(rows), events
