#!/usr/bin/env bash
# Approximation-aware fine-tuning benchmark (./run bench finetune): how much
# of the test accuracy an approximate configuration loses does one epoch of
# fine-tuning win back, with straight-through and with table-aware
# gradients?
#
# Starts one transaxx-evaluator on a loopback port serving the demo model,
# measures the int8 exact test accuracy (the reference), then for each
# configuration and gradient fine-tunes a fresh copy for --epochs epochs of
# the Fashion-MNIST training split (Evaluator.FineTune through
# `transaxx finetune`) and compares the test accuracy before and after:
#   recovered = (after - before) / (exact - before).
# Writes a Markdown report to stdout.
#
# Usage: bench/finetune.sh --bin DIR --multipliers_dir DIR --model_dir DIR
#          [--epochs X] [--lr X] [--threads N]
set -euo pipefail

say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bench] error:\033[0m %s\n' "$*" >&2; exit 1; }

bin="" evo="" model="" epochs=1 lr=1e-4 threads="$(nproc)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="${2:?}"; shift 2 ;;
    --multipliers_dir) evo="${2:?}"; shift 2 ;;
    --model_dir) model="${2:?}"; shift 2 ;;
    --epochs) epochs="${2:?}"; shift 2 ;;
    --lr) lr="${2:?}"; shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    *) die "unknown option '$1' (see the header of bench/finetune.sh)" ;;
  esac
done
[[ -n "$bin" && -n "$evo" && -n "$model" ]] ||
  die "--bin, --multipliers_dir and --model_dir are required"
cli="$bin/transaxx"

# shellcheck source=tools/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tools/cluster.sh"
work="$(mktemp -d)"
logs="$work/logs"
mkdir -p "$logs" "$work/models"
ln -s "$(cd "$model" && pwd)" "$work/models/fashion-vit"
trap 'stop_cluster; rm -rf "$work"' EXIT
start evaluator "$bin/transaxx-evaluator" --models_dir="$work/models" \
  --multipliers_dir="$evo" --state_dir="$work/state" --threads="$threads"
server="127.0.0.1:$PORT"

# The configurations: every layer on mul8s_1L2N (which costs this model
# only half a point); a Pareto point of a `./run demo` search that loses
# about 3 points (bench/configs/demo_front_3pp.json: relative power 0.617,
# validation drop 3.11 pp in that search); and an aggressive hand-made one
# (the attention output projections on mul8s_1L12, every other layer on
# mul8s_1L2N).
python3 - "$work/aggressive.json" <<'PY'
import json, sys
layers = {f"blocks.{b}.attn.proj": "evo:mul8s_1L12" for b in range(4)}
layers["head"] = "exact"
json.dump({"default": "evo:mul8s_1L2N", "layers": layers}, open(sys.argv[1], "w"))
PY
front_point="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/configs/demo_front_3pp.json"
configs=("all mul8s_1L2N|--multiplier evo:mul8s_1L2N"
         "demo search front point (relative power 0.617)|--config $front_point"
         "attn.proj mul8s_1L12, rest mul8s_1L2N|--config $work/aggressive.json")

common=(--server "$server" --multipliers_dir "$evo" --output json)
say "int8 exact test accuracy"
exact="$("$cli" eval "${common[@]}" --model fashion-vit --dataset fashion-mnist:test \
  --multiplier exact)"
echo "$exact" >"$work/exact.json"

runs=()
i=0
for entry in "${configs[@]}"; do
  name="${entry%%|*}"
  read -r -a flags <<<"${entry#*|}"
  for gradient in straight_through table_aware; do
    say "$name, $gradient: $epochs epoch(s)"
    "$cli" finetune "${common[@]}" --model fashion-vit "${flags[@]}" \
      --train fashion-mnist:train --validation fashion-mnist:test --epochs "$epochs" \
      --lr "$lr" --gradient "$gradient" --output_model "ft-$i-$gradient" \
      --progress_interval 100 >"$work/run-$i-$gradient.json"
    runs+=("$name|$gradient|$work/run-$i-$gradient.json")
  done
  i=$((i + 1))
done

python3 - "$work/exact.json" "$epochs" "$lr" "$(nproc)" "${runs[@]}" <<'PY'
import json, sys
exact = json.load(open(sys.argv[1]))["top1"]
epochs, lr, cores = sys.argv[2], sys.argv[3], sys.argv[4]
print("# Approximation-aware fine-tuning\n")
print(f"Demo model (fashion-vit), Fashion-MNIST: {epochs} epoch(s) of the 60,000 training "
      f"images, AdamW, peak learning rate {lr}, cosine schedule, batch 64; accuracy on the "
      f"10,000 test images. int8 exact test top-1: **{100 * exact:.2f}%**. "
      f"Recovered = (after - before) / (exact - before). CPU, {cores} cores.\n")
print("Reproduce: `./run bench finetune` (bench/finetune.sh).\n")
print("| configuration | gradient | top-1 before | top-1 after | lost (pp) | recovered | steps | wall time |")
print("|---|---|---|---|---|---|---|---|")
for run in sys.argv[5:]:
    name, gradient, path = run.split("|")
    r = json.load(open(path))
    before, after = r["validation_before"]["top1"], r["validation_after"]["top1"]
    lost = exact - before
    recovered = f"{100 * (after - before) / lost:.0f}%" if lost > 0 else "n/a (nothing lost)"
    print(f"| {name} | {gradient.replace('_', '-')} | {100 * before:.2f}% | {100 * after:.2f}% "
          f"| {100 * lost:.2f} | {recovered} | {r['steps']} | {r['seconds']:.0f} s |")
PY
