"""Report response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SummaryGroup(BaseModel):
    """One group's count, its share of the period, and its change against the previous one."""

    key: str | None = Field(examples=["timeliness"])
    label: str | None = Field(examples=["理赔时效问题"])
    count: int
    share: float = Field(description="count ÷ the period's total.")
    previous_count: int | None = Field(
        description="The same group in the previous period of the same length (null for "
        "time buckets)."
    )
    change: int | None
    change_ratio: float | None = Field(description="change ÷ previous_count (null when 0).")


class Summary(BaseModel):
    """Complaint counts by a grouping over a period."""

    group_by: str
    from_: datetime = Field(alias="from")
    to: datetime
    previous_from: datetime
    previous_to: datetime
    total: int
    previous_total: int
    change: int
    groups: list[SummaryGroup]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class SlaFigures(BaseModel):
    """Deadline figures of a set of complaints."""

    received: int
    acknowledged_on_time: int
    acknowledgements_due: int = Field(description="Acknowledged, or due by now and still open.")
    acknowledged_on_time_share: float | None
    acknowledge_breaches: int
    replied_on_time: int
    replies_due: int = Field(description="Replied, or due by now, open and not paused.")
    replied_on_time_share: float | None
    reply_breaches: int
    currently_overdue: int
    extended: int
    mean_handling_hours: float | None = Field(description="Receipt to resolution (or closure).")
    p90_handling_hours: float | None = Field(description="Nearest-rank 90th percentile.")


class SlaGroup(SlaFigures):
    """SLA figures of one category or handler."""

    key: str


class SlaReport(BaseModel):
    """Acknowledgement and reply on time, breaches, handling time."""

    from_: datetime = Field(alias="from")
    to: datetime
    as_of: datetime
    overall: SlaFigures
    by_category: list[SlaGroup]
    by_handler: list[SlaGroup]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class HandlerFigures(BaseModel):
    """One handler's performance (考核)."""

    handler: str
    handled: int
    replied: int
    on_time_rate: float | None = Field(description="Replied on time ÷ replied.")
    surveys: int
    mean_satisfaction: float | None = Field(description="Mean survey score, 1–5.")
    resolved: int
    survey_response_rate: float | None = Field(description="Surveyed ÷ resolved complaints.")
    reopened: int
    reopen_rate: float | None = Field(description="Reopened ÷ handled.")
    escalations: int


class HandlerReport(BaseModel):
    """Per-handler performance over a period."""

    from_: datetime = Field(alias="from")
    to: datetime
    sort: str
    order: str
    handlers: list[HandlerFigures]

    model_config = {"populate_by_name": True, "serialize_by_alias": True}


class RiskFactor(BaseModel):
    """A factor's part in a claim's risk score."""

    factor: str
    value: float
    weight: float
    contribution: float
    description: str


class ClaimAtRisk(BaseModel):
    """An open claim, its risk score and why."""

    claim_no: str
    stage: str
    stage_label: str
    stage_entered_at: datetime
    next_due_at: datetime | None
    region: str | None
    score: float
    database_score: float = Field(description="The score the ranking used (equals `score`).")
    factors: list[RiskFactor]


class FactorDefinition(BaseModel):
    """How a factor is weighed."""

    factor: str
    weight: float
    cap: float
    description: str


class ClaimsAtRisk(BaseModel):
    """Open claims ranked by the risk of a complaint."""

    as_of: datetime
    factors: list[FactorDefinition]
    claims: list[ClaimAtRisk]


class CountRow(BaseModel):
    """A counted group."""

    key: str
    label: str | None
    count: int


class RegulatoryReturn(BaseModel):
    """The quarter's complaint statistics in the regulator's layout (sections add up)."""

    period: str = Field(examples=["2026Q3"])
    from_: datetime = Field(alias="from")
    to: datetime
    line_of_business: str
    total: int
    by_dispute_type: list[CountRow]
    by_category: list[CountRow]
    by_channel: list[CountRow]
    by_claim_stage: list[CountRow]
    by_region: list[CountRow]
    replied: int
    handled_within_limit: int
    handled_within_limit_share: float | None
    extended: int
    forwarded_by_regulator: int
    escalated_to_regulator: int
    withdrawn: int

    model_config = {"populate_by_name": True, "serialize_by_alias": True}
