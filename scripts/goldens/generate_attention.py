#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/attention.json: scaled dot-product attention outputs and
gradients of q, k, v computed by PyTorch in float64.

    python scripts/goldens/generate_attention.py      (in a venv with torch==2.13.0+cpu)

Masks follow Attend's semantics: structural masks are built explicitly (top-left causal,
bottom-right causal, FlashAttention's inclusive sliding window, key padding), boolean
nonzero = may attend, additive terms added to the scaled scores. Rows whose every key is masked
give zeros (PyTorch's SDPA gives NaN there), so the reference is written out in plain torch ops
and cross-checked against F.scaled_dot_product_attention wherever no row is fully masked.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(1)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/attention.json"


def compact(values):
    """9 significant digits: exact for float32 inputs, ~1e-9 relative for float64 results.
    Non-finite values are written as the strings "inf", "-inf" and "nan" (JSON has no literal for them)."""
    return [str(v) if math.isinf(v) or math.isnan(v) else float(f"{v:.9g}") for v in values]


def spec(t):
    return {"shape": list(t.shape), "data": compact(t.detach().double().flatten().tolist())}


def rand(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float64) * scale).float().double()


def structural(mask, B, Lq, Lk):
    """[B, 1, Lq, Lk] boolean allowance of a structural mask description."""
    i = torch.arange(Lq).view(Lq, 1)
    j = torch.arange(Lk).view(1, Lk)
    kind = mask["kind"]
    if kind == "causal":
        allowed = j <= i
    elif kind == "causalLowerRight":
        allowed = j <= i + Lk - Lq
    elif kind == "slidingWindow":
        allowed = torch.ones(Lq, Lk, dtype=torch.bool)
        if mask["left"] >= 0:
            allowed &= j >= i + Lk - Lq - mask["left"]
        if mask["right"] >= 0:
            allowed &= j <= i + Lk - Lq + mask["right"]
    elif kind == "keyPadding":
        lengths = torch.tensor(mask["validLengths"]).view(B, 1, 1, 1)
        return (j.view(1, 1, 1, Lk) < lengths).expand(B, 1, Lq, Lk)
    else:
        raise ValueError(kind)
    return allowed.view(1, 1, Lq, Lk).expand(B, 1, Lq, Lk)


def reference(q, k, v, allowed, additive, scale):
    H, Hkv = q.shape[1], k.shape[1]
    k = k.repeat_interleave(H // Hkv, dim=1)
    v = v.repeat_interleave(H // Hkv, dim=1)
    scores = q @ k.transpose(-1, -2) * scale
    if additive is not None:
        scores = scores + additive
    scores = scores.masked_fill(~allowed, float("-inf"))
    live = torch.isfinite(scores).any(-1, keepdim=True) | (scores == float("inf")).any(-1, keepdim=True)
    weights = torch.softmax(torch.where(live, scores, torch.zeros_like(scores)), dim=-1) * live
    return weights @ v


cases = []


def add(name, B, H, Hkv, Lq, Lk, D, Dv, masks=(), scale=None, logit_scale=1.0):
    q, k, v = rand(B, H, Lq, D, scale=logit_scale), rand(B, Hkv, Lk, D), rand(B, Hkv, Lk, Dv)
    allowed = torch.ones(B, H, Lq, Lk, dtype=torch.bool)
    additive = None
    mask_specs = []
    for m in masks:
        m = dict(m)
        if m["kind"] == "boolean":
            t = torch.rand(*m["shape"]) > m.get("drop", 0.3)
            allowed = allowed & t
            m["tensor"] = spec(t.double())
        elif m["kind"] == "additive":
            t = rand(*m["shape"])
            if m.get("with_neg_inf"):
                t = t.masked_fill(torch.rand(*m["shape"]) < 0.2, float("-inf"))
            additive = t if additive is None else additive + t
            m["tensor"] = spec(t)
        else:
            allowed = allowed & structural(m, B, Lq, Lk)
        m.pop("shape", None); m.pop("drop", None); m.pop("with_neg_inf", None)
        mask_specs.append(m)
    s = scale if scale is not None else 1 / math.sqrt(D)
    qs, ks, vs = (x.clone().requires_grad_(True) for x in (q, k, v))
    out = reference(qs, ks, vs, allowed, additive, s)
    if not (~allowed).all(-1).any() and (additive is None or torch.isfinite(additive).all()):
        bias = torch.zeros(B, H, Lq, Lk, dtype=torch.float64).masked_fill(~allowed, float("-inf"))
        if additive is not None:
            bias = bias + additive
        sdpa = F.scaled_dot_product_attention(q, k.repeat_interleave(H // Hkv, 1), v.repeat_interleave(H // Hkv, 1),
                                              attn_mask=bias, scale=s)
        assert torch.allclose(sdpa, out, atol=1e-10), name
    c = rand(*out.shape)
    grads = torch.autograd.grad((out * c).sum(), (qs, ks, vs))
    assert all(torch.isfinite(g).all() for g in grads), name
    cases.append({"name": name, "scale": scale, "masks": mask_specs,
                  "query": spec(q), "key": spec(k), "value": spec(v), "output": spec(out),
                  "cotangent": spec(c), "gradients": [spec(g) for g in grads]})


causal = {"kind": "causal"}
lower_right = {"kind": "causalLowerRight"}
add("no mask", 2, 2, 2, 5, 7, 8, 8)
add("causal square", 1, 2, 2, 9, 9, 8, 6, [causal])
add("causal Lq < Lk", 1, 2, 2, 4, 9, 8, 8, [causal])
add("causal Lq > Lk (rows past Lk)", 1, 2, 2, 9, 4, 8, 8, [causal])
add("lower-right causal Lq < Lk", 1, 2, 2, 4, 9, 8, 8, [lower_right])
add("lower-right causal Lq > Lk (leading rows fully masked)", 1, 2, 2, 7, 4, 8, 8, [lower_right])
add("decoding step Lq = 1", 2, 2, 2, 1, 13, 16, 16, [lower_right])
add("sliding window left 2", 1, 2, 2, 10, 10, 8, 8, [{"kind": "slidingWindow", "left": 2, "right": 0}])
add("sliding window both sides, Lq != Lk", 1, 1, 1, 6, 11, 8, 8, [{"kind": "slidingWindow", "left": 1, "right": 2}])
add("sliding window unbounded left", 1, 1, 1, 8, 8, 8, 8, [{"kind": "slidingWindow", "left": -1, "right": 1}])
add("key padding", 3, 2, 2, 6, 8, 8, 8, [{"kind": "keyPadding", "validLengths": [8, 3, 0]}])
add("boolean full shape", 2, 2, 2, 5, 6, 8, 8, [{"kind": "boolean", "shape": [2, 2, 5, 6]}])
add("boolean broadcast over heads", 2, 3, 3, 5, 6, 8, 8, [{"kind": "boolean", "shape": [2, 1, 5, 6], "drop": 0.5}])
add("additive bias", 1, 2, 2, 5, 6, 8, 8, [{"kind": "additive", "shape": [1, 2, 5, 6]}])
add("additive with -inf", 1, 2, 2, 5, 6, 8, 8, [{"kind": "additive", "shape": [5, 6], "with_neg_inf": True}])
add("all: causal + padding + boolean + additive", 2, 2, 2, 7, 7, 8, 8,
    [causal, {"kind": "keyPadding", "validLengths": [5, 7]}, {"kind": "boolean", "shape": [7, 7], "drop": 0.2},
     {"kind": "additive", "shape": [2, 1, 1, 7]}])
add("all: window + lower-right", 1, 2, 2, 5, 9, 8, 8, [lower_right, {"kind": "slidingWindow", "left": 3, "right": 1}])
for D in [8, 32, 64, 80, 128]:
    add(f"head dim {D}", 1, 1, 1, 11, 13, D, D, [causal])
add("value dim differs", 1, 2, 2, 6, 9, 16, 24, [causal])
add("grouped-query heads", 2, 4, 2, 5, 7, 8, 8, [causal])
add("multi-query head", 1, 4, 1, 6, 6, 8, 12, [{"kind": "keyPadding", "validLengths": [4]}])
add("explicit scale", 1, 2, 2, 5, 5, 8, 8, scale=0.7)
add("logits near 1e4", 1, 2, 2, 5, 6, 8, 8, [causal], scale=1.0, logit_scale=3e3)
add("fully masked rows from boolean", 1, 2, 2, 4, 5, 8, 8, [{"kind": "boolean", "shape": [1, 1, 4, 5], "drop": 0.75}])

OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_attention.py", "torch": torch.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KiB)")
