"""Writes the reference data of the timm parity test.

For each architecture: a timm model with random weights (seeded, nothing is
downloaded), its state dict as OUT/<arch>/model.safetensors, a model.json
that transaxx reads, and fixed inputs with timm's logits in
OUT/<arch>/reference.safetensors (tensors "inputs" and "logits").
"""
import argparse
import json
import pathlib

import timm
import torch
from safetensors.torch import save_file

ARCHITECTURES = ["vit_tiny_patch16_224", "deit_tiny_distilled_patch16_224"]


def architecture_json(name, model):
    return {
        "name": name,
        "img_size": 224,
        "patch_size": 16,
        "in_chans": 3,
        "num_classes": model.num_classes,
        "embed_dim": model.embed_dim,
        "depth": len(model.blocks),
        "num_heads": model.blocks[0].attn.num_heads,
        "mlp_ratio": model.blocks[0].mlp.fc1.out_features / model.embed_dim,
        "qkv_bias": model.blocks[0].attn.qkv.bias is not None,
        "distilled": "distilled" in name,
        "norm_eps": model.norm.eps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, type=pathlib.Path)
    args = parser.parse_args()
    torch.manual_seed(0)
    for name in ARCHITECTURES:
        model = timm.create_model(name, pretrained=False).eval()
        # timm's initialization leaves biases and LayerNorms at 0 and 1;
        # random values exercise every parameter.
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        folder = args.out / name
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in model.state_dict().items()},
                  str(folder / "model.safetensors"))
        cfg = model.pretrained_cfg
        (folder / "model.json").write_text(json.dumps({
            "format": "transaxx-model-v1",
            "architecture": architecture_json(name, model),
            "input": {"mean": list(cfg["mean"]), "std": list(cfg["std"])},
            "classes": [],
            "provenance": {"source": "timm " + timm.__version__ + ", random weights"},
        }, indent=2))
        inputs = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            logits = model(inputs)
        save_file({"inputs": inputs, "logits": logits}, str(folder / "reference.safetensors"))


if __name__ == "__main__":
    main()
