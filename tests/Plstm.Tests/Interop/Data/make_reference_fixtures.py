"""Writes the PyTorch-side fixtures of the interop tests (run with any PyTorch >= 1.13; Debian: python3-torch).

    python3 make_reference_fixtures.py        # writes next to this file

Outputs:
  vit_small_reference.pth      state_dict of a small reference ViT   (D 16, H 2, 1 block, patch 4, 8 px, 3 classes)
  plstm_small_reference.pth    state_dict of a small reference pLSTM-ViT (D 16, H 2, 1 P/D pair, same sizes)
  vit_small_reference.json     input images [2, 8, 8, 3] and the float64 logits of the ViT computed here

Keys and shapes are written out from the reference modules (ml-jku/plstm: pLSTMVisionModel, VitPatchEmbed,
VitPosEmbed2d, BlockStack, pLSTMVisionBlock1, PostUpProjectionBlock, pLSTM2DLayerFused, TransformerBlock), not taken
from Plstm, so the C# strict loader checks that both agree. Every tensor gets deterministic values (see `values`).
The ViT forward below follows the reference TransformerBlock / pLSTMVisionModel computation with pooling "cls".
"""
import json
import math
import os
from collections import OrderedDict

import torch
import torch.nn.functional as F

D, H, P, IMG, C = 16, 2, 4, 8, 3
GRID = IMG // P
INNER = ((4 * D - 1) // 64 + 1) * 64   # 64
N, G, DK = 4 * H, D // (4 * H), D // H  # gates, channels per gate, head size


def common(head_in):
    return [
        ("patch_embed.proj.weight", [D, 3, P, P]),
        ("patch_embed.proj.bias", [D]),
        ("pos_embed.embed", [1, GRID, GRID, D]),
        ("norm.scale", [D]),
        ("head.weight", [C, head_in]),
        ("head.bias", [C]),
    ]


def vit_keys():
    b = "block_stack.blocks.0."
    return [("cls_token", [D, 1])] + common(D) + [
        (b + "norm.scale", [D]), (b + "norm2.scale", [D]),
        (b + "scale.scale", [D]), (b + "scale2.scale", [D]),
        (b + "qkv.weight", [3 * D, D]), (b + "qkv.bias", [3 * D]),
        (b + "outproj.weight", [D, D]), (b + "outproj.bias", [D]),
        (b + "upproj.weight", [INNER, D]), (b + "upproj.bias", [INNER]),
        (b + "downproj.weight", [D, INNER]), (b + "downproj.bias", [D]),
    ]


def plstm_layer_keys(prefix, mode):
    gate = lambda name: [(f"{prefix}{name}.bias", [N, 1, 1, 1]), (f"{prefix}{name}.weight", [1, N, 1, 1, 1, G])]
    trans = lambda name: [(f"{prefix}{name}.eigenvalues_bias", [N, 1]),
                          (f"{prefix}{name}.eigenvalues_weight", [1, N, 1, G])]
    keys = []
    if mode == "P":
        keys += [(prefix + "orientation_bias", [4, H]), (prefix + "orientation_weight", [4, H, D])]
        keys += gate("source") + trans("transition") + gate("mark")
    else:
        keys += gate("source_r") + gate("source_d")
        keys += trans("transition_r") + trans("transition_d") + trans("transition_rd")
        keys += gate("mark_l") + gate("mark_u")
    keys.append((prefix + "direct.bias", [H, 1, 1, 1, 1]))
    for qkv in ("query", "key", "value_"):
        keys += [(f"{prefix}{qkv}.weight", [H, DK, 1, 1, D]), (f"{prefix}{qkv}.bias", [H, DK, 1])]
    keys += [(prefix + "mhnorm.scale", [H, DK]), (prefix + "outprojection.weight", [D, D])]
    return keys


def plstm_keys():
    keys = common(4 * D)
    for block, mode in (("block0", "P"), ("block1", "D")):
        b = f"block_stack.blocks.0.{block}."
        keys += [(b + "norm.scale", [D]), (b + "norm2.scale", [D]),
                 (b + "upproj.weight", [INNER, D]), (b + "upproj.bias", [INNER])]
        keys += plstm_layer_keys(b + "interaction_module.", mode)
        keys += [(b + "downproj.weight", [D, INNER]), (b + "downproj.bias", [D])]
    return keys


def values(keys):
    """k-th key in sorted order: base_i = sin(0.37·i + 0.5·k) over the flat index i (float64), then
    1 + 0.1·base for gains (keys ending in "scale"), 0.05·base otherwise; stored as float32."""
    order = {name: k for k, name in enumerate(sorted(name for name, _ in keys))}
    sd = OrderedDict()
    for name, shape in keys:
        i = torch.arange(math.prod(shape), dtype=torch.float64)
        base = torch.sin(0.37 * i + 0.5 * order[name])
        v = 1.0 + 0.1 * base if name.endswith("scale") else 0.05 * base
        sd[name] = v.reshape(shape).to(torch.float32)
    return sd


def rms(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def vit_forward(sd, images):
    p = {k: v.double() for k, v in sd.items()}
    b = "block_stack.blocks.0."
    x = F.conv2d(images.permute(0, 3, 1, 2), p["patch_embed.proj.weight"], p["patch_embed.proj.bias"], stride=P)
    x = x.permute(0, 2, 3, 1) + p["pos_embed.embed"]                                 # [B, X, Y, D]
    batch = x.shape[0]
    x = x.reshape(batch, -1, D)
    x = torch.cat([p["cls_token"].reshape(1, 1, D).repeat(batch, 1, 1), x], dim=1)  # [B, 1 + XY, D]
    qkv = F.linear(rms(x, p[b + "norm.scale"]), p[b + "qkv.weight"], p[b + "qkv.bias"])
    q, k, v = (t.reshape(batch, -1, H, DK).transpose(1, 2) for t in torch.split(qkv, D, dim=-1))
    att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(DK), dim=-1) @ v
    y = F.linear(att.transpose(1, 2).reshape(batch, -1, D), p[b + "outproj.weight"], p[b + "outproj.bias"])
    x2 = p[b + "scale.scale"] * y + x
    h = F.gelu(F.linear(rms(x2, p[b + "norm2.scale"]), p[b + "upproj.weight"], p[b + "upproj.bias"]))
    x = p[b + "scale2.scale"] * F.linear(h, p[b + "downproj.weight"], p[b + "downproj.bias"]) + x2
    x = rms(x, p["norm.scale"])
    return F.linear(x[:, 0], p["head.weight"], p["head.bias"])


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    vit = values(vit_keys())
    torch.save(vit, os.path.join(here, "vit_small_reference.pth"))
    torch.save(values(plstm_keys()), os.path.join(here, "plstm_small_reference.pth"))
    i = torch.arange(2 * IMG * IMG * 3, dtype=torch.float64)
    images = (0.8 * torch.sin(0.13 * i) + 0.1 * torch.cos(0.7 * i)).reshape(2, IMG, IMG, 3)
    logits = vit_forward(vit, images)
    with open(os.path.join(here, "vit_small_reference.json"), "w") as f:
        json.dump({"images_shape": list(images.shape), "images": images.flatten().tolist(),
                   "logits_shape": list(logits.shape), "logits": logits.flatten().tolist()}, f)
    print("logits", logits)


if __name__ == "__main__":
    main()
