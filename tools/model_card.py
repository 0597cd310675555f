#!/usr/bin/env python3
"""Writes the model card (README.md) of a model directory.

Evaluates the model with the transaxx CLI on a test split: float32, int8
with the exact multiplier, and int8 with every multiplier of an
EvoApproxLib-style folder applied to all layers (the classifier head stays
exact), and writes the figures with the model's architecture and the
command that trained it.

Usage: model_card.py --cli build/bin/transaxx --model DIR --dataset NAME:SPLIT
                     --multipliers_dir DIR [--threads N] [--train_seconds S]
"""
import argparse
import json
import pathlib
import subprocess
import sys
import time


def evaluate(args, extra):
    command = [args.cli, "eval", "--model", str(args.model), "--dataset", args.dataset,
               "--threads", str(args.threads), "--output", "json"] + extra
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"model_card: {' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def percent(x):
    return f"{100 * x:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", required=True)
    parser.add_argument("--model", required=True, type=pathlib.Path)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--multipliers_dir", required=True, type=pathlib.Path)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train_seconds", type=float)
    args = parser.parse_args()

    description = json.loads((args.model / "model.json").read_text())
    published = json.loads((args.multipliers_dir / "multipliers.json").read_text())
    power = {f"evo:{r['name']}": r.get("power_mw") for r in published}
    names = sorted(r["name"] for r in published)

    started = time.time()
    fp32 = evaluate(args, [])
    print(f"fp32 {percent(fp32['top1'])}%", file=sys.stderr)
    rows = []
    for multiplier in ["exact"] + [f"evo:{name}" for name in names]:
        result = evaluate(args, ["--multiplier", multiplier,
                                 "--multipliers_dir", str(args.multipliers_dir)])
        rows.append((multiplier, result))
        print(f"{multiplier} {percent(result['top1'])}%", file=sys.stderr)
    exact = rows[0][1]

    arch = description["architecture"]
    provenance = description.get("provenance", {})
    lines = [
        f"# {args.model.name}: {arch['name']} on {provenance.get('dataset', '?')}",
        "",
        "The demo model of transaxx: a small Vision Transformer trained from scratch",
        "on the CPU. Regenerate it (weights, model.json and this card) with",
        "`./run demo-model`.",
        "",
        "## Architecture",
        "",
        f"{arch['img_size']}x{arch['img_size']}x{arch['in_chans']} images, "
        f"{arch['patch_size']}x{arch['patch_size']} patches, embedding {arch['embed_dim']}, "
        f"{arch['depth']} blocks of {arch['num_heads']} heads, MLP ratio {arch['mlp_ratio']}, "
        f"{arch['num_classes']} classes.",
        "",
        "## Training",
        "",
        "```",
        provenance.get("trained_by", "?"),
        "```",
        "",
        f"{provenance.get('images', '?')} images, {provenance.get('epochs', '?')} epochs, "
        f"{provenance.get('threads', '?')} threads"
        + (f", {args.train_seconds / 60:.1f} minutes wall time" if args.train_seconds else "")
        + ".",
        "",
        f"## Accuracy on {args.dataset} ({fp32['n']} images)",
        "",
        "Int8 rows: symmetric int8 (activations per tensor, calibrated by the 99.99th",
        "percentile on 1024 training images; weights per output channel), every",
        "Linear/Conv2d layer on the multiplier, the classifier head exact. Unsigned",
        "(mul8u) circuits serve signed data through sign-magnitude.",
        "",
        "| arithmetic | top-1 % | 95% interval | top-5 % | drop vs int8 exact (points) "
        "| multiplier power (mW, PDK45) |",
        "|---|---|---|---|---|---|",
        f"| float32 | {percent(fp32['top1'])} | {percent(fp32['ci95'][0])}-{percent(fp32['ci95'][1])}"
        f" | {percent(fp32['top5'])} | | |",
    ]
    for multiplier, r in rows:
        drop = "" if multiplier == "exact" else f"{100 * (exact['top1'] - r['top1']):.2f}"
        mw = power.get(multiplier)
        lines.append(f"| int8 {multiplier} | {percent(r['top1'])} | "
                     f"{percent(r['ci95'][0])}-{percent(r['ci95'][1])} | {percent(r['top5'])} | {drop} "
                     f"| {mw if mw is not None else ''} |")
    lines += [
        "",
        f"Int8 exact is {100 * (fp32['top1'] - exact['top1']):+.2f} points from float32 "
        "(positive: int8 is lower).",
        "",
        f"Card written by `tools/model_card.py` in {(time.time() - started) / 60:.1f} minutes.",
        "",
    ]
    (args.model / "README.md").write_text("\n".join(lines))
    print(f"wrote {args.model / 'README.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
