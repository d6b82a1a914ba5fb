"""The event types other systems can subscribe to (the contract's "Events" section)."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    """What happened; the `type` of a delivered event."""

    complaint_created = "complaint.created"
    complaint_status_changed = "complaint.status_changed"
    complaint_sla_breached = "complaint.sla_breached"
    claim_stage_changed = "claim.stage_changed"
    claim_deadline_breached = "claim.deadline_breached"
    follow_up_due = "follow_up.due"
    survey_recorded = "survey.recorded"


DESCRIPTIONS: dict[EventType, str] = {
    EventType.complaint_created: "A complaint was taken in (its cause, priority and due dates).",
    EventType.complaint_status_changed: "A complaint moved between statuses (an action).",
    EventType.complaint_sla_breached: "A complaint passed its acknowledge-by or reply-by time "
    "without the step being done (once per deadline and due time).",
    EventType.claim_stage_changed: "The core claims system recorded a stage move of a claim.",
    EventType.claim_deadline_breached: "A running statutory or internal deadline of a claim "
    "passed (once per deadline and due time).",
    EventType.follow_up_due: "An open follow-up reached its due time (once per due time).",
    EventType.survey_recorded: "A satisfaction survey of a complaint was recorded.",
}
