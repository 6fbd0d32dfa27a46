#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/scores.json: cosine, additive (Bahdanau), general (Luong)
and hard (top-k, argmax) attention, outputs and gradients, by PyTorch in float64.

    python scripts/goldens/generate_scores.py      (in a venv with torch==2.13.0+cpu)
"""
import json
import math
import pathlib

import torch

torch.manual_seed(2)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/scores.json"


def compact(values):
    return [str(v) if math.isinf(v) or math.isnan(v) else float(f"{v:.9g}") for v in values]


def spec(t):
    return {"shape": list(t.shape), "data": compact(t.detach().double().flatten().tolist())}


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64).float().double()


def masked_softmax(scores, allowed):
    scores = scores.masked_fill(~allowed, float("-inf"))
    live = allowed.any(-1, keepdim=True)
    return torch.softmax(torch.where(live, scores, torch.zeros_like(scores)), -1) * live


cases = []


def add(name, inputs, fn):
    xs = [x.clone().requires_grad_(True) for x in inputs]
    out = fn(*xs)
    c = rand(*out.shape)
    grads = torch.autograd.grad((out * c).sum(), xs, allow_unused=True)
    cases.append({"name": name, "inputs": [spec(x) for x in inputs], "output": spec(out), "cotangent": spec(c),
                  "gradients": [spec(torch.zeros_like(x) if g is None else g) for x, g in zip(inputs, grads)]})


B, H, Lq, Lk, D = 2, 2, 5, 6, 8
causal = torch.ones(Lq, Lk, dtype=torch.bool).tril()
padding = torch.arange(Lk).view(1, 1, Lk) < torch.tensor([6, 3]).view(2, 1, 1)      # [B, 1, Lk]


def cosine(q, k, v, s):
    qn = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    kn = k / k.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return masked_softmax(qn @ kn.transpose(-1, -2) * s, causal) @ v


add("cosine attention, per-head learnable scale, causal", [rand(B, H, Lq, D), rand(B, H, Lk, D), rand(B, H, Lk, D),
                                                           torch.tensor([[[4.0]], [[9.0]]], dtype=torch.float64)], cosine)


def additive(q, k, v, wq, wk, w, b):
    e = torch.tanh((q @ wq.T + b).unsqueeze(2) + (k @ wk.T).unsqueeze(1)) @ w
    return masked_softmax(e, padding) @ v


add("additive (Bahdanau) attention, key padding", [rand(B, Lq, 5), rand(B, Lk, 7), rand(B, Lk, 3), rand(4, 5),
                                                   rand(4, 7), rand(4), rand(4)], additive)


def general(q, k, v, w):
    return masked_softmax(q @ w @ k.transpose(-1, -2), torch.ones(Lq, Lk, dtype=torch.bool)) @ v


add("general (Luong) attention", [rand(B, Lq, 5), rand(B, Lk, 7), rand(B, Lk, 3), rand(5, 7)], general)


def top_k(q, k, v, kk=2):
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    scores = scores.masked_fill(~causal, float("-inf"))
    threshold = scores.detach().topk(kk, dim=-1).values[..., -1:]
    kept = (scores.detach() >= threshold) & causal
    return masked_softmax(scores, kept) @ v


add("top-2 attention, causal, kept-entry gradients", [rand(B, H, Lq, D), rand(B, H, Lk, D), rand(B, H, Lk, D)], top_k)


def argmax_st(q, k, v):
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(D)
    soft = torch.softmax(scores, -1)
    hard = torch.nn.functional.one_hot(scores.argmax(-1), Lk).double()
    return (soft + (hard - soft).detach()) @ v


add("argmax attention, straight-through", [rand(B, H, Lq, D), rand(B, H, Lk, D), rand(B, H, Lk, D)], argmax_st)

OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_scores.py", "torch": torch.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KiB)")
