"""The built-in training data: texts written for this project, never the evaluation set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Example:
    """One labelled complaint text."""

    id: str
    text: str
    lang: str
    subcause: str


def load_jsonl(path: Path) -> list[Example]:
    """Read labelled examples from a JSON Lines file (the dev-set format)."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(Example(row["id"], row["text"], row["lang"], row["subcause"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a labelled example ({exc})") from None
    return examples


def builtin_examples() -> list[Example]:
    """Every example shipped in app/classification/data."""
    return [e for path in sorted(DATA_DIR.glob("train_*.jsonl")) for e in load_jsonl(path)]
