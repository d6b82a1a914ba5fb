"""Request and response bodies of the claims API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.claims.stages import CoverageType, Stage
from app.core.fields import Instant, PlainText
from app.core.pagination import Page

CLAIM_NO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
ClaimNo = Annotated[str, StringConstraints(pattern=CLAIM_NO_PATTERN)]
PolicyNo = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")
]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{5,24}$")]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText
]
PlateNo = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=20), PlainText
]
DocumentName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), PlainText
]
EventId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,100}$")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]


class ClaimUpsert(BaseModel):
    """A claim as the core claims system knows it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "policy_no": "PDAA202644010000123",
                    "plate_no": "粵B·12345",
                    "insured_name": "張三明",
                    "insured_phone": "13812345678",
                    "accident_at": "2026-11-20T08:30:00+08:00",
                    "reported_at": "2026-11-20T09:05:00+08:00",
                    "region": "guangdong",
                    "coverage_type": "commercial",
                }
            ]
        },
    )

    policy_no: PolicyNo
    plate_no: PlateNo
    insured_name: ShortText
    insured_phone: Phone
    accident_at: Instant
    reported_at: Instant
    region: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), PlainText] | None
    ) = None
    coverage_type: CoverageType = CoverageType.commercial
    advance_paid_at: Instant | None = Field(
        default=None, description="When an advance payment (Insurance Law Art. 25) was made."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ClaimUpsert:
        if self.accident_at > self.reported_at:
            raise ValueError("accident_at must not be after reported_at")
        if self.advance_paid_at is not None and self.advance_paid_at < self.reported_at:
            raise ValueError("advance_paid_at must not be before reported_at")
        return self


class StageEventCreate(BaseModel):
    """A stage move recorded by the core claims system."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "stage": "document_review",
                    "occurred_at": "2026-11-22T10:00:00+08:00",
                    "event_id": "core-evt-000981",
                    "missing_documents": ["事故認定書", "維修清單"],
                    "actor": "adjuster-017",
                }
            ]
        },
    )

    stage: Stage
    occurred_at: Instant
    event_id: EventId | None = Field(
        default=None, description="The sender's id of this event; a repeat records nothing."
    )
    note: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), PlainText] | None
    ) = Field(default=None, description="Required (the reason) for `rejected` and for reopening.")
    actor: ShortText | None = None
    missing_documents: Annotated[list[DocumentName], Field(max_length=50)] | None = Field(
        default=None,
        description="Documents still missing, all of them at once (Insurance Law Art. 22). "
        "An empty list on a document_review event means the documents are complete.",
    )
    amount: Amount | None = Field(default=None, description="The agreed amount (on `approval`).")


class DeadlineRead(BaseModel):
    """A statutory or internal time limit with the rule it comes from."""

    code: str = Field(examples=["claim.determination"])
    basis: str = Field(examples=["claim.determination"])
    label: str = Field(examples=["理赔核定时限"])
    description: str = Field(examples=["Insurance Law Art. 23: decide within 30 days"])
    started_at: datetime
    due_at: datetime = Field(description="The exact instant the period ends (24:00 local time).")
    stopped_at: datetime | None = None
    state: Literal["running", "met", "missed"]
    overdue: bool = Field(description="Running and past due; a stopped deadline is never overdue.")
    provisional: bool = Field(
        description="Counted on a holiday calendar not yet announced; firms up when it is."
    )


class StageHistoryEntry(BaseModel):
    """One entry of the claim's stage history (the first is the report itself)."""

    seq: int
    stage: Stage
    from_stage: Stage | None
    occurred_at: datetime
    recorded_at: datetime
    event_id: str | None = None
    note: str | None = None
    actor: str | None = None
    missing_documents: list[str] | None = None
    amount: Decimal | None = None
    recorded_by: str | None = None


class ComplaintRef(BaseModel):
    """A complaint about this claim that is not closed."""

    id: int
    reference: str = Field(examples=["CMP-20261124-000123"])
    status: str
    received_at: datetime


class ClaimRead(BaseModel):
    """A claim with its stage, history and deadlines."""

    claim_no: str
    policy_no: str
    plate_no: str
    insured_name: str
    insured_phone: str
    accident_at: datetime
    reported_at: datetime
    region: str | None
    coverage_type: CoverageType
    advance_paid_at: datetime | None
    stage: Stage
    stage_label: str
    stage_entered_at: datetime
    stage_history: list[StageHistoryEntry]
    outstanding_documents: list[str]
    deadlines: list[DeadlineRead]
    compliance_flags: list[str] = Field(
        description="E.g. `repeat_document_request`: a second missing-documents list named a "
        "document the first did not (Insurance Law Art. 22)."
    )
    open_complaints: list[ComplaintRef] = Field(
        default_factory=list, description="Complaints about this claim that are not closed."
    )
    version: int
    created_at: datetime
    updated_at: datetime


class ClaimSummary(BaseModel):
    """A claim in a list."""

    claim_no: str
    policy_no: str
    plate_no: str
    region: str | None
    coverage_type: CoverageType
    stage: Stage
    stage_label: str
    stage_entered_at: datetime
    reported_at: datetime
    next_due_at: datetime | None
    overdue: bool
    version: int
    updated_at: datetime


ClaimPage = Page[ClaimSummary]


class StageEventRead(BaseModel):
    """The recorded move and the claim's state after it."""

    claim_no: str
    entry: StageHistoryEntry
    stage: Stage = Field(description="The claim's stage now.")
    stage_label: str
    version: int
    outstanding_documents: list[str]
    deadlines: list[DeadlineRead]
    compliance_flags: list[str]


class StageProgress(BaseModel):
    """One of the six stages in the customer's view."""

    stage: Stage
    label: str
    status: Literal["done", "current", "pending"]
    entered_at: datetime | None
    left_at: datetime | None
    time_spent_seconds: int | None = Field(
        description="Total time spent in the stage (up to now for the current one)."
    )


class ProgressRead(BaseModel):
    """The customer's view of a claim: where it is, what is next, what is missing, by when."""

    claim_no: str
    stage: Stage = Field(description="Current stage, or the outcome (`rejected`, `withdrawn`).")
    stage_label: str
    stages: list[StageProgress]
    next_step: str
    outstanding_documents: list[str]
    deadlines: list[DeadlineRead]
    insured_name: str = Field(examples=["張*明"])
    insured_phone: str = Field(examples=["138****5678"])
    plate_no: str = Field(examples=["粵B·***45"])
    language: Literal["zh-Hans", "zh-Hant", "en"]
    updated_at: datetime


class StageChangedData(BaseModel):
    """The `data` of a `stage_changed` event on the progress stream."""

    claim_no: str
    seq: int = Field(description="The move's number; also the event's `id`.")
    from_stage: Stage | None
    stage: Stage
    stage_label: str
    occurred_at: datetime
    event_id: str | None = None
    progress: ProgressRead = Field(description="The progress view after the move.")


def _json_data(schema: dict[str, object]) -> dict[str, object]:
    return {"type": "string", "contentMediaType": "application/json", "contentSchema": schema}


def progress_event_schema() -> dict[str, object]:
    """JSON Schema of one event on the progress stream, as OpenAPI documents SSE events."""
    changed = StageChangedData.model_json_schema(ref_template="#/components/schemas/{model}")
    changed.pop("$defs", None)
    ident = {"type": "string", "pattern": "^[0-9]+$"}
    return {
        "oneOf": [
            {
                "type": "object",
                "required": ["event", "id", "data"],
                "properties": {
                    "event": {"const": "progress"},
                    "id": ident,
                    "data": _json_data({"$ref": "#/components/schemas/ProgressRead"}),
                },
            },
            {
                "type": "object",
                "required": ["event", "id", "data"],
                "properties": {
                    "event": {"const": "stage_changed"},
                    "id": ident,
                    "data": _json_data(changed),
                },
            },
        ]
    }
