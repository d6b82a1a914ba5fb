"""Report API (supervisors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from app.auth.dependencies import Caller
from app.core.db import ReadSession
from app.core.deps import Language, Now
from app.core.errors import Unprocessable, problem_doc_responses
from app.core.fields import DateTimeQuery
from app.reports import rules, service
from app.reports.schemas import (
    ClaimsAtRisk,
    HandlerReport,
    RegulatoryReturn,
    SlaReport,
    Summary,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])

MAX_SPAN = timedelta(days=3 * 366)
From = Annotated[
    DateTimeQuery,
    Query(
        alias="from",
        description="Start (inclusive). A time without an offset is local to the jurisdiction.",
        examples=["2026-07-01T00:00:00+08:00"],
    ),
]
To = Annotated[
    DateTimeQuery, Query(description="End (exclusive).", examples=["2026-10-01T00:00:00+08:00"])
]


def _period(request: Request, start: datetime, end: datetime) -> tuple[datetime, datetime]:
    tz = request.app.state.deadlines.profile.tz
    start = start if start.tzinfo else start.replace(tzinfo=tz)
    end = end if end.tzinfo else end.replace(tzinfo=tz)
    if end <= start:
        raise Unprocessable("`to` must be after `from`.")
    if end - start > MAX_SPAN:
        raise Unprocessable("A report covers at most three years.")
    return start.astimezone(UTC), end.astimezone(UTC)


def _json(model: Any) -> Response:
    return Response(model.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/summary",
    operation_id="reports_summary",
    summary="Complaint counts by cause, channel, stage, handler or time",
    response_model=Summary,
    responses=problem_doc_responses(401, 403, 422),
)
async def summary(
    request: Request,
    principal: Caller,
    session: ReadSession,
    lang: Language,
    start: From,
    to: To,
    group_by: Literal[
        "category", "subcause", "channel", "stage", "handler", "day", "week", "month"
    ] = "category",
    channel: Annotated[str | None, Query(max_length=24)] = None,
    category: Literal["service_quality", "payout_dispute", "timeliness", "other"] | None = None,
    region: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Complaints received in [`from`, `to`) counted by `group_by` (`stage` is the claim's
    stage at complaint time; `day`/`week`/`month` are local to the jurisdiction), each group's
    share, and the change against the previous period of the same length."""
    start, end = _period(request, start, to)
    report = await service.summary(
        session,
        ctx=request.app.state.deadlines,
        start=start,
        end=end,
        previous=rules.previous_period(start, end),
        group_by=group_by,
        filters=service.SummaryFilter(channel=channel, category=category, region=region),
        lang=lang,
    )
    return _json(Summary.model_validate(report))


@router.get(
    "/sla",
    operation_id="reports_sla",
    summary="Deadlines kept and missed",
    response_model=SlaReport,
    responses=problem_doc_responses(401, 403, 422),
)
async def sla(
    request: Request, principal: Caller, session: ReadSession, now: Now, start: From, to: To
) -> Response:
    """For complaints received in [`from`, `to`): acknowledged and replied on time, breaches,
    currently overdue, extended, mean and p90 handling time — overall, by category and by
    handler."""
    start, end = _period(request, start, to)
    report = await service.sla(
        session, ctx=request.app.state.deadlines, start=start, end=end, now=now
    )
    return _json(SlaReport.model_validate(report))


@router.get(
    "/handlers",
    operation_id="reports_handlers",
    summary="Handler performance",
    response_model=HandlerReport,
    responses=problem_doc_responses(401, 403, 422),
)
async def handlers(
    request: Request,
    principal: Caller,
    session: ReadSession,
    start: From,
    to: To,
    sort: Literal[
        "handled",
        "on_time_rate",
        "mean_satisfaction",
        "survey_response_rate",
        "reopen_rate",
        "escalations",
    ] = "handled",
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    """Per handler (考核), for complaints received in [`from`, `to`): handled, on-time rate,
    mean satisfaction, survey response rate, reopen rate and escalations. Supervisors only."""
    start, end = _period(request, start, to)
    report = await service.handlers(
        session, start=start, end=end, sort=sort, descending=order == "desc"
    )
    return _json(HandlerReport.model_validate(report))


@router.get(
    "/claims-at-risk",
    operation_id="reports_claims_at_risk",
    summary="Open claims most likely to turn into a complaint",
    response_model=ClaimsAtRisk,
    responses=problem_doc_responses(401, 403, 422),
)
async def claims_at_risk(
    request: Request,
    principal: Caller,
    session: ReadSession,
    now: Now,
    lang: Language,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    region: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Open claims ranked by a risk score: time in the current stage against its internal
    target, deadlines (legal or internal) passed or close, outstanding and re-requested documents,
    earlier complaints on the same claim, policy or plate, and moves back a stage. Each claim
    lists the factors that make up its score."""
    report = await service.claims_at_risk(
        session, ctx=request.app.state.deadlines, now=now, limit=limit, region=region, lang=lang
    )
    return _json(ClaimsAtRisk.model_validate(report))


@router.get(
    "/regulatory",
    operation_id="reports_regulatory",
    summary="The quarter's complaint statistics for the regulator",
    response_model=RegulatoryReturn,
    responses={
        200: {
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "period,section,key,label,count\n2026Q3,total,all,机动车辆保险,42\n",
                }
            },
            "description": "JSON, or CSV with `Accept: text/csv`.",
        },
        **problem_doc_responses(401, 403, 422),
    },
)
async def regulatory(
    request: Request,
    principal: Caller,
    session: ReadSession,
    lang: Language,
    period: Annotated[str, Query(pattern=r"^\d{4}Q[1-4]$", examples=["2026Q3"])],
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """Totals by dispute type (理赔纠纷, 销售纠纷, 退保纠纷, 其他; the mapping of sub-causes is
    documented in `app/reports/rules.py`), cause category, channel, claim stage and region;
    handled within the limit, extended, forwarded by the regulator. Each section adds up to
    the total. `Accept: text/csv` gives CSV."""
    ctx = request.app.state.deadlines
    start, end = (t.astimezone(UTC) for t in rules.quarter(period, ctx.profile.tz))
    report = await service.regulatory(
        session, ctx=ctx, period=period, start=start, end=end, lang=lang
    )
    if accept and "text/csv" in accept:
        return Response(
            service.regulatory_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="complaints-{period}.csv"'},
        )
    return _json(RegulatoryReturn.model_validate(report))
