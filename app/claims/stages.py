"""Claim stages and the legal moves between them (domain.md §1): data plus one guard."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """A claim's stage or terminal outcome."""

    reported = "reported"
    survey_assessment = "survey_assessment"
    document_review = "document_review"
    adjustment = "adjustment"
    approval = "approval"
    settled = "settled"
    rejected = "rejected"
    withdrawn = "withdrawn"


class CoverageType(StrEnum):
    """The cover a claim is made under; compulsory third-party cover has shorter limits."""

    commercial = "commercial"
    compulsory_tpl = "compulsory_tpl"


MAIN_STAGES: tuple[Stage, ...] = (
    Stage.reported,
    Stage.survey_assessment,
    Stage.document_review,
    Stage.adjustment,
    Stage.approval,
    Stage.settled,
)
OUTCOMES: frozenset[Stage] = frozenset({Stage.rejected, Stage.withdrawn})
OPEN_STAGES: frozenset[Stage] = frozenset(MAIN_STAGES[:-1])

_ENDINGS = frozenset({Stage.rejected, Stage.withdrawn})

# Forward one step, the three back-steps of domain.md §1, and the two outcomes from any open
# stage. document_review → document_review records a new missing-documents list.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.reported: frozenset({Stage.survey_assessment}) | _ENDINGS,
    Stage.survey_assessment: frozenset({Stage.document_review}) | _ENDINGS,
    Stage.document_review: frozenset({Stage.document_review, Stage.adjustment}) | _ENDINGS,
    Stage.adjustment: frozenset({Stage.approval, Stage.document_review}) | _ENDINGS,
    Stage.approval: frozenset({Stage.settled, Stage.adjustment}) | _ENDINGS,
    Stage.settled: frozenset({Stage.adjustment}),
    Stage.rejected: frozenset(),
    Stage.withdrawn: frozenset(),
}

# Moves that must say why (the reason is the note).
REASON_REQUIRED: frozenset[tuple[Stage, Stage]] = frozenset(
    {(s, Stage.rejected) for s in OPEN_STAGES} | {(Stage.settled, Stage.adjustment)}
)


class IllegalMove(Exception):
    """The state machine refuses a move; `allowed` lists the legal next stages."""

    def __init__(self, current: Stage, target: Stage) -> None:
        self.current = current
        self.target = target
        self.allowed = allowed_moves(current)
        super().__init__(
            f"A claim in stage {current.value} cannot move to {target.value}; allowed: "
            + (", ".join(s.value for s in self.allowed) or "none (terminal)")
            + "."
        )


class ReasonRequired(Exception):
    """The move needs a reason (`note`)."""

    def __init__(self, current: Stage, target: Stage) -> None:
        self.current = current
        self.target = target
        what = "rejection" if target is Stage.rejected else "reopening a settled claim"
        super().__init__(f"A note with the reason is required for {what}.")


def allowed_moves(current: Stage) -> list[Stage]:
    """The legal next stages, in process order."""
    return [s for s in Stage if s in TRANSITIONS[current]]


def check_move(current: Stage, target: Stage, *, note: str | None) -> None:
    """Raise IllegalMove or ReasonRequired unless `current → target` may be recorded."""
    if target not in TRANSITIONS[current]:
        raise IllegalMove(current, target)
    if (current, target) in REASON_REQUIRED and not (note and note.strip()):
        raise ReasonRequired(current, target)
