"""Jurisdiction profiles and deadline bases."""

from __future__ import annotations

import dataclasses

import pytest

from app.deadlines.rules import BASES, INTERNAL_STAGES, PROFILES, Basis, get_profile


@pytest.mark.parametrize(
    ("code", "attribute", "expected"),
    [
        ("cn", "timezone", "Asia/Shanghai"),
        ("tw", "timezone", "Asia/Taipei"),
        ("uk", "timezone", "Europe/London"),
        ("cn", "calendar_country", "CN"),
        ("tw", "calendar_country", "TW"),
        ("uk", "calendar_country", "GB"),
        ("uk", "calendar_subdiv", "ENG"),
        ("cn", "calendar_subdiv", None),
        ("cn", "claim_determination_days", 30),
        ("cn", "claim_determination_days_compulsory", 5),
        ("cn", "claim_payment_days", 10),
        ("tw", "claim_payment_days", 15),
        ("uk", "claim_payment_days", 10),
        ("cn", "advance_payment_days", 60),
        ("cn", "rejection_notice_days", 3),
        ("cn", "complaint_reply_days", 15),
        ("tw", "complaint_reply_days", 30),
        ("uk", "complaint_reply_days", 56),
        ("cn", "complaint_complex_total_days", 30),
        ("cn", "complaint_very_complex_total_days", 60),
        ("tw", "complaint_complex_total_days", None),
        ("uk", "complaint_very_complex_total_days", None),
        ("cn", "complaint_acknowledge_hours", 24),
        ("uk", "complaint_summary_business_days", 3),
        ("cn", "complaint_summary_business_days", None),
    ],
)
def test_profile_numbers(code: str, attribute: str, expected: object) -> None:
    assert getattr(get_profile(code), attribute) == expected


@pytest.mark.parametrize("code", ["cn", "tw", "uk"])
def test_default_internal_targets(code: str) -> None:
    assert dict(get_profile(code).internal_stage_days) == {
        "reported": 1,
        "survey_assessment": 3,
        "document_review": 5,
        "adjustment": 5,
        "approval": 3,
    }


@pytest.mark.parametrize("code", ["", "CN", "hk", "de"])
def test_unknown_profile(code: str) -> None:
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        get_profile(code)


@pytest.mark.parametrize(
    ("coverage", "days"),
    [("commercial", 30), ("compulsory_tpl", 5)],
)
def test_determination_days(coverage: str, days: int) -> None:
    assert get_profile("cn").determination_days(coverage) == days


def test_determination_days_unknown_coverage() -> None:
    with pytest.raises(ValueError, match="coverage_type"):
        get_profile("cn").determination_days("comprehensive")


def test_with_internal_targets_overrides_and_keeps_original() -> None:
    cn = get_profile("cn")
    changed = cn.with_internal_targets({"approval": 2, "reported": 2})
    assert changed.internal_stage_days["approval"] == 2
    assert changed.internal_stage_days["reported"] == 2
    assert changed.internal_stage_days["adjustment"] == 5
    assert cn.internal_stage_days["approval"] == 3
    assert PROFILES["cn"].internal_stage_days["approval"] == 3


@pytest.mark.parametrize(
    "mapping",
    [{"settled": 1}, {"approval": -1}, {"approval": "3"}, {"approval": True}],
)
def test_with_internal_targets_rejects_bad_values(mapping: dict) -> None:
    with pytest.raises(ValueError):
        get_profile("cn").with_internal_targets(mapping)


def test_profile_is_frozen_and_hashable() -> None:
    cn = get_profile("cn")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cn.claim_payment_days = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        cn.internal_stage_days["approval"] = 9  # type: ignore[index]
    assert hash(cn) == hash(dataclasses.replace(cn))


def test_replace_keeps_validation() -> None:
    changed = dataclasses.replace(get_profile("cn"), advance_payment_days=45)
    assert changed.advance_payment_days == 45
    with pytest.raises(ValueError):
        dataclasses.replace(get_profile("cn"), timezone="Asia/Nowhere")


EXPECTED_CODES = {
    "claim.determination",
    "claim.payment",
    "claim.advance_payment",
    "claim.rejection_notice",
    "complaint.reply",
    "complaint.acknowledge",
    *(f"internal.{stage}" for stage in INTERNAL_STAGES),
}


def test_bases_cover_every_code() -> None:
    assert set(BASES) == EXPECTED_CODES
    for code, basis in BASES.items():
        assert isinstance(basis, Basis)
        assert basis.code == code


@pytest.mark.parametrize(
    ("code", "source_fragment", "unconfirmed"),
    [
        ("claim.determination", "Insurance Law Art. 23", False),
        ("claim.payment", "Insurance Law Art. 23", False),
        ("claim.advance_payment", "Insurance Law Art. 25", True),
        ("claim.rejection_notice", "Insurance Law Art. 24", True),
        ("complaint.reply", "CBIRC Order 2020 No. 3", False),
        ("complaint.acknowledge", "Internal", False),
        ("internal.approval", "Internal", False),
    ],
)
def test_basis_rows(code: str, source_fragment: str, unconfirmed: bool) -> None:
    basis = BASES[code]
    assert source_fragment in basis.source
    assert source_fragment.split(" Art.")[0] in basis.description_en
    assert basis.unconfirmed is unconfirmed
    assert ("unconfirmed" in basis.description_en) is unconfirmed


@pytest.mark.parametrize(
    ("profile", "code", "source_fragment"),
    [
        ("cn", "complaint.reply", "CBIRC"),
        ("tw", "complaint.reply", "Financial Consumer Protection Act Art. 13"),
        ("tw", "claim.payment", "Insurance Act Art. 34"),
        ("uk", "complaint.reply", "DISP"),
        ("uk", "claim.payment", "Insurance Law Art. 23"),
    ],
)
def test_profile_basis(profile: str, code: str, source_fragment: str) -> None:
    assert source_fragment in get_profile(profile).basis(code).source


def test_profile_basis_unknown_code() -> None:
    with pytest.raises(ValueError, match="unknown deadline code"):
        get_profile("cn").basis("claim.nothing")
