#!/usr/bin/env bash
# The transaxx demo: starts a local cluster — transaxx-power-model, two
# transaxx-evaluator processes and transaxx-coordinator on free loopback ports
# — runs one MCTS search of the demo model on Fashion-MNIST over every
# approximable layer (the head stays exact) with the signed EvoApprox
# multipliers and the built-in families, shows its progress, prints the
# Pareto front and the best configuration within a 1-point accuracy drop
# (re-evaluated on the validation images), writes pareto.json, pareto.csv and
# pareto.svg, and stops every process it started, also on Ctrl-C.
#
# ./run demo calls it after building; tests call it with a tiny budget.
#
# Usage: tools/demo.sh --bin DIR --multipliers_dir DIR --model_dir DIR --state DIR
#          [--out DIR] [--budget N] [--sensitivity N] [--subset N]
#          [--validation_subset N] [--max_drop PP]
#   --bin DIR              the transaxx binaries
#   --multipliers_dir DIR  EvoApproxLib tables (multipliers.json + NAME.lut)
#   --model_dir DIR        the model to search (served as fashion-vit)
#   --state DIR            what a second run reuses: synthesis estimates,
#                          calibrations, the evaluation cache
#   --out DIR              results and logs (default demo-output)
#   --budget N             evaluations of the search (default 240)
#   --sensitivity N        of those, the sensitivity analysis (default 60)
#   --subset N             stratified test images per evaluation (default 400)
#   --validation_subset N  test images of the final re-evaluation (default:
#                          the whole split)
#   --max_drop PP          accuracy threshold (default 1.0)
set -euo pipefail

say() { printf '\033[1m[demo]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[demo] error:\033[0m %s\n' "$*" >&2; exit 1; }

bin="" evo="" model="" state="" out="demo-output"
budget=240 sensitivity=60 subset=400 validation=0 max_drop=1.0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="${2:?}"; shift 2 ;;
    --multipliers_dir) evo="${2:?}"; shift 2 ;;
    --model_dir) model="${2:?}"; shift 2 ;;
    --state) state="${2:?}"; shift 2 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --budget) budget="${2:?--budget needs a number}"; shift 2 ;;
    --sensitivity) sensitivity="${2:?--sensitivity needs a number}"; shift 2 ;;
    --subset) subset="${2:?--subset needs a number}"; shift 2 ;;
    --validation_subset) validation="${2:?--validation_subset needs a number}"; shift 2 ;;
    --max_drop) max_drop="${2:?--max_drop needs a number}"; shift 2 ;;
    *) die "unknown option '$1' (see the header of tools/demo.sh or ./run help)" ;;
  esac
done
[[ -n "$bin" && -n "$evo" && -n "$model" && -n "$state" ]] ||
  die "--bin, --multipliers_dir, --model_dir and --state are required"
PYTHON="${PYTHON:-python3}"
cli="$bin/transaxx"

# shellcheck source=tools/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"

mkdir -p "$out" "$state"
out="$(cd "$out" && pwd)"
logs="$out/logs"
rm -rf "$logs" "$out/models"
mkdir -p "$logs" "$out/models"
ln -s "$(cd "$model" && pwd)" "$out/models/fashion-vit"
job=""
coordinator=""
# An interrupted search is cancelled, so the next run does not resume it.
on_interrupt() {
  say "interrupted; stopping the cluster"
  if [[ -n "$job" ]]; then
    "$cli" search cancel "$job" --server "$coordinator" >/dev/null 2>&1 || true
  fi
  exit 130
}
trap stop_cluster EXIT
trap on_interrupt INT TERM

say "starting the cluster (logs in $logs)"
start power-model "$bin/transaxx-power-model" --multipliers_dir="$evo" \
  --state_dir="$state/power-model"
power="127.0.0.1:$PORT"
evaluators=""
for i in 0 1; do
  start "evaluator-$i" "$bin/transaxx-evaluator" --models_dir="$out/models" \
    --multipliers_dir="$evo" --state_dir="$state/evaluator-$i" --threads=1 --max_concurrent=1
  evaluators="${evaluators:+$evaluators,}127.0.0.1:$PORT"
done
start coordinator "$bin/transaxx-coordinator" --state_dir="$state/coordinator" \
  --evaluators="$evaluators" --power_model="$power"
coordinator="127.0.0.1:$PORT"
say "power model $power, evaluators $evaluators, coordinator $coordinator"

# The built-in families' power comes from Yosys synthesis (about a minute
# the first time, then kept in --state): wait until every multiplier has a figure.
say "waiting for the power model's synthesis estimates of the built-in multipliers"
for _ in $(seq 1 600); do
  pending="$("$cli" multipliers list --server "$power" --output json |
    "$PYTHON" -c 'import json,sys; print(sum("power_mw" not in m for m in json.load(sys.stdin)))')"
  [[ "$pending" == 0 ]] && break
  sleep 1
done

candidates="evo:mul8s_*,mask:*,bam:*,perf:*,drum:*,mitchell,roba,kulkarni"
validation_flags=(--validation_split test)
[[ "$validation" -gt 0 ]] && validation_flags+=(--validation_subset "$validation")
say "searching: MCTS over every approximable layer (head exact) with $candidates"
job="$("$cli" search submit --server "$coordinator" --name demo --model fashion-vit \
  --dataset fashion-mnist --split test --stratified "$subset" --subset_seed 0 \
  "${validation_flags[@]}" --calibration_split train --calibration_subset 1024 \
  --multipliers "$candidates" --max_drop "$max_drop" --max_evaluations "$budget" \
  --sensitivity_evaluations "$sensitivity" --seed 0)"
say "job $job: watching (Ctrl-C stops the demo and its cluster)"
"$cli" search watch "$job" --server "$coordinator" || true
# Ctrl-C ends the watch (which leaves jobs alone) cleanly, so look at the job.
state="$("$cli" search get "$job" --server "$coordinator" --output json |
  "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin).get("state", ""))')"
case "$state" in
  *RUNNING* | *QUEUED*) on_interrupt ;;
  *SUCCEEDED*) ;;
  *) die "job $job ended $state; see $logs/coordinator.log" ;;
esac
"$cli" search results "$job" --server "$coordinator" | tee "$out/results.txt"
"$cli" search results "$job" --server "$coordinator" --output json >"$out/pareto.json"
"$cli" search results "$job" --server "$coordinator" --output csv >"$out/pareto.csv"
"$cli" search results "$job" --server "$coordinator" --all --plot "$out/pareto.svg" >/dev/null
say "wrote $out/pareto.json, pareto.csv and pareto.svg"
