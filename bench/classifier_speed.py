"""Speed and size of the cause classifier.

In process, pinned to one core: texts/s and p50/p99 of `classify` on 200-character texts
(built from the training texts of all three languages), and the time to load a stored model.
Served: the resident memory of a service process with the model loaded, and POST /v1/classify
under wrk against a bare endpoint in the same run.

    .venv/bin/python bench/classifier_speed.py --seconds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from harness import ROOT, report, served, wrk

from app.classification.model import HybridModel
from app.classification.service import builtin_model
from app.classification.training import builtin_examples
from app.core.config import Settings


def texts_of_length(length: int, count: int) -> list[str]:
    """`count` texts of exactly `length` characters, each made of training texts of one
    language run together (what a long phone transcript looks like)."""
    by_lang: dict[str, list[str]] = {}
    for e in builtin_examples():
        by_lang.setdefault(e.lang, []).append(e.text)
    pools = list(by_lang.values())
    out = []
    for i in range(count):
        pool = pools[i % len(pools)]
        text, j = "", i
        while len(text) < length:
            text += pool[j % len(pool)] + " "
            j += 7
        out.append(text[:length])
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def in_process(seconds: float) -> None:
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        _in_process(seconds)
    finally:
        os.sched_setaffinity(0, cpus)  # the served process and wrk get every core


def _in_process(seconds: float) -> None:
    settings = Settings(classifier_cache_dir=ROOT / "var" / "models")
    model = builtin_model(settings)  # trains and caches on the first run
    path = Path(settings.classifier_cache_dir) / f"{model.version}.npz"
    loads = []
    for _ in range(5):
        started = time.perf_counter()
        HybridModel.loads(path.read_bytes())
        loads.append(time.perf_counter() - started)
    texts = texts_of_length(200, 3000)
    for text in texts[:200]:
        model.classify(text)  # warm-up
    latencies = []
    started = time.perf_counter()
    i = 0
    while time.perf_counter() - started < seconds:
        t0 = time.perf_counter()
        model.classify(texts[i % len(texts)])
        latencies.append(time.perf_counter() - t0)
        i += 1
    elapsed = time.perf_counter() - started
    print(
        f"classifier {model.version}: {model.training_size} training texts, "
        f"{sum(len(v) for v in model.linear.vocabularies)} features, "
        f"artifact {path.stat().st_size / 1e6:.1f} MB"
    )
    print(
        f"load from bytes: median {statistics.median(loads) * 1000:.0f} ms, "
        f"max {max(loads) * 1000:.0f} ms"
    )
    print(
        f"classify, one core, 200-character texts: {len(latencies) / elapsed:.0f} texts/s, "
        f"p50 {percentile(latencies, 0.5) * 1000:.2f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.2f} ms, "
        f"max {max(latencies) * 1000:.2f} ms ({len(latencies)} calls)"
    )


LUA_CLASSIFY = """
local texts = {{{texts}}}
local counter = 0
request = function()
  counter = counter + 1
  local body = '{{"text":"' .. texts[(counter % #texts) + 1] .. '"}}'
  return wrk.format("POST", "/v1/classify", {{
    ["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json"}}, body)
end
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def http(seconds: int) -> None:
    texts = [t.replace('"', "'").replace("\\", "") for t in texts_of_length(200, 50)]
    lua_texts = ", ".join(f'"{t}"' for t in texts)
    with served("sqlite") as srv:
        print(f"service resident memory after start (model loaded): {rss_mb(srv.pid):.0f} MB")
        results = {
            "GET /healthz (bare)": wrk("/healthz", seconds),
            "POST /v1/classify": wrk(
                "/", seconds, LUA_CLASSIFY.format(texts=lua_texts, key=srv.key)
            ),
        }
        print(f"service resident memory after load: {rss_mb(srv.pid):.0f} MB")
    report("claimdesk classify benchmark (200-character texts)", "sqlite", seconds, results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    in_process(args.seconds)
    http(args.seconds)


if __name__ == "__main__":
    main()
