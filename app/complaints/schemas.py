"""Request and response bodies of the complaints API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from app.claims.schemas import CLAIM_NO_PATTERN, DeadlineRead, Phone, PlateNo, PolicyNo
from app.classification.schemas import Classification
from app.core.fields import Instant, PlainText
from app.core.pagination import Page

IdNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^(\d{15}|\d{17}[\dXx]|[A-Z0-9]{6,20})$")
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText
]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), PlainText]


class Channel(StrEnum):
    """How the complaint arrived."""

    phone = "phone"
    web = "web"
    app = "app"
    email = "email"
    letter = "letter"
    walk_in = "walk_in"
    regulator_referral = "regulator_referral"


class Complainant(BaseModel):
    """Who complains."""

    model_config = ConfigDict(extra="forbid")

    name: Name = Field(examples=["張三明"])
    phone: Phone = Field(examples=["13812345678"])
    id_number: IdNumber | None = Field(default=None, examples=["44030119900101123X"])


class ComplaintCreate(BaseModel):
    """A complaint as the call centre takes it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "channel": "phone",
                    "text": "查勘员态度倒是挺好，就是定损拖了两个月还没结果，"
                    "打电话也没人告诉我进度。",
                    "complainant": {"name": "張三明", "phone": "13812345678"},
                    "claim_no": "CLM-2026-000123",
                    "disputed_amount": "3800.00",
                }
            ]
        },
    )

    channel: Channel
    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=10000),
        PlainText,
    ]
    complainant: Complainant
    claim_no: Annotated[str, StringConstraints(pattern=CLAIM_NO_PATTERN)] | None = None
    policy_no: PolicyNo | None = None
    plate_no: PlateNo | None = None
    disputed_amount: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)] | None = None
    received_at: Instant | None = Field(default=None, description="Default: now.")
    external_ref: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), PlainText] | None
    ) = None


class Due(BaseModel):
    """When the complaint must be acknowledged and answered."""

    acknowledge_by: datetime
    reply_by: datetime


class PriorityReasonRead(BaseModel):
    """Why the priority is what it is."""

    code: str = Field(examples=["regulator_referral"])
    priority: str = Field(examples=["urgent"])
    detail: str


class ComplainantRead(BaseModel):
    """The complainant as this role may see them."""

    name: str
    phone: str
    id_number: str | None


class ComplaintRead(BaseModel):
    """A complaint with its cause, priority, deadlines and next possible actions."""

    id: int
    reference: str = Field(examples=["CMP-20261124-000123"])
    status: str
    status_label: str
    channel: Channel
    text: str
    complainant: ComplainantRead
    claim_no: str | None
    claim_stage: str | None = Field(description="The claim's stage when the complaint came in.")
    policy_no: str | None
    plate_no: str | None
    disputed_amount: Decimal | None
    external_ref: str | None
    received_at: datetime
    classification: Classification
    category_label: str
    subcause_label: str
    priority: Literal["low", "normal", "high", "urgent"]
    priority_reasons: list[PriorityReasonRead]
    route_to_supervisor: bool
    assignee: str | None
    team: str | None
    escalation_level: str | None
    due: Due
    overdue: bool
    deadlines: list[DeadlineRead]
    acknowledged_at: datetime | None
    replied_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    extensions: list[dict[str, Any]]
    reopen_count: int
    notes: str | None
    allowed_actions: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ComplaintSummary(BaseModel):
    """A complaint in a list: enough to triage; GET the complaint for the rest."""

    id: int
    reference: str
    status: str
    status_label: str
    channel: Channel
    excerpt: str = Field(description="The first 200 characters of the text.")
    complainant_name: str
    claim_no: str | None
    claim_stage: str | None
    received_at: datetime
    category: str
    subcause: str
    subcause_label: str
    priority: Literal["low", "normal", "high", "urgent"]
    route_to_supervisor: bool
    assignee: str | None
    team: str | None
    due: Due
    overdue: bool = Field(description="Past acknowledge-by or reply-by without the answer.")
    version: int
    updated_at: datetime


ComplaintPage = Page[ComplaintSummary]


class ComplaintPatch(BaseModel):
    """Partial update: supervisors assign and set priority; the call centre edits contacts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"assignee": "handler-07", "team": "north"}]},
    )

    assignee: Name | None = None
    team: Name | None = None
    # Absent: unchanged. These two cannot be cleared, so null is refused (422).
    priority: Literal["low", "normal", "high", "urgent"] = None  # type: ignore[assignment]
    complainant_phone: Phone = None  # type: ignore[assignment]
    notes: Note | None = None


class TransitionCreate(BaseModel):
    """An action on the complaint's lifecycle."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "acknowledge", "note": "called back"}]},
    )

    action: Literal[
        "acknowledge",
        "start_investigation",
        "propose_resolution",
        "resolve",
        "close",
        "reopen",
        "escalate",
        "extend_deadline",
    ]
    note: Note | None = None
    notified: StrictBool = Field(
        default=False,
        description="propose_resolution/resolve: the complainant was told the decision; this "
        "stops the legal reply clock.",
    )
    reason: Annotated[str, StringConstraints(max_length=40), PlainText] | None = Field(
        default=None,
        description="close: `completed` or `withdrawn`; extend_deadline: `complex` or "
        "`very_complex`.",
    )
    level: Literal["supervisor", "management", "regulator"] | None = Field(
        default=None, description="escalate: to whom."
    )
    approver: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), PlainText] | None
    ) = Field(default=None, description="extend_deadline very_complex: the approving executive.")


class TimelineEntry(BaseModel):
    """One event of the complaint's history."""

    seq: int
    kind: str = Field(examples=["transition"])
    action: str | None
    from_status: str | None
    to_status: str | None
    actor: str
    role: str
    occurred_at: datetime
    note: str | None
    detail: dict[str, Any] | None


class Timeline(BaseModel):
    """A complaint's history in order."""

    complaint_id: int
    reference: str
    items: list[TimelineEntry]
