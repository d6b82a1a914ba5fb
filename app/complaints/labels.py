"""Labels of complaint statuses in the three languages."""

from __future__ import annotations

STATUS_LABELS: dict[str, dict[str, str]] = {
    "received": {"zh-Hant": "已受理", "zh-Hans": "已受理", "en": "Received"},
    "acknowledged": {"zh-Hant": "已確認", "zh-Hans": "已确认", "en": "Acknowledged"},
    "investigating": {"zh-Hant": "調查中", "zh-Hans": "调查中", "en": "Investigating"},
    "resolution_proposed": {
        "zh-Hant": "已提出方案",
        "zh-Hans": "已提出方案",
        "en": "Resolution proposed",
    },
    "resolved": {"zh-Hant": "已解決", "zh-Hans": "已解决", "en": "Resolved"},
    "closed": {"zh-Hant": "已結案", "zh-Hans": "已结案", "en": "Closed"},
}


def status_label(status: str, lang: str) -> str:
    """A status's label in a language."""
    return STATUS_LABELS[status][lang]
