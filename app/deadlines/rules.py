"""Jurisdiction profiles: the numbers of regulation.md as data, with the source of each."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

STAGES_WITH_TARGETS = ("reported", "survey_assessment", "document_review", "adjustment", "approval")


@dataclass(frozen=True)
class Basis:
    """Why a deadline is what it is: its code, a description naming the source."""

    code: str
    description: str
    unconfirmed: bool = False


@dataclass(frozen=True)
class Profile:
    """The time limits of one jurisdiction."""

    code: str
    timezone: str
    calendar_country: str
    calendar_subdiv: str | None
    claim_determination_days: int
    claim_determination_days_compulsory: int
    claim_payment_days: int
    advance_payment_days: int
    rejection_notice_days: int
    complaint_reply_days: int
    complaint_extension_totals: tuple[int, ...]
    complaint_acknowledge_hours: int
    internal_stage_days: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType(
            {
                "reported": 1,
                "survey_assessment": 3,
                "document_review": 5,
                "adjustment": 5,
                "approval": 3,
            }
        )
    )
    bases: Mapping[str, Basis] = field(default_factory=dict)

    def with_internal_targets(self, overrides: Mapping[str, int]) -> Profile:
        """A copy with some internal stage targets (days) replaced."""
        unknown = set(overrides) - set(STAGES_WITH_TARGETS)
        if unknown:
            raise ValueError(f"no internal target for stage(s): {', '.join(sorted(unknown))}")
        if any(int(v) < 1 for v in overrides.values()):
            raise ValueError("internal stage targets are whole days, at least 1")
        merged = {**self.internal_stage_days, **{k: int(v) for k, v in overrides.items()}}
        return dataclasses.replace(self, internal_stage_days=MappingProxyType(merged))

    def basis(self, code: str) -> Basis:
        """The basis of a deadline code in this profile."""
        if code.startswith("internal."):
            stage = code.removeprefix("internal.")
            days = self.internal_stage_days[stage]
            return Basis(code, f"Internal target (not law): {days} day(s) in stage {stage}.")
        return self.bases[code]


_CN_BASES = {
    "claim.determination": Basis(
        "claim.determination",
        "Insurance Law Art. 23: decide on the claim within 30 days of complete documents "
        "(5 days for compulsory motor third-party cover, per the compulsory insurance regulation).",
    ),
    "claim.payment": Basis(
        "claim.payment",
        "Insurance Law Art. 23: pay within 10 days of agreeing the amount.",
    ),
    "claim.advance_payment": Basis(
        "claim.advance_payment",
        "Insurance Law Art. 25: pay the determinable part first if the amount is not fixed "
        "within 60 days of the claim and documents (statute text unconfirmed; configurable).",
        unconfirmed=True,
    ),
    "claim.rejection_notice": Basis(
        "claim.rejection_notice",
        "Insurance Law Art. 24: send a reasoned rejection notice within 3 days of deciding to "
        "reject (statute text unconfirmed; configurable).",
        unconfirmed=True,
    ),
    "complaint.reply": Basis(
        "complaint.reply",
        "CBIRC Order 2020 No. 3: decide and tell the complainant within 15 days; 30 days if "
        "complex, a further 30 if very complex with senior approval.",
    ),
    "complaint.acknowledge": Basis(
        "complaint.acknowledge",
        "Internal target (no legal number in CBIRC Order 2020 No. 3): acknowledge within 24 hours.",
    ),
}

PROFILES: dict[str, Profile] = {
    "cn": Profile(
        code="cn",
        timezone="Asia/Shanghai",
        calendar_country="CN",
        calendar_subdiv=None,
        claim_determination_days=30,
        claim_determination_days_compulsory=5,
        claim_payment_days=10,
        advance_payment_days=60,
        rejection_notice_days=3,
        complaint_reply_days=15,
        complaint_extension_totals=(30, 60),
        complaint_acknowledge_hours=24,
        bases=MappingProxyType(_CN_BASES),
    ),
    # Taiwan: regulation.md gives the complaint reply and payment limits; the other claim
    # limits reuse cn's numbers until the insurer configures its own.
    "tw": Profile(
        code="tw",
        timezone="Asia/Taipei",
        calendar_country="TW",
        calendar_subdiv=None,
        claim_determination_days=30,
        claim_determination_days_compulsory=5,
        claim_payment_days=15,
        advance_payment_days=60,
        rejection_notice_days=3,
        complaint_reply_days=30,
        complaint_extension_totals=(),
        complaint_acknowledge_hours=24,
        bases=MappingProxyType(
            {
                **_CN_BASES,
                "claim.payment": Basis(
                    "claim.payment",
                    "Insurance Act Art. 34: pay within 15 days after the amount is fixed, where "
                    "the contract sets no term.",
                ),
                "complaint.reply": Basis(
                    "complaint.reply",
                    "Financial Consumer Protection Act Art. 13: reply within 30 days of receipt.",
                ),
            }
        ),
    ),
    # United Kingdom: only the complaint limit is given (8 weeks); claim limits reuse cn's.
    "uk": Profile(
        code="uk",
        timezone="Europe/London",
        calendar_country="GB",
        calendar_subdiv="ENG",
        claim_determination_days=30,
        claim_determination_days_compulsory=5,
        claim_payment_days=10,
        advance_payment_days=60,
        rejection_notice_days=3,
        complaint_reply_days=56,
        complaint_extension_totals=(),
        complaint_acknowledge_hours=24,
        bases=MappingProxyType(
            {
                **_CN_BASES,
                "complaint.reply": Basis(
                    "complaint.reply", "FCA DISP 1.6: final response within 8 weeks of receipt."
                ),
            }
        ),
    ),
}


def get_profile(code: str) -> Profile:
    """The profile for a jurisdiction code."""
    try:
        return PROFILES[code]
    except KeyError:
        raise ValueError(
            f"unknown jurisdiction {code!r}; known: {', '.join(sorted(PROFILES))}"
        ) from None
