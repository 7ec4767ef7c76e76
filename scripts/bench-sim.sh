#!/usr/bin/env bash
# Times one simulator run of a scenario (every policy, as `tidepool-sim run` does) and prints one
# JSON object: scenario, days (empty: the scenario's own), jobs arrived, wall and CPU seconds.
# Usage: scripts/bench-sim.sh SCENARIO [DAYS]. Expects target/release/tidepool-sim to be built.
set -euo pipefail
scenario=$1
days=${2:-}
bin=${TIDEPOOL_SIM:-target/release/tidepool-sim}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
args=(run --scenario "$scenario" --json "$out/run.json")
[[ -n $days ]] && args+=(--days "$days")
TIMEFORMAT='%R %U %S'
{ time "$bin" "${args[@]}" >/dev/null 2>"$out/stderr"; } 2>"$out/time" || { cat "$out/stderr" >&2; exit 1; }
read -r wall user sys <"$out/time"
python3 - "$scenario" "$days" "$wall" "$user" "$sys" "$out/run.json" <<'PY'
import json, sys
scenario, days, wall, user, sys_s, path = sys.argv[1:]
runs = json.load(open(path))
jobs = next(v["jobs"]["arrived"] for k, v in runs.items() if isinstance(v, dict) and "jobs" in v)
print(json.dumps({"scenario": scenario, "days": int(days) if days else None, "jobs": jobs,
                  "wall_seconds": float(wall), "cpu_seconds": round(float(user) + float(sys_s), 2)}))
PY
