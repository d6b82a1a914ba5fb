"""Teaching cases: mark a resolved complaint, list them anonymised, render a handout."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.service import Actor
from app.claims.models import Claim
from app.classification.taxonomy import BY_CODE
from app.complaints import service as complaints
from app.complaints.models import Complaint
from app.core.errors import Conflict, NotFound
from app.core.pagination import decode_cursor, encode_cursor, keyset_id
from app.improvements.models import ImprovementAction, ImprovementLink
from app.surveys.models import Survey
from app.teaching.models import TeachingCase
from app.teaching.redact import redact
from app.teaching.schemas import (
    ImprovementSummary,
    SurveySummary,
    TeachingCasePage,
    TeachingCaseRead,
    TeachingCaseWrite,
)


def teachable(status: str, close_reason: str | None) -> bool:
    """A case needs a resolution to teach from: resolved, or closed as completed."""
    return status == "resolved" or (status == "closed" and close_reason == "completed")


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    import opencc

    return opencc.OpenCC(config)


def _both_scripts(values: list[str | None]) -> list[str]:
    """Each value as given, in Simplified and in Traditional (a name is written either way)."""
    out: list[str] = []
    for value in filter(None, values):
        for variant in (value, _converter("t2s").convert(value), _converter("s2t").convert(value)):
            if variant not in out:
                out.append(variant)
    return out


def known_personal_data(complaint: Complaint, claim: Claim | None) -> dict[str, list[str]]:
    """What the case's records say is personal: names, phones, ID, plate, claim numbers."""
    return {
        "name": _both_scripts(
            [complaint.complainant_name, complaint.assignee, claim.insured_name if claim else None]
        ),
        "phone": [v for v in (complaint.complainant_phone, claim and claim.insured_phone) if v],
        "id": [v for v in (complaint.complainant_id_number,) if v],
        "plate": _both_scripts([complaint.plate_no, claim.plate_no if claim else None]),
        "number": [
            v
            for v in (
                complaint.claim_no,
                complaint.policy_no,
                complaint.external_ref,
                claim.policy_no if claim else None,
            )
            if v
        ],
    }


async def mark(
    session: AsyncSession,
    *,
    complaint_id: int,
    body: TeachingCaseWrite,
    actor: Actor,
    now: datetime,
    lang: str,
) -> TeachingCaseRead:
    """Mark (or re-write) a resolved complaint as a teaching case."""
    complaint = await complaints.get_for_update(session, complaint_id)
    if not teachable(complaint.status, complaint.close_reason):
        raise Conflict(
            "Only a resolved complaint (resolved, or closed as completed) can be a teaching "
            f"case; this one is {complaint.status}.",
            current=complaint.status,
        )
    case = (
        await session.execute(select(TeachingCase).where(TeachingCase.complaint_id == complaint_id))
    ).scalar_one_or_none()
    what = "updated" if case else "marked"
    if case is None:
        case = TeachingCase(complaint_id=complaint_id, marked_at=now, **_fields(body, actor, now))
        session.add(case)
    else:
        for key, value in _fields(body, actor, now).items():
            setattr(case, key, value)
    await session.flush()
    await complaints.append_event(
        session, complaint, actor, now, kind="teaching_case", action=what,
        detail={"teaching_case_id": case.id, "title": case.title},
    )  # fmt: skip
    await audit.record(
        await session.connection(), actor, action=f"teaching_case.{what}",
        entity_type="teaching_case", entity_id=str(case.id), at=now,
        detail={"complaint_id": complaint_id},
    )  # fmt: skip
    return (await _views(session, [(case, complaint)], lang))[0]


def _fields(body: TeachingCaseWrite, actor: Actor, now: datetime) -> dict[str, Any]:
    return {
        "title": body.title,
        "what_went_wrong": body.what_went_wrong,
        "remedy": body.remedy,
        "outcome": body.outcome,
        "lessons": body.lessons,
        "marked_by": actor.principal.name,
        "updated_at": now,
    }


async def unmark(session: AsyncSession, *, complaint_id: int, actor: Actor, now: datetime) -> None:
    """Withdraw a complaint from the teaching cases."""
    complaint = await complaints.get_for_update(session, complaint_id)
    case = (
        await session.execute(select(TeachingCase).where(TeachingCase.complaint_id == complaint_id))
    ).scalar_one_or_none()
    if case is None:
        raise NotFound(f"Complaint {complaint_id} is not a teaching case.")
    await complaints.append_event(
        session, complaint, actor, now, kind="teaching_case", action="unmarked",
        detail={"teaching_case_id": case.id, "title": case.title},
    )  # fmt: skip
    await audit.record(
        await session.connection(), actor, action="teaching_case.unmarked",
        entity_type="teaching_case", entity_id=str(case.id), at=now,
        detail={"complaint_id": complaint_id},
    )  # fmt: skip
    await session.execute(delete(TeachingCase).where(TeachingCase.id == case.id))


async def _views(
    session: AsyncSession, pairs: list[tuple[TeachingCase, Complaint]], lang: str
) -> list[TeachingCaseRead]:
    """The anonymised views of cases, with their surveys and improvement actions."""
    complaint_ids = [c.id for _, c in pairs]
    claim_ids = [c.claim_id for _, c in pairs if c.claim_id is not None]
    claims = {
        claim.id: claim
        for claim in (
            await session.execute(select(Claim).where(Claim.id.in_(claim_ids)))  # type: ignore[union-attr]
        ).scalars()
    } if claim_ids else {}  # fmt: skip
    surveys: dict[int, list[SurveySummary]] = {cid: [] for cid in complaint_ids}  # type: ignore[misc]
    for s in (
        await session.execute(
            select(Survey)
            .where(Survey.complaint_id.in_(complaint_ids))  # type: ignore[attr-defined]
            .order_by(Survey.id)
        )
    ).scalars():
        surveys[s.complaint_id].append(
            SurveySummary(round=s.round, method=s.method, score=s.score, resolved=s.resolved)
        )
    actions: dict[int, list[ImprovementSummary]] = {cid: [] for cid in complaint_ids}  # type: ignore[misc]
    for complaint_id, action_id, title, status in await session.execute(
        select(
            ImprovementLink.complaint_id,
            ImprovementAction.id,
            ImprovementAction.title,
            ImprovementAction.status,
        )
        .join(ImprovementAction, ImprovementAction.id == ImprovementLink.action_id)
        .where(ImprovementLink.complaint_id.in_(complaint_ids))  # type: ignore[attr-defined]
        .order_by(ImprovementAction.id)
    ):
        actions[complaint_id].append(ImprovementSummary(id=action_id, title=title, status=status))
    views = []
    for case, c in pairs:
        claim = claims.get(c.claim_id) if c.claim_id is not None else None
        known = known_personal_data(c, claim)
        finished = c.resolved_at or c.closed_at
        views.append(
            TeachingCaseRead(
                id=case.id,  # type: ignore[arg-type]
                complaint_id=c.id,  # type: ignore[arg-type]
                reference=c.reference,
                title=redact(case.title, known),
                category=c.category,
                category_label=BY_CODE[c.category].label(lang),
                subcause=c.subcause,
                subcause_label=BY_CODE[c.subcause].label(lang),
                channel=c.channel,
                claim_stage=c.claim_stage,
                received_on=c.received_at.date(),
                handling_days=round((finished - c.received_at).total_seconds() / 86400, 1)
                if finished
                else None,
                reopen_count=c.reopen_count,
                escalation_level=c.escalation_level,
                text=redact(c.text, known),
                what_went_wrong=redact(case.what_went_wrong, known),
                remedy=redact(case.remedy, known),
                outcome=redact(case.outcome, known),
                lessons=redact(case.lessons, known) if case.lessons else None,
                surveys=surveys[c.id],  # type: ignore[index]
                improvement_actions=actions[c.id],  # type: ignore[index]
                marked_by=case.marked_by,
                marked_at=case.marked_at,
            )
        )
    return views


async def list_cases(
    session: AsyncSession,
    *,
    subcause: str | None,
    category: str | None,
    limit: int,
    cursor: str | None,
    lang: str,
) -> TeachingCasePage:
    """Teaching cases, newest first, anonymised."""
    position = decode_cursor("teaching-cases", cursor)
    stmt = (
        select(TeachingCase, Complaint)
        .join(Complaint, Complaint.id == TeachingCase.complaint_id)
        .order_by(TeachingCase.id.desc())  # type: ignore[union-attr]
        .limit(limit + 1)
    )
    if position is not None:
        stmt = stmt.where(TeachingCase.id < keyset_id(position))
    if subcause is not None:
        stmt = stmt.where(Complaint.subcause == subcause)
    if category is not None:
        stmt = stmt.where(Complaint.category == category)
    rows = [(case, complaint) for case, complaint in (await session.execute(stmt)).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    return TeachingCasePage(
        items=await _views(session, rows, lang) if rows else [],
        next_cursor=encode_cursor("teaching-cases", [rows[-1][0].id]) if more and rows else None,
    )


# Handout wording: key → (zh-Hans, zh-Hant, en).
_WORDS = {
    "title": ("理赔投诉教学案例", "理賠投訴教學案例", "Claim complaint teaching cases"),
    "cause": ("原因", "原因", "Cause"),
    "channel": ("渠道", "渠道", "Channel"),
    "stage": ("理赔阶段", "理賠階段", "Claim stage"),
    "days": ("处理天数", "處理天數", "Days to resolve"),
    "reopened": ("重开次数", "重開次數", "Reopened"),
    "satisfaction": ("满意度", "滿意度", "Satisfaction"),
    "words": ("客户原话", "客戶原話", "In the customer's words"),
    "wrong": ("问题所在", "問題所在", "What went wrong"),
    "remedy": ("补救措施", "補救措施", "Remedy"),
    "outcome": ("结果", "結果", "Outcome"),
    "lessons": ("经验教训", "經驗教訓", "Lessons"),
    "improvements": ("改进措施", "改進措施", "Improvement actions"),
    "yes": ("已解决", "已解決", "resolved"),
    "no": ("未解决", "未解決", "not resolved"),
}


def markdown(cases: list[TeachingCaseRead], lang: str) -> str:
    """A readable handout of the cases (personal data already removed)."""
    column = {"zh-Hans": 0, "zh-Hant": 1}.get(lang, 2)
    w = {key: words[column] for key, words in _WORDS.items()}
    lines = [f"# {w['title']}", ""]
    for case in cases:
        lines += [f"## {case.reference} · {case.title}", ""]
        lines.append(f"- **{w['cause']}:** {case.category_label} › {case.subcause_label}")
        facts = [f"**{w['channel']}:** {case.channel}"]
        if case.claim_stage:
            facts.append(f"**{w['stage']}:** {case.claim_stage}")
        if case.handling_days is not None:
            facts.append(f"**{w['days']}:** {case.handling_days:g}")
        facts.append(f"**{w['reopened']}:** {case.reopen_count}")
        lines.append("- " + " · ".join(facts))
        if case.surveys:
            scores = ", ".join(
                f"{s.method} {s.score}/5 ({w['yes'] if s.resolved else w['no']})"
                for s in case.surveys
            )
            lines.append(f"- **{w['satisfaction']}:** {scores}")
        lines.append("")
        lines += [f"### {w['words']}", "", *(f"> {line}" for line in case.text.splitlines()), ""]
        for key, body in (
            ("wrong", case.what_went_wrong),
            ("remedy", case.remedy),
            ("outcome", case.outcome),
            ("lessons", case.lessons),
        ):
            if body:
                lines += [f"### {w[key]}", "", body, ""]
        if case.improvement_actions:
            lines += [f"### {w['improvements']}", ""]
            lines += [f"- {a.title} ({a.status})" for a in case.improvement_actions]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
