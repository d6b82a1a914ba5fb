"""Load benchmark of complaint intake against a bare endpoint, measured in the same run.

Every intake carries its own Idempotency-Key, as the call centre's retries would: validation,
idempotency claim, classification, priority, deadlines, the complaint, its timeline, the audit
record and the stored response, in one transaction.

    .venv/bin/python bench/complaints_load.py --db sqlite --seconds 10
    .venv/bin/python bench/complaints_load.py --db postgresql --seconds 10
"""

from __future__ import annotations

import argparse

from harness import report, served, wrk

LUA_INTAKE = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tag", tostring(threads) .. "-" .. tostring(os.time()))
end
local counter = 0
local texts = {{
  "定损拖了两个月还没结果，一直没定损，等了很久也没人通知我进度",
  "理赔员态度很差，电话里不耐烦，直接挂电话",
  "你們按二手件的價格給我算的保險槓，這個錢我不認",
  "The deductible was never explained and now 20% was deducted from my payout.",
}}
request = function()
  counter = counter + 1
  local text = texts[(counter % #texts) + 1]
  local body = '{{"channel":"phone","text":"' .. text .. '",' ..
    '"complainant":{{"name":"張三明","phone":"13812345678"}},"disputed_amount":"3800.00"}}'
  return wrk.format("POST", "/v1/complaints", {{
    ["Authorization"] = "Bearer {key}", ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "bench-" .. tag .. "-" .. counter}}, body)
end
"""


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with served(args.db) as srv:
        results = {
            "GET /healthz (bare)": wrk("/healthz", args.seconds),
            "POST /v1/complaints": wrk("/", args.seconds, LUA_INTAKE.format(key=srv.key)),
        }
    report("claimdesk intake benchmark", args.db, args.seconds, results)


if __name__ == "__main__":
    main()
