"""The customer's progress view: built once per change, rendered per read (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.claims.stages import MAIN_STAGES, OUTCOMES, Stage

Lang = str  # "zh-Hans" | "zh-Hant" | "en"

STAGE_LABELS: dict[Stage, dict[Lang, str]] = {
    Stage.reported: {"zh-Hant": "報案", "zh-Hans": "报案", "en": "Reported"},
    Stage.survey_assessment: {
        "zh-Hant": "查勘定損",
        "zh-Hans": "查勘定损",
        "en": "Survey & loss assessment",
    },
    Stage.document_review: {
        "zh-Hant": "單證簽收審核",
        "zh-Hans": "单证签收审核",
        "en": "Document receipt & review",
    },
    Stage.adjustment: {"zh-Hant": "理算復核", "zh-Hans": "理算复核", "en": "Adjustment & re-check"},
    Stage.approval: {"zh-Hant": "審批", "zh-Hans": "审批", "en": "Approval"},
    Stage.settled: {"zh-Hant": "賠付結案", "zh-Hans": "赔付结案", "en": "Paid & closed"},
    Stage.rejected: {"zh-Hant": "拒賠", "zh-Hans": "拒赔", "en": "Rejected"},
    Stage.withdrawn: {"zh-Hant": "撤案", "zh-Hans": "撤案", "en": "Withdrawn"},
}

NEXT_STEP: dict[Stage, dict[Lang, str]] = {
    Stage.reported: {
        "zh-Hant": "我們將安排查勘員與您聯繫，查勘車輛並確定損失。",
        "zh-Hans": "我们将安排查勘员与您联系，查勘车辆并确定损失。",
        "en": "An adjuster will contact you to survey the vehicle and assess the loss.",
    },
    Stage.survey_assessment: {
        "zh-Hant": "定損完成後，請按清單一次性提交索賠單證（事故認定書、維修清單等）。",
        "zh-Hans": "定损完成后，请按清单一次性提交索赔单证（事故认定书、维修清单等）。",
        "en": "Once the loss is assessed, please submit all claim documents at once "
        "(accident report, repair invoice, …).",
    },
    Stage.document_review: {
        "zh-Hant": "我們正在審核您的單證。",
        "zh-Hans": "我们正在审核您的单证。",
        "en": "We are reviewing your documents.",
    },
    Stage.adjustment: {
        "zh-Hant": "我們正在理算並復核賠付金額。",
        "zh-Hans": "我们正在理算并复核赔付金额。",
        "en": "We are computing and re-checking the payable amount.",
    },
    Stage.approval: {
        "zh-Hant": "賠付金額正在內部審批，審批通過後將盡快付款。",
        "zh-Hans": "赔付金额正在内部审批，审批通过后将尽快付款。",
        "en": "The amount is in internal approval; payment follows as soon as it is approved.",
    },
    Stage.settled: {
        "zh-Hant": "賠款已支付，案件已結案。",
        "zh-Hans": "赔款已支付，案件已结案。",
        "en": "The payment has been made and the claim is closed.",
    },
    Stage.rejected: {
        "zh-Hant": "本案已拒賠，原因已書面告知；如有異議可申請復核或投訴。",
        "zh-Hans": "本案已拒赔，原因已书面告知；如有异议可申请复核或投诉。",
        "en": "The claim was rejected and you were told why in writing; you may ask for a "
        "review or complain.",
    },
    Stage.withdrawn: {
        "zh-Hant": "本案已撤案。",
        "zh-Hans": "本案已撤案。",
        "en": "The claim was withdrawn.",
    },
}

MISSING_DOCUMENTS_STEP: dict[Lang, str] = {
    "zh-Hant": "請一次性補齊下列單證，補齊後我們將繼續審核。",
    "zh-Hans": "请一次性补齐下列单证，补齐后我们将继续审核。",
    "en": "Please submit the documents listed below; review continues once they are in.",
}

DEADLINE_LABELS: dict[str, dict[Lang, str]] = {
    "claim.determination": {
        "zh-Hant": "理賠核定時限",
        "zh-Hans": "理赔核定时限",
        "en": "Claim decision limit",
    },
    "claim.payment": {"zh-Hant": "賠款支付時限", "zh-Hans": "赔款支付时限", "en": "Payment limit"},
    "claim.advance_payment": {
        "zh-Hant": "先行賠付時限",
        "zh-Hans": "先行赔付时限",
        "en": "Advance payment limit",
    },
    "claim.rejection_notice": {
        "zh-Hant": "拒賠通知時限",
        "zh-Hans": "拒赔通知时限",
        "en": "Rejection notice limit",
    },
}


def stage_label(stage: Stage | str, lang: Lang) -> str:
    """A stage's label in a language."""
    return STAGE_LABELS[Stage(stage)][lang]


def deadline_label(code: str, lang: Lang) -> str:
    """A deadline's label in a language (internal targets are named after their stage)."""
    if code.startswith("internal."):
        stage = Stage(code.removeprefix("internal."))
        name = STAGE_LABELS[stage][lang]
        return {"zh-Hant": f"{name}內部時限", "zh-Hans": f"{name}内部时限"}.get(
            lang, f"Internal target: {name}"
        )
    return DEADLINE_LABELS.get(code, {}).get(lang, code)


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def visits(reported_at: datetime, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stage visits from the report and the recorded moves: stage, entered_at, left_at."""
    result: list[dict[str, Any]] = [
        {"stage": Stage.reported.value, "entered_at": reported_at.isoformat(), "left_at": None}
    ]
    for move in moves:
        if move["to_stage"] == result[-1]["stage"]:
            continue  # a documents update within review is not a new visit
        result[-1]["left_at"] = move["occurred_at"]
        result.append(
            {"stage": move["to_stage"], "entered_at": move["occurred_at"], "left_at": None}
        )
    return result


def render_deadlines(
    deadlines: list[dict[str, Any]], lang: Lang, now: datetime
) -> list[dict[str, Any]]:
    """Stored deadlines with labels and the `overdue` flag as of `now`."""
    now_ts = now.timestamp()
    out = []
    for d in deadlines:
        row = dict(d)
        due_ts = row.pop("due_ts")
        row["label"] = deadline_label(row["code"], lang)
        row["overdue"] = row["state"] == "running" and now_ts >= due_ts
        out.append(row)
    return out


def render_progress(doc: dict[str, Any], lang: Lang, now: datetime) -> dict[str, Any]:
    """The customer's view for `lang` at `now` from a stored progress document."""
    stage = Stage(doc["stage"])
    visited: dict[str, dict[str, Any]] = {}
    now_utc = now.astimezone(UTC)
    for visit in doc["visits"]:
        entered = _ts(visit["entered_at"])
        left = _ts(visit["left_at"])
        assert entered is not None
        spent = ((left or now_utc) - entered).total_seconds()
        slot = visited.setdefault(
            visit["stage"], {"entered_at": visit["entered_at"], "left_at": None, "spent": 0.0}
        )
        slot["left_at"] = visit["left_at"]
        slot["spent"] += max(spent, 0.0)

    stages = []
    current_index = MAIN_STAGES.index(stage) if stage in MAIN_STAGES else -1
    for index, main in enumerate(MAIN_STAGES):
        slot = visited.get(main.value)
        if stage is Stage.settled:
            status = "done"
        elif stage in OUTCOMES:
            status = "done" if slot else "pending"
        elif index < current_index:
            status = "done"
        elif index == current_index:
            status = "current"
        else:
            status = "pending"
        if status == "pending":
            slot = None
        stages.append(
            {
                "stage": main.value,
                "label": STAGE_LABELS[main][lang],
                "status": status,
                "entered_at": slot["entered_at"] if slot else None,
                "left_at": slot["left_at"] if slot else None,
                "time_spent_seconds": int(slot["spent"]) if slot else None,
            }
        )
    outstanding = doc["outstanding_documents"]
    next_step = (
        MISSING_DOCUMENTS_STEP[lang]
        if outstanding and stage is Stage.document_review
        else NEXT_STEP[stage][lang]
    )
    return {
        "claim_no": doc["claim_no"],
        "stage": stage.value,
        "stage_label": STAGE_LABELS[stage][lang],
        "stages": stages,
        "next_step": next_step,
        "outstanding_documents": outstanding,
        "deadlines": render_deadlines(doc["deadlines"], lang, now),
        "insured_name": doc["insured_name"],
        "insured_phone": doc["insured_phone"],
        "plate_no": doc["plate_no"],
        "language": lang,
        "updated_at": doc["updated_at"],
    }
