"""Jurisdiction profiles: the numbers of shared/regulation.md as data, with their legal bases."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INTERNAL_STAGES: tuple[str, ...] = (
    "reported",
    "survey_assessment",
    "document_review",
    "adjustment",
    "approval",
)
TERMINAL_STAGES: tuple[str, ...] = ("settled", "rejected", "withdrawn")
STAGES: tuple[str, ...] = INTERNAL_STAGES + TERMINAL_STAGES

COVERAGE_TYPES: tuple[str, ...] = ("commercial", "compulsory_tpl")

DEFAULT_INTERNAL_STAGE_DAYS: Mapping[str, int] = MappingProxyType(
    {
        "reported": 1,
        "survey_assessment": 3,
        "document_review": 5,
        "adjustment": 5,
        "approval": 3,
    }
)


@dataclass(frozen=True)
class Basis:
    """Why a deadline is what it is: its code, an English description and its source."""

    code: str
    description_en: str
    source: str
    unconfirmed: bool = False


def _internal_basis(stage: str) -> Basis:
    return Basis(
        code=f"internal.{stage}",
        description_en=(
            f"Internal target, not law: finish the {stage} stage within the configured number "
            "of days of entering it (configurable)."
        ),
        source="Internal service standard",
    )


BASES: Mapping[str, Basis] = MappingProxyType(
    {
        b.code: b
        for b in (
            Basis(
                "claim.determination",
                "Insurance Law Art. 23: determine the claim within 30 days of complete documents "
                "(unless the contract agrees otherwise); 5 days for compulsory motor third-party "
                "cover under the compulsory motor insurance regulation.",
                "Insurance Law Art. 23; Regulation on Compulsory Motor Vehicle Traffic Accident "
                "Liability Insurance",
            ),
            Basis(
                "claim.payment",
                "Insurance Law Art. 23: pay within 10 days of agreeing the amount; compulsory "
                "motor insurance regulation (10 days).",
                "Insurance Law Art. 23; Regulation on Compulsory Motor Vehicle Traffic Accident "
                "Liability Insurance",
            ),
            Basis(
                "claim.advance_payment",
                "Insurance Law Art. 25: pay the determinable part first if the amount is not fixed "
                "within 60 days of the request and documents (statute text unconfirmed; the "
                "number is configurable).",
                "Insurance Law Art. 25",
                unconfirmed=True,
            ),
            Basis(
                "claim.rejection_notice",
                "Insurance Law Art. 24: send a reasoned rejection notice within 3 days of the "
                "determination to reject (statute text unconfirmed; the number is configurable).",
                "Insurance Law Art. 24",
                unconfirmed=True,
            ),
            Basis(
                "complaint.reply",
                "CBIRC Order 2020 No. 3: decide and tell the complainant within 15 days of "
                "receipt; extendable to 30 days (complex) and by a further 30 days (very "
                "complex, approved by senior management), each with notice to the complainant.",
                "CBIRC Order 2020 No. 3 (银行业保险业消费投诉处理管理办法)",
            ),
            Basis(
                "complaint.acknowledge",
                "Internal target, not law: acknowledge a complaint within 24 hours of receipt; "
                "CBIRC Order 2020 No. 3 sets no number (configurable).",
                "Internal service standard",
            ),
            *(_internal_basis(stage) for stage in INTERNAL_STAGES),
        )
    }
)

# Where another profile's law differs, its own basis replaces the cn one.
_PROFILE_BASES: Mapping[str, Mapping[str, Basis]] = MappingProxyType(
    {
        "tw": MappingProxyType(
            {
                "complaint.reply": Basis(
                    "complaint.reply",
                    "Financial Consumer Protection Act Art. 13: handle the complaint and reply "
                    "within 30 days of receipt.",
                    "Financial Consumer Protection Act Art. 13",
                ),
                "claim.payment": Basis(
                    "claim.payment",
                    "Insurance Act Art. 34: pay within 15 days after the amount is fixed, where "
                    "the contract sets no term.",
                    "Insurance Act Art. 34",
                ),
            }
        ),
        "uk": MappingProxyType(
            {
                "complaint.reply": Basis(
                    "complaint.reply",
                    "FCA DISP 1.6: send a final response within 8 weeks of receipt (a complaint "
                    "resolved by close of business on the 3rd business day after receipt may close "
                    "with a summary resolution communication, DISP 1.5).",
                    "FCA Handbook DISP 1.5, 1.6",
                ),
            }
        ),
    }
)


def _freeze_stage_days(mapping: Mapping[str, int]) -> Mapping[str, int]:
    unknown = set(mapping) - set(INTERNAL_STAGES)
    if unknown:
        raise ValueError(f"no internal target for stage(s) {sorted(unknown)}")
    for stage, days in mapping.items():
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError(f"internal target for {stage} must be a whole number of days >= 0")
    missing = set(INTERNAL_STAGES) - set(mapping)
    if missing:
        raise ValueError(f"internal targets missing for stage(s) {sorted(missing)}")
    return MappingProxyType({stage: mapping[stage] for stage in INTERNAL_STAGES})


@dataclass(frozen=True)
class Profile:
    """A jurisdiction's time limits, time zone and holiday calendar."""

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
    # Total reply days after an extension for reason `complex` / `very_complex`; None: no extension.
    complaint_complex_total_days: int | None
    complaint_very_complex_total_days: int | None
    complaint_acknowledge_hours: int
    internal_stage_days: Mapping[str, int] = field(
        default_factory=lambda: DEFAULT_INTERNAL_STAGE_DAYS, hash=False
    )
    # Business days for a summary resolution (uk DISP 1.5); None where the profile has none.
    complaint_summary_business_days: int | None = None

    def __post_init__(self) -> None:
        # A read-only copy keeps the frozen profile from changing through a caller's dict.
        object.__setattr__(
            self, "internal_stage_days", _freeze_stage_days(self.internal_stage_days)
        )
        try:
            ZoneInfo(self.timezone)  # fail at definition time, not at the first deadline
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"profile {self.code}: unknown time zone {self.timezone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        """The profile's local time zone."""
        return ZoneInfo(self.timezone)

    def determination_days(self, coverage_type: str) -> int:
        """Claim determination limit for a coverage type."""
        if coverage_type not in COVERAGE_TYPES:
            raise ValueError(f"unknown coverage_type {coverage_type!r}")
        if coverage_type == "compulsory_tpl":
            return self.claim_determination_days_compulsory
        return self.claim_determination_days

    def with_internal_targets(self, mapping: Mapping[str, int]) -> Profile:
        """A copy whose internal stage targets are updated from `mapping` (other stages kept)."""
        return dataclasses.replace(
            self, internal_stage_days={**self.internal_stage_days, **mapping}
        )

    def basis(self, code: str) -> Basis:
        """The legal or internal basis of a deadline code in this profile."""
        override = _PROFILE_BASES.get(self.code, {}).get(code)
        if override is not None:
            return override
        try:
            return BASES[code]
        except KeyError:
            raise ValueError(f"unknown deadline code {code!r}") from None


_CN = Profile(
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
    complaint_complex_total_days=30,
    complaint_very_complex_total_days=60,
    complaint_acknowledge_hours=24,
)

PROFILES: dict[str, Profile] = {
    "cn": _CN,
    # regulation.md gives tw only the complaint reply (30 days) and claim payment (15 days); the
    # other claim limits and internal targets reuse the cn values until tw's are configured.
    "tw": dataclasses.replace(
        _CN,
        code="tw",
        timezone="Asia/Taipei",
        calendar_country="TW",
        claim_payment_days=15,
        complaint_reply_days=30,
        complaint_complex_total_days=None,
        complaint_very_complex_total_days=None,
    ),
    # regulation.md gives uk only the complaint rules (8 weeks = 56 days; summary resolution by the
    # 3rd business day); every claim limit reuses the cn values.
    "uk": dataclasses.replace(
        _CN,
        code="uk",
        timezone="Europe/London",
        calendar_country="GB",
        calendar_subdiv="ENG",
        complaint_reply_days=56,
        complaint_complex_total_days=None,
        complaint_very_complex_total_days=None,
        complaint_summary_business_days=3,
    ),
}


def get_profile(code: str) -> Profile:
    """The profile for a jurisdiction code (cn, tw, uk)."""
    try:
        return PROFILES[code]
    except KeyError:
        raise ValueError(
            f"unknown jurisdiction profile {code!r}; known: {sorted(PROFILES)}"
        ) from None
