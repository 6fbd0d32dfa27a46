#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/layers.json: torch.nn layers (float64, eval mode) with their
state dicts under PyTorch's own key names, inputs, outputs and gradients of sum(output * c) for
the input and every parameter.

    python scripts/goldens/generate_layers.py      (in a venv with torch==2.13.0+cpu)

Masks are given in PyTorch's polarity (True = blocked / padding), as a user porting a model
would have them; the Swift tests convert them with AttentionMask.pyTorch… helpers.
"""
import json
import math
import pathlib

import torch
import torch.nn as nn

torch.manual_seed(3)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/layers.json"


def compact(values):
    return [str(v) if math.isinf(v) or math.isnan(v) else float(f"{v:.9g}") for v in values]


def spec(t):
    return {"shape": list(t.shape), "data": compact(t.detach().double().flatten().tolist())}


def rand(*shape):
    return torch.randn(*shape, dtype=torch.float64).float().double()


def round_module(m):
    """float32-representable float64 weights, so Attend (float32) starts from the same numbers."""
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(p.float().double())
    return m.double().eval()


cases = []


def add(name, module, inputs, run, masks=None, config=None):
    module = round_module(module)
    xs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out = run(module, *xs)
    c = rand(*out.shape)
    params = dict(module.named_parameters())
    wrt = [x for x in xs if x.requires_grad] + list(params.values())
    grads = torch.autograd.grad((out * c).sum(), wrt, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(wrt, grads)]
    n = sum(1 for x in xs if x.requires_grad)
    cases.append({"name": name, "config": config or {}, "masks": masks or {},
                  "state": {k: spec(v) for k, v in module.state_dict().items()},
                  "inputs": [spec(x) for x in inputs], "output": spec(out), "cotangent": spec(c),
                  "inputGradients": [spec(g) for g in grads[:n]],
                  "parameterGradients": {k: spec(g) for k, g in zip(params.keys(), grads[n:])}})


B, L, S, E, H = 2, 5, 6, 8, 2
causal = torch.triu(torch.ones(L, L, dtype=torch.bool), 1)           # True = blocked (PyTorch)
padding = torch.tensor([[False] * S, [False] * 4 + [True] * 2])        # True = padding
tgt_padding = torch.tensor([[False] * L, [False] * 3 + [True] * 2])
masks = {"causal": spec(causal.double()), "padding": spec(padding.double()), "targetPadding": spec(tgt_padding.double())}

add("linear", nn.Linear(E, 3), [rand(B, L, E)], lambda m, x: m(x), config={"in": E, "out": 3})
add("layer norm", nn.LayerNorm(E), [rand(B, L, E) * 3 + 1], lambda m, x: m(x), config={"dim": E})
add("rms norm", nn.RMSNorm(E, eps=1e-6), [rand(B, L, E)], lambda m, x: m(x), config={"dim": E})

emb = nn.Embedding(7, E, padding_idx=0)
ids = torch.tensor([[3, 0, 6, 1], [0, 2, 2, 5]])
add("embedding with padding index", emb, [ids], lambda m, i: m(i), config={"count": 7, "dim": E, "padding": 0})

add("multi-head self-attention, causal + key padding", nn.MultiheadAttention(E, H, batch_first=True), [rand(B, L, E)],
    lambda m, x: m(x, x, x, attn_mask=causal, key_padding_mask=tgt_padding, need_weights=False)[0],
    masks=masks, config={"E": E, "H": H})
add("multi-head cross-attention, kdim/vdim differ", nn.MultiheadAttention(E, H, kdim=5, vdim=3, batch_first=True),
    [rand(B, L, E), rand(B, S, 5), rand(B, S, 3)],
    lambda m, q, k, v: m(q, k, v, key_padding_mask=padding, need_weights=False)[0],
    masks=masks, config={"E": E, "H": H, "kdim": 5, "vdim": 3})
add("multi-head attention weights per head", nn.MultiheadAttention(E, H, batch_first=True), [rand(B, L, E), rand(B, S, E)],
    lambda m, q, kv: m(q, kv, kv, key_padding_mask=padding, need_weights=True, average_attn_weights=False)[1],
    masks=masks, config={"E": E, "H": H})
for norm_first, act in [(False, "relu"), (True, "gelu")]:
    add(f"encoder layer norm_first={norm_first} {act}",
        nn.TransformerEncoderLayer(E, H, 16, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first),
        [rand(B, L, E)], lambda m, x: m(x, src_mask=causal, src_key_padding_mask=tgt_padding),
        masks=masks, config={"E": E, "H": H, "F": 16, "normFirst": norm_first, "activation": act})
    add(f"decoder layer norm_first={norm_first} {act}",
        nn.TransformerDecoderLayer(E, H, 16, dropout=0.0, activation=act, batch_first=True, norm_first=norm_first),
        [rand(B, L, E), rand(B, S, E)],
        lambda m, x, mem: m(x, mem, tgt_mask=causal, memory_key_padding_mask=padding),
        masks=masks, config={"E": E, "H": H, "F": 16, "normFirst": norm_first, "activation": act})
add("transformer 2+2 layers", nn.Transformer(E, H, 2, 2, 16, dropout=0.0, batch_first=True),
    [rand(B, S, E), rand(B, L, E)],
    lambda m, src, tgt: m(src, tgt, tgt_mask=causal, src_key_padding_mask=padding, memory_key_padding_mask=padding),
    masks=masks, config={"E": E, "H": H, "F": 16})

OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_layers.py", "torch": torch.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KiB)")
