"""Reports, computed in the database (GROUP BY, window functions), on SQLite and PostgreSQL.

Each report is a handful of grouped statements over an indexed range of `received_at`; rows
are never loaded into Python to be counted. Dialect differences (time buckets in the local
time zone, durations, JSON array lengths) are confined to `_Sql`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.claims.progress import stage_label
from app.classification.taxonomy import BY_CODE
from app.core.db import UTCDateTime
from app.reports.rules import (
    DEFAULT_DISPUTE_TYPE,
    DISPUTE_TYPES,
    DUE_SOON,
    FACTORS,
    LINE_OF_BUSINESS,
    OPEN_STAGES,
    STAGE_ORDER,
    SUBCAUSE_DISPUTE_TYPE,
    explain,
    p90_rank,
)

_DT = UTCDateTime()


class _Sql:
    """SQL fragments that differ between SQLite and PostgreSQL."""

    def __init__(self, dialect: str, tz_name: str, utc_offset: str) -> None:
        self.pg = dialect == "postgresql"
        self.tz = tz_name
        self.offset = utc_offset  # SQLite modifier such as '+8 hours'

    def hours(self, end: str, start: str) -> str:
        """Hours from `start` to `end`."""
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"
        return f"((julianday({end}) - julianday({start})) * 24.0)"

    def bucket(self, column: str, unit: str) -> str:
        """The local day (YYYY-MM-DD), week (its Monday) or month (YYYY-MM) of an instant."""
        if self.pg:
            fmt = "YYYY-MM" if unit == "month" else "YYYY-MM-DD"
            return f"to_char(date_trunc('{unit}', {column} AT TIME ZONE '{self.tz}'), '{fmt}')"
        if unit == "day":
            return f"strftime('%Y-%m-%d', {column}, '{self.offset}')"
        if unit == "week":
            return f"date({column}, '{self.offset}', '-6 days', 'weekday 1')"
        return f"strftime('%Y-%m', {column}, '{self.offset}')"

    def json_length(self, column: str, path: str | None = None) -> str:
        """Length of a JSON array column (or of the array at `path` in a JSON text column)."""
        if self.pg:
            if path:
                return f"json_array_length(({column})::json -> '{path}')"
            return f"json_array_length(({column})::json)"
        if path:
            return f"json_array_length({column}, '$.{path}')"
        return f"json_array_length({column})"

    def false(self) -> str:
        return "false" if self.pg else "0"

    def nonempty_json_list(self, column: str) -> str:
        """A JSON list column holds something (a text comparison: no JSON parsing per row)."""
        return f"({column}::text <> '[]')" if self.pg else f"({column} <> '[]')"

    def greatest(self, *expressions: str) -> str:
        return f"{'GREATEST' if self.pg else 'max'}({', '.join(expressions)})"

    def fence(self) -> str:
        """Ends a subquery the planner must not merge into the outer query (so that what
        it computes per row is computed once, not once per use outside)."""
        return "OFFSET 0" if self.pg else "LIMIT -1"


def _sql(session: AsyncSession, ctx: Any) -> _Sql:
    tz = ctx.profile.tz
    offset = datetime.now(tz).utcoffset()
    hours = int(offset.total_seconds() // 3600) if offset else 0
    return _Sql(session.bind.dialect.name, tz.key, f"{hours:+d} hours")


def _text(sql: str, *datetimes: str) -> Any:
    return text(sql).bindparams(*(bindparam(name, type_=_DT) for name in datetimes))


def _label(group_by: str, key: str | None, lang: str) -> str | None:
    if key is None:
        return None
    if group_by in ("category", "subcause") and key in BY_CODE:
        return BY_CODE[key].label(lang)
    if group_by == "stage" and key != "unknown":
        try:
            return stage_label(key, lang)  # type: ignore[arg-type]
        except (KeyError, ValueError):
            return key
    return key


# -- summary ------------------------------------------------------------------------------------

GROUPS = ("category", "subcause", "channel", "stage", "handler", "day", "week", "month")
TIME_GROUPS = ("day", "week", "month")


@dataclass(frozen=True)
class SummaryFilter:
    """Narrow the counted complaints."""

    channel: str | None = None
    category: str | None = None
    region: str | None = None


def _filters(f: SummaryFilter) -> tuple[str, dict[str, Any], str]:
    where, params, join = [], {}, ""
    if f.channel is not None:
        where.append("c.channel = :channel")
        params["channel"] = f.channel
    if f.category is not None:
        where.append("c.category = :category")
        params["category"] = f.category
    if f.region is not None:
        join = " JOIN claim cl ON cl.id = c.claim_id"
        where.append("cl.region = :region")
        params["region"] = f.region
    return "".join(f" AND {w}" for w in where), params, join


def _group_key(sql: _Sql, group_by: str) -> str:
    return {
        "category": "c.category",
        "subcause": "c.subcause",
        "channel": "c.channel",
        "stage": "COALESCE(c.claim_stage, 'unknown')",
        "handler": "COALESCE(c.assignee, 'unassigned')",
    }.get(group_by) or sql.bucket("c.received_at", group_by)


async def summary(
    session: AsyncSession,
    *,
    ctx: Any,
    start: datetime,
    end: datetime,
    previous: tuple[datetime, datetime],
    group_by: str,
    filters: SummaryFilter,
    lang: str,
) -> dict[str, Any]:
    """Counts per group over [start, end), each group's share, and the change against the
    previous period of the same length (per group, except for time buckets)."""
    sql = _sql(session, ctx)
    key = _group_key(sql, group_by)
    where, params, join = _filters(filters)
    if group_by in TIME_GROUPS:
        # Buckets of the previous period are not compared one by one: count its total only,
        # and bucket just this period's rows.
        before = _text(
            f"SELECT COUNT(*) FROM complaint c{join} "  # noqa: S608 - constant fragments
            f"WHERE c.received_at >= :previous_start AND c.received_at < :start{where}",
            "start",
            "previous_start",
        )
        previous_total = (
            await session.execute(before, {"start": start, "previous_start": previous[0], **params})
        ).scalar_one()
        buckets = _text(
            f"SELECT {key} AS key, COUNT(*) AS n FROM complaint c{join} "  # noqa: S608
            f"WHERE c.received_at >= :start AND c.received_at < :end{where} GROUP BY 1 ORDER BY 1",
            "start",
            "end",
        )
        rows = (await session.execute(buckets, {"start": start, "end": end, **params})).all()
        total = sum(int(r.n) for r in rows)
        return {
            "group_by": group_by,
            "from": start,
            "to": end,
            "previous_from": previous[0],
            "previous_to": previous[1],
            "total": total,
            "previous_total": int(previous_total),
            "change": total - int(previous_total),
            "groups": [
                {
                    "key": r.key,
                    "label": r.key,
                    "count": int(r.n),
                    "share": round(int(r.n) / total, 4) if total else 0.0,
                    "previous_count": None,
                    "change": None,
                    "change_ratio": None,
                }
                for r in rows
            ],
        }
    statement = _text(
        f"SELECT {key} AS key, "  # noqa: S608 - fragments are constants, values are bound
        "SUM(CASE WHEN c.received_at >= :start THEN 1 ELSE 0 END) AS current, "
        "SUM(CASE WHEN c.received_at < :start THEN 1 ELSE 0 END) AS previous "
        f"FROM complaint c{join} "
        f"WHERE c.received_at >= :previous_start AND c.received_at < :end{where} "
        "GROUP BY 1",
        "start",
        "end",
        "previous_start",
    )
    rows = (
        await session.execute(
            statement, {"start": start, "end": end, "previous_start": previous[0], **params}
        )
    ).all()
    total = sum(int(r.current) for r in rows)
    previous_total = sum(int(r.previous) for r in rows)
    groups = []
    for r in sorted(rows, key=lambda r: (-int(r.current), str(r.key))):
        current, before = int(r.current), int(r.previous)
        if group_by in TIME_GROUPS:
            if not current:
                continue  # a bucket of the previous period, not of this one
            before_value = None
        else:
            before_value = before
        groups.append(
            {
                "key": r.key,
                "label": _label(group_by, r.key, lang),
                "count": current,
                "share": round(current / total, 4) if total else 0.0,
                "previous_count": before_value,
                "change": None if before_value is None else current - before_value,
                "change_ratio": round((current - before) / before, 4)
                if before_value and before
                else None,
            }
        )
    if group_by in TIME_GROUPS:
        groups.sort(key=lambda g: g["key"])
    return {
        "group_by": group_by,
        "from": start,
        "to": end,
        "previous_from": previous[0],
        "previous_to": previous[1],
        "total": total,
        "previous_total": previous_total,
        "change": total - previous_total,
        "groups": groups,
    }


# -- SLA ----------------------------------------------------------------------------------------


def _sla_columns(sql: _Sql) -> str:
    not_paused = "c.reply_paused = " + sql.false()
    return (
        "COUNT(*) AS received, "
        "SUM(CASE WHEN c.acknowledged_at IS NOT NULL "
        "AND c.acknowledged_at <= c.acknowledge_due_at THEN 1 ELSE 0 END) AS ack_on_time, "
        "SUM(CASE WHEN c.acknowledged_at IS NOT NULL OR (c.closed_at IS NULL "
        "AND c.acknowledge_due_at <= :now) THEN 1 ELSE 0 END) AS ack_due, "
        "SUM(CASE WHEN c.replied_at IS NOT NULL "
        "AND c.replied_at <= c.reply_due_at THEN 1 ELSE 0 END) AS reply_on_time, "
        "SUM(CASE WHEN c.replied_at IS NOT NULL OR (c.closed_at IS NULL "
        f"AND {not_paused} AND c.reply_due_at <= :now) THEN 1 ELSE 0 END) AS reply_due, "
        "SUM(CASE WHEN c.closed_at IS NULL AND ((c.acknowledged_at IS NULL "
        "AND c.acknowledge_due_at <= :now) OR (c.replied_at IS NULL "
        f"AND {not_paused} AND c.reply_due_at <= :now)) THEN 1 ELSE 0 END) AS overdue, "
        f"SUM(CASE WHEN {sql.nonempty_json_list('c.extensions')} THEN 1 ELSE 0 END) AS extended"
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _sla_row(r: Any, p90: float | None) -> dict[str, Any]:
    ack_due, reply_due = int(r.ack_due or 0), int(r.reply_due or 0)
    ack_ok, reply_ok = int(r.ack_on_time or 0), int(r.reply_on_time or 0)
    return {
        "received": int(r.received),
        "acknowledged_on_time": ack_ok,
        "acknowledgements_due": ack_due,
        "acknowledged_on_time_share": _ratio(ack_ok, ack_due),
        "acknowledge_breaches": ack_due - ack_ok,
        "replied_on_time": reply_ok,
        "replies_due": reply_due,
        "replied_on_time_share": _ratio(reply_ok, reply_due),
        "reply_breaches": reply_due - reply_ok,
        "currently_overdue": int(r.overdue or 0),
        "extended": int(r.extended or 0),
        "mean_handling_hours": round(float(r.mean_hours), 2) if r.mean_hours is not None else None,
        "p90_handling_hours": round(p90, 2) if p90 is not None else None,
    }


_SLA_SUMS = ("received", "ack_on_time", "ack_due", "reply_on_time", "reply_due", "overdue",
             "extended", "hours_sum", "hours_n")  # fmt: skip


class _Sums:
    """Additive SLA figures of a set of complaints (merged from finer groups)."""

    def __init__(self) -> None:
        for name in _SLA_SUMS:
            setattr(self, name, 0)

    def add(self, row: Any) -> None:
        for name in _SLA_SUMS:
            setattr(self, name, getattr(self, name) + float(getattr(row, name) or 0))

    @property
    def mean_hours(self) -> float | None:
        return self.hours_sum / self.hours_n if self.hours_n else None  # type: ignore[attr-defined]


async def sla(
    session: AsyncSession, *, ctx: Any, start: datetime, end: datetime, now: datetime
) -> dict[str, Any]:
    """Acknowledged and replied on time, breaches, currently overdue, extended, mean and p90
    handling time — overall, by category and by handler.

    One grouped pass per (category, handler) gives every additive figure (the overall, per
    category and per handler figures are sums of those groups); the percentile, which does not
    add up, is computed per grouping over the finished complaints only."""
    sql = _sql(session, ctx)
    params = {"start": start, "end": end, "now": now}
    handler = "COALESCE(c.assignee, 'unassigned')"
    sums = _text(
        f"SELECT c.category AS category, {handler} AS handler, {_sla_columns(sql)}, "  # noqa: S608
        "SUM(c.handling_hours) AS hours_sum, COUNT(c.handling_hours) AS hours_n "
        "FROM complaint c WHERE c.received_at >= :start AND c.received_at < :end "
        "GROUP BY 1, 2",
        "start",
        "end",
        "now",
    )
    overall = _Sums()
    by_category: dict[str, _Sums] = {}
    by_handler: dict[str, _Sums] = {}
    for row in await session.execute(sums, params):
        overall.add(row)
        by_category.setdefault(row.category, _Sums()).add(row)
        by_handler.setdefault(row.handler, _Sums()).add(row)
    counts = {("all", "all"): int(overall.hours_n)}  # type: ignore[attr-defined]
    counts |= {("category", k): int(v.hours_n) for k, v in by_category.items()}  # type: ignore[attr-defined]
    counts |= {("handler", k): int(v.hours_n) for k, v in by_handler.items()}  # type: ignore[attr-defined]
    p90s = await _p90s(session, sql, params, counts)
    return {
        "from": start,
        "to": end,
        "as_of": now,
        "overall": _sla_row(overall, p90s.get(("all", "all"))),
        "by_category": [
            {"key": key, **_sla_row(value, p90s.get(("category", key)))}
            for key, value in sorted(by_category.items())
        ],
        "by_handler": [
            {"key": key, **_sla_row(value, p90s.get(("handler", key)))}
            for key, value in sorted(by_handler.items())
        ],
    }


async def _p90s(
    session: AsyncSession,
    sql: _Sql,
    params: dict[str, Any],
    counts: dict[tuple[str, str], int],
) -> dict[tuple[str, str], float]:
    """Nearest-rank p90 of handling hours, overall, per category and per handler: PostgreSQL's
    percentile_disc over GROUPING SETS (one scan); on SQLite a ranking window per grouping."""
    hours = "c.handling_hours"
    handler = "COALESCE(c.assignee, 'unassigned')"
    where = (
        "FROM complaint c WHERE c.received_at >= :start AND c.received_at < :end "
        "AND c.handling_hours IS NOT NULL"
    )
    out: dict[tuple[str, str], float] = {}
    if sql.pg:
        statement = _text(
            f"SELECT GROUPING(c.category) AS g_category, GROUPING({handler}) AS g_handler, "
            f"c.category AS category, {handler} AS handler, "
            f"percentile_disc(0.9) WITHIN GROUP (ORDER BY {hours}) AS p90 {where} "
            f"GROUP BY GROUPING SETS ((), (c.category), ({handler}))",
            "start",
            "end",
        )
        for r in await session.execute(statement, params):
            if r.p90 is None:  # the empty grouping of an empty period
                continue
            if r.g_category and r.g_handler:
                out[("all", "all")] = float(r.p90)
            elif not r.g_category:
                out[("category", r.category)] = float(r.p90)
            else:
                out[("handler", r.handler)] = float(r.p90)
        return out
    # SQLite. Overall: the value n - rank + 1 from the top, a bounded top-N instead of a sort
    # of every row.
    n = counts.get(("all", "all"), 0)
    if n:
        statement = _text(
            f"SELECT {hours} {where} ORDER BY {hours} DESC LIMIT 1 OFFSET :skip",
            "start",
            "end",
        )
        value = (await session.execute(statement, {**params, "skip": n - p90_rank(n)})).scalar()
        if value is not None:
            out[("all", "all")] = float(value)
    # Per group: rank within each group; the rank wanted comes from the group sizes already
    # counted (bound as a small VALUES table), so one window function suffices.
    for name, key in (("category", "c.category"), ("handler", handler)):
        wanted = [(k, p90_rank(n)) for (group, k), n in counts.items() if group == name and n]
        if not wanted:
            continue
        values = ", ".join(f"(:k{i}, :r{i})" for i in range(len(wanted)))
        bound = {f"k{i}": k for i, (k, _) in enumerate(wanted)}
        bound |= {f"r{i}": r for i, (_, r) in enumerate(wanted)}
        statement = _text(
            f"WITH wanted(key, rank) AS (VALUES {values}) "  # noqa: S608 - values are bound
            "SELECT ranked.key, ranked.hours FROM ("
            f"SELECT {key} AS key, {hours} AS hours, "
            f"ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {hours}) AS rn {where}"
            # IN lists, not a join: a join materialises every ranked row to index it.
            ") ranked WHERE ranked.rn IN (SELECT rank FROM wanted) "
            "AND (ranked.key, ranked.rn) IN (SELECT key, rank FROM wanted)",
            "start",
            "end",
        )
        for r in await session.execute(statement, {**params, **bound}):
            out[(name, r.key)] = float(r.hours)
    return out


# -- handlers -----------------------------------------------------------------------------------

HANDLER_SORTS = (
    "handled",
    "on_time_rate",
    "mean_satisfaction",
    "survey_response_rate",
    "reopen_rate",
    "escalations",
)


async def handlers(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    sort: str,
    descending: bool,
) -> dict[str, Any]:
    """Per handler (考核): complaints handled, replied on time, satisfaction, survey response,
    reopen rate and escalations, for complaints received in [start, end)."""
    if sort not in HANDLER_SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    order = "DESC" if descending else "ASC"
    in_period = "c.assignee IS NOT NULL AND c.received_at >= :start AND c.received_at < :end"
    # Complaint figures and survey figures are grouped by handler apart, then joined: joining
    # a per-complaint survey aggregate instead aggregates every survey ever recorded.
    resolved = (
        "SUM(CASE WHEN c.resolved_at IS NOT NULL OR c.close_reason = 'completed' "
        "OR c.reopen_count > 0 THEN 1 ELSE 0 END)"
    )
    statement = _text(
        "SELECT handler, handled, on_time_rate, mean_satisfaction, "  # noqa: S608 - sort is checked
        "survey_response_rate, reopen_rate, escalations, replied, resolved, surveyed, surveys, "
        "reopened FROM (SELECT h.*, COALESCE(s.surveys, 0) AS surveys, "
        "COALESCE(s.surveyed, 0) AS surveyed, "
        "CAST(s.score_sum AS FLOAT) / NULLIF(s.surveys, 0) AS mean_satisfaction, "
        "CAST(COALESCE(s.surveyed, 0) AS FLOAT) / NULLIF(h.resolved, 0) "
        "AS survey_response_rate FROM ("
        "SELECT c.assignee AS handler, COUNT(*) AS handled, "
        "SUM(CASE WHEN c.replied_at IS NOT NULL THEN 1 ELSE 0 END) AS replied, "
        "CAST(SUM(CASE WHEN c.replied_at IS NOT NULL AND c.replied_at <= c.reply_due_at "
        "THEN 1 ELSE 0 END) AS FLOAT) / NULLIF(SUM(CASE WHEN c.replied_at IS NOT NULL "
        "THEN 1 ELSE 0 END), 0) AS on_time_rate, "
        f"{resolved} AS resolved, "
        "SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS reopened, "
        "CAST(SUM(CASE WHEN c.reopen_count > 0 THEN 1 ELSE 0 END) AS FLOAT) / COUNT(*) "
        "AS reopen_rate, "
        "SUM(CASE WHEN c.escalation_level IS NOT NULL THEN 1 ELSE 0 END) AS escalations "
        f"FROM complaint c WHERE {in_period} GROUP BY c.assignee) h "
        "LEFT JOIN (SELECT c.assignee AS handler, SUM(v.score) AS score_sum, "
        "COUNT(*) AS surveys, COUNT(DISTINCT v.complaint_id) AS surveyed "
        f"FROM survey v JOIN complaint c ON c.id = v.complaint_id WHERE {in_period} "
        "GROUP BY c.assignee) s ON s.handler = h.handler) per_handler "
        f"ORDER BY {sort} {order} NULLS LAST, handler",  # sort is one of HANDLER_SORTS
        "start",
        "end",
    )
    rows = (await session.execute(statement, {"start": start, "end": end})).all()

    def rate(value: Any) -> float | None:
        return round(float(value), 4) if value is not None else None

    return {
        "from": start,
        "to": end,
        "sort": sort,
        "order": order.lower(),
        "handlers": [
            {
                "handler": r.handler,
                "handled": int(r.handled),
                "replied": int(r.replied),
                "on_time_rate": rate(r.on_time_rate),
                "surveys": int(r.surveys),
                "mean_satisfaction": rate(r.mean_satisfaction),
                "resolved": int(r.resolved),
                "survey_response_rate": rate(r.survey_response_rate),
                "reopened": int(r.reopened),
                "reopen_rate": rate(r.reopen_rate),
                "escalations": int(r.escalations),
            }
            for r in rows
        ],
    }


# -- regulatory return ---------------------------------------------------------------------------


def _dispute_case() -> str:
    cases = " ".join(
        f"WHEN '{code}' THEN '{kind}'" for code, kind in sorted(SUBCAUSE_DISPUTE_TYPE.items())
    )
    return f"CASE c.subcause {cases} ELSE '{DEFAULT_DISPUTE_TYPE}' END"


async def regulatory(
    session: AsyncSession,
    *,
    ctx: Any,
    period: str,
    start: datetime,
    end: datetime,
    lang: str,
) -> dict[str, Any]:
    """The period's complaint statistics in the regulator's layout; every section adds up to
    the total."""
    sql = _sql(session, ctx)
    params = {"start": start, "end": end}
    in_period = "c.received_at >= :start AND c.received_at < :end"
    sections = {
        "by_dispute_type": _dispute_case(),
        "by_category": "c.category",
        "by_channel": "c.channel",
        "by_claim_stage": "COALESCE(c.claim_stage, 'unknown')",
        "by_region": "COALESCE(cl.region, 'unknown')",
    }
    out: dict[str, Any] = {
        "period": period,
        "from": start,
        "to": end,
        "line_of_business": LINE_OF_BUSINESS[0 if lang.startswith("zh") else 1],
    }
    section_counts = await _section_counts(session, sql, sections, in_period, params)
    for name in sections:
        counts = section_counts[name]
        if name == "by_dispute_type":
            out[name] = [
                {
                    "key": kind,
                    "label": labels[0] if lang.startswith("zh") else labels[1],
                    "count": counts.get(kind, 0),
                }
                for kind, labels in DISPUTE_TYPES.items()
            ]
        else:
            group = name.removeprefix("by_").replace("claim_", "")
            out[name] = [
                {"key": k, "label": _label(group, k, lang), "count": n} for k, n in counts.items()
            ]
    totals = _text(
        "SELECT COUNT(*) AS total, "  # noqa: S608 - constant fragments
        "SUM(CASE WHEN c.replied_at IS NOT NULL THEN 1 ELSE 0 END) AS replied, "
        "SUM(CASE WHEN c.replied_at IS NOT NULL AND c.replied_at <= c.reply_due_at "
        "THEN 1 ELSE 0 END) AS within_limit, "
        f"SUM(CASE WHEN {sql.nonempty_json_list('c.extensions')} THEN 1 ELSE 0 END) AS extended, "
        "SUM(CASE WHEN c.channel = 'regulator_referral' THEN 1 ELSE 0 END) AS forwarded, "
        "SUM(CASE WHEN c.escalation_level = 'regulator' THEN 1 ELSE 0 END) AS escalated, "
        "SUM(CASE WHEN c.close_reason = 'withdrawn' THEN 1 ELSE 0 END) AS withdrawn "
        f"FROM complaint c WHERE {in_period}",
        "start",
        "end",
    )
    t = (await session.execute(totals, params)).one()
    out |= {
        "total": int(t.total),
        "replied": int(t.replied or 0),
        "handled_within_limit": int(t.within_limit or 0),
        "handled_within_limit_share": _ratio(int(t.within_limit or 0), int(t.replied or 0)),
        "extended": int(t.extended or 0),
        "forwarded_by_regulator": int(t.forwarded or 0),
        "escalated_to_regulator": int(t.escalated or 0),
        "withdrawn": int(t.withdrawn or 0),
    }
    return out


async def _section_counts(
    session: AsyncSession,
    sql: _Sql,
    sections: dict[str, str],
    in_period: str,
    params: dict[str, Any],
) -> dict[str, dict[str, int]]:
    """Counts per key of each section: one GROUPING SETS scan on PostgreSQL, one grouped
    statement per section on SQLite (which has no grouping sets)."""
    source = f"FROM complaint c LEFT JOIN claim cl ON cl.id = c.claim_id WHERE {in_period}"
    out: dict[str, dict[str, int]] = {name: {} for name in sections}
    if sql.pg:
        keys = ", ".join(f"{expr} AS {name}" for name, expr in sections.items())
        flags = ", ".join(f"GROUPING({expr}) AS g_{name}" for name, expr in sections.items())
        sets = ", ".join(f"({expr})" for expr in sections.values())
        statement = _text(
            f"SELECT {keys}, {flags}, COUNT(*) AS n {source} GROUP BY GROUPING SETS ({sets})",
            "start",
            "end",
        )
        for r in (await session.execute(statement, params)).mappings():
            name = next(n for n in sections if r[f"g_{n}"] == 0)
            out[name][r[name]] = int(r["n"])
        return {name: dict(sorted(counts.items())) for name, counts in out.items()}
    for name, expr in sections.items():
        statement = _text(
            f"SELECT {expr} AS key, COUNT(*) AS n {source} GROUP BY 1 ORDER BY 1",
            "start",
            "end",
        )
        out[name] = {r.key: int(r.n) for r in await session.execute(statement, params)}
    return out


def regulatory_csv(report: dict[str, Any]) -> str:
    """The regulatory return as CSV: one row per counted figure, sections summing to the total."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", "section", "key", "label", "count"])
    period = report["period"]
    writer.writerow([period, "total", "all", report["line_of_business"], report["total"]])
    for section in ("by_dispute_type", "by_category", "by_channel", "by_claim_stage", "by_region"):
        for row in report[section]:
            writer.writerow([period, section, row["key"], row["label"] or "", row["count"]])
    for figure in (
        "replied",
        "handled_within_limit",
        "extended",
        "forwarded_by_regulator",
        "escalated_to_regulator",
        "withdrawn",
    ):
        writer.writerow([period, "figure", figure, "", report[figure]])
    return buffer.getvalue()


# -- claims at risk ------------------------------------------------------------------------------


def _stage_target_case(ctx: Any) -> str:
    days = ctx.profile.internal_stage_days
    cases = " ".join(
        f"WHEN '{stage}' THEN {max(int(days.get(stage, 1)), 1)}" for stage in OPEN_STAGES
    )
    return f"CASE cl.stage {cases} ELSE 1 END"


def _stage_rank(column: str) -> str:
    cases = " ".join(f"WHEN '{stage}' THEN {rank}" for stage, rank in STAGE_ORDER.items())
    return f"CASE {column} {cases} ELSE -1 END"


async def claims_at_risk(
    session: AsyncSession,
    *,
    ctx: Any,
    now: datetime,
    limit: int,
    region: str | None,
    lang: str,
) -> dict[str, Any]:
    """Open claims ranked by the risk that they turn into a complaint, with the reasons."""
    sql = _sql(session, ctx)
    weights = {f.code: f for f in FACTORS}

    def capped(code: str, expression: str) -> str:
        f = weights[code]
        return f"(CASE WHEN ({expression}) > {f.cap} THEN {f.cap} ELSE ({expression}) END)"

    values = {
        "stage_time": f"({sql.hours(':now', 'cl.stage_entered_at')} / 24.0 / "
        f"{_stage_target_case(ctx)})",
        "deadline_overdue": "(CASE WHEN cl.next_due_at IS NOT NULL AND cl.next_due_at < :now "
        "THEN 1 ELSE 0 END)",
        "deadline_due_soon": "(CASE WHEN cl.next_due_at IS NOT NULL AND cl.next_due_at >= :now "
        "AND cl.next_due_at < :soon THEN 1 ELSE 0 END)",
        "outstanding_documents": "COALESCE("
        + sql.json_length("cl.progress_doc", "outstanding_documents")
        + ", 0)",
        "repeat_document_request": "(CASE WHEN cl.repeat_document_request THEN 1 ELSE 0 END)",
        # The most complaints before now on any one of the claim, its policy, its plate: three
        # index lookups (an OR of the three defeats the indexes).
        "earlier_complaints": sql.greatest(
            *(
                f"(SELECT COUNT(*) FROM complaint c WHERE c.{column} = cl.{key} "  # noqa: S608
                "AND c.received_at <= :now)"
                for column, key in (
                    ("claim_id", "id"),
                    ("policy_no", "policy_no"),
                    ("plate_no", "plate_no"),
                )
            )
        ),
        "backward_moves": "(SELECT COUNT(*) FROM claim_stage_event e "  # noqa: S608
        "WHERE e.claim_id = cl.id "
        f"AND {_stage_rank('e.to_stage')} >= 0 "
        f"AND {_stage_rank('e.to_stage')} < {_stage_rank('e.from_stage')})",
    }
    # Each factor is computed once (inner query), then capped, weighed and summed (outer).
    score = " + ".join(f"{weights[code].weight} * {capped(code, code)}" for code in values)
    stages = ", ".join(f"'{s}'" for s in OPEN_STAGES)
    region_filter = " AND cl.region = :region" if region is not None else ""
    columns = ", ".join(f"{expr} AS {code}" for code, expr in values.items())
    statement = _text(
        "SELECT * FROM (SELECT factors.*, "  # noqa: S608 - constant fragments, values bound
        f"{score} AS score FROM ("
        "SELECT cl.id, cl.claim_no, cl.stage, cl.stage_entered_at, cl.next_due_at, cl.region, "
        f"{columns} FROM claim cl WHERE cl.stage IN ({stages}){region_filter} {sql.fence()}"
        ") factors) scored "
        "WHERE score > 0 ORDER BY score DESC, id LIMIT :limit",
        "now",
        "soon",
    )
    params: dict[str, Any] = {"now": now, "soon": now + DUE_SOON, "limit": limit}
    if region is not None:
        params["region"] = region
    rows = (await session.execute(statement, params)).all()
    items = []
    for r in rows:
        figures = {code: float(getattr(r, code) or 0) for code in values}
        risk, reasons = explain(figures)
        items.append(
            {
                "claim_no": r.claim_no,
                "stage": r.stage,
                "stage_label": stage_label(r.stage, lang),  # type: ignore[arg-type]
                "stage_entered_at": _DT.process_result_value(
                    r.stage_entered_at, session.bind.dialect
                ),
                "next_due_at": _DT.process_result_value(r.next_due_at, session.bind.dialect),
                "region": r.region,
                "score": risk,
                "database_score": round(float(r.score), 4),
                "factors": reasons,
            }
        )
    return {
        "as_of": now,
        "factors": [
            {"factor": f.code, "weight": f.weight, "cap": f.cap, "description": f.description}
            for f in FACTORS
        ],
        "claims": items,
    }
