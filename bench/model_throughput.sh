#!/usr/bin/env bash
# Whole-model inference throughput (./run bench model): images per second
# of the demo ViT on Fashion-MNIST in float32, in int8 with the exact
# multiplier, and with every shared EvoApprox multiplier on every layer
# (the classifier head int8 exact), through `transaxx eval`, which times
# the evaluation after calibration. Each configuration runs --runs times
# and the median throughput is reported, with the fast GEMM path the
# multiplier takes and the ratio to float32 (goal: approximate inference at
# least 40% of float32). With an even --runs the lower middle run counts;
# a failed evaluation stops the benchmark with its error.
# Writes a Markdown report to stdout.
#
# Usage: bench/model_throughput.sh --bin DIR --multipliers_dir DIR --model_dir DIR
#          [--images N] [--runs N] [--threads N] [--batch_size N] [--match GLOB]
set -euo pipefail
export LC_ALL=C  # decimal points in printf and sort

say() { printf '\033[1m[bench]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[bench] error:\033[0m %s\n' "$*" >&2; exit 1; }

bin="" evo="" model="" images=2000 runs=3 threads="$(nproc)" batch_size=256 match='evo:*'
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin) bin="${2:?}"; shift 2 ;;
    --multipliers_dir) evo="${2:?}"; shift 2 ;;
    --model_dir) model="${2:?}"; shift 2 ;;
    --images) images="${2:?}"; shift 2 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    --batch_size) batch_size="${2:?}"; shift 2 ;;
    --match) match="${2:?}"; shift 2 ;;
    *) die "unknown option '$1' (see the header of bench/model_throughput.sh)" ;;
  esac
done
[[ -n "$bin" && -n "$evo" && -n "$model" ]] ||
  die "--bin, --multipliers_dir and --model_dir are required"
cli="$bin/transaxx"

# "top1 images_per_second" of one evaluation; $@ selects the arithmetic.
evaluate() {
  "$cli" eval --model "$model" --dataset fashion-mnist:test --limit "$images" \
    --threads "$threads" --batch_size "$batch_size" --multipliers_dir "$evo" \
    --output json "$@" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["top1"], d["images_per_second"])'
}

# "top1 median_images_per_second" over the runs; fails if any run does.
median_of_runs() {
  local i results=""
  for ((i = 0; i < runs; i++)); do
    results+="$(evaluate "$@")"$'\n' || die "transaxx eval $* failed"
  done
  sort -k2 -g <<<"${results%$'\n'}" | awk -v n="$runs" 'NR == int((n + 1) / 2) { print $1, $2 }'
}

# Ratio and verdict against float32 for images/s $1.
versus_float() {
  awk -v ips="$1" -v base="$fp32_ips" \
    'BEGIN { r = ips / base; printf "%.2f%s", r, (r >= 0.4 ? " (met)" : " (not met)") }'
}

say "float32"
fp32=$(median_of_runs)
read -r fp32_top1 fp32_ips <<<"$fp32"
awk -v v="$fp32_ips" 'BEGIN { exit !(v > 0) }' || die "float32 gave no throughput"
ids=$("$cli" multipliers list --multipliers_dir "$evo" --match "$match" --output json |
  python3 -c 'import json, sys; print("\n".join(m["id"] for m in json.load(sys.stdin)))')
[[ -n "$ids" ]] || die "no multiplier matches --match '$match'"

cat <<EOF
# Whole-model inference throughput

Command: \`./run bench model\` (bench/model_throughput.sh --images $images --runs $runs --threads $threads --batch_size $batch_size).
Model: $(basename "$model") (the demo ViT), the first $images images of fashion-mnist:test; CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $threads threads.
Images per second as \`transaxx eval\` reports them (the evaluation after calibration), median of $runs runs.
Every approximate configuration puts the multiplier on every Linear layer, the classifier head int8 exact.

| arithmetic | GEMM path | top-1 | images/s | vs float32 (goal ≥ 0.40) |
|---|---|---:|---:|---:|
EOF
printf '| float32 | torch::linear | %.4f | %.0f | 1.00 |\n' "$fp32_top1" "$fp32_ips"
for id in exact $ids; do
  say "$id"
  result=$(median_of_runs --multiplier "$id")
  read -r top1 ips <<<"$result"
  path=$("$cli" multipliers show "$id" --multipliers_dir "$evo" --output json |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["structure"])')
  printf '| %s | %s | %.4f | %.0f | %s |\n' "$id" "$path" "$top1" "$ips" "$(versus_float "$ips")"
done
