"""The claim state machine, every pair of stages."""

from __future__ import annotations

import itertools

import pytest

from app.claims.stages import IllegalMove, ReasonRequired, Stage, allowed_moves, check_move

S = Stage
LEGAL = {
    (S.reported, S.survey_assessment),
    (S.survey_assessment, S.document_review),
    (S.document_review, S.document_review),
    (S.document_review, S.adjustment),
    (S.adjustment, S.approval),
    (S.approval, S.settled),
    # the three back-steps of domain.md §1
    (S.adjustment, S.document_review),
    (S.approval, S.adjustment),
    (S.settled, S.adjustment),
    # outcomes from every open stage
    *(
        (s, o)
        for s in (S.reported, S.survey_assessment, S.document_review, S.adjustment, S.approval)
        for o in (S.rejected, S.withdrawn)
    ),
}
ALL_PAIRS = list(itertools.product(Stage, Stage))


@pytest.mark.parametrize(("current", "target"), sorted(LEGAL))
def test_legal_move_is_accepted(current: Stage, target: Stage) -> None:
    check_move(current, target, note="reason given")


@pytest.mark.parametrize(("current", "target"), [pair for pair in ALL_PAIRS if pair not in LEGAL])
def test_illegal_move_is_refused_with_allowed_moves(current: Stage, target: Stage) -> None:
    with pytest.raises(IllegalMove) as caught:
        check_move(current, target, note="reason given")
    assert caught.value.allowed == allowed_moves(current)
    assert set(caught.value.allowed) == {t for (c, t) in LEGAL if c is current}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (s, S.rejected)
        for s in (S.reported, S.survey_assessment, S.document_review, S.adjustment, S.approval)
    ]
    + [(S.settled, S.adjustment)],
)
@pytest.mark.parametrize("note", [None, "", "   "])
def test_rejection_and_reopening_need_a_reason(
    current: Stage, target: Stage, note: str | None
) -> None:
    with pytest.raises(ReasonRequired):
        check_move(current, target, note=note)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.reported, S.withdrawn), (S.approval, S.settled), (S.adjustment, S.document_review)],
)
def test_other_moves_need_no_reason(current: Stage, target: Stage) -> None:
    check_move(current, target, note=None)


def test_terminal_outcomes_allow_nothing() -> None:
    assert allowed_moves(S.rejected) == []
    assert allowed_moves(S.withdrawn) == []


def test_skipped_stage_names_the_next_step() -> None:
    with pytest.raises(IllegalMove) as caught:
        check_move(S.reported, S.document_review, note=None)
    assert "survey_assessment" in str(caught.value)
