#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/positions.json: sinusoidal tables (the PyTorch tutorial's
PositionalEncoding), rotary embeddings in both pairings (Hugging Face's rotate_half and GPT-J's
rotate_every_two) with position offsets, and ALiBi slopes (the reference get_slopes).

    python scripts/goldens/generate_positions.py      (in a venv with torch==2.13.0+cpu)
"""
import json
import math
import pathlib

import torch

torch.manual_seed(4)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/positions.json"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


def sinusoidal(length, d):
    # https://pytorch.org/tutorials/beginner/transformer_tutorial.html
    position = torch.arange(length, dtype=torch.float64).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)
    return pe


def rope_cos_sin(length, d, offset):
    inv_freq = 1.0 / (10000 ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    t = torch.arange(offset, offset + length, dtype=torch.float64)
    freqs = torch.outer(t, inv_freq)
    return freqs.cos(), freqs.sin()


def rotate_half(x):        # Hugging Face transformers (LLaMA, GPT-NeoX)
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_half(x, offset):
    cos, sin = rope_cos_sin(x.shape[-2], x.shape[-1], offset)
    cos, sin = torch.cat((cos, cos), -1), torch.cat((sin, sin), -1)
    return x * cos + rotate_half(x) * sin


def rotate_every_two(x):   # GPT-J
    x1, x2 = x[..., ::2], x[..., 1::2]
    return torch.stack((-x2, x1), dim=-1).flatten(-2)


def rope_interleaved(x, offset):
    cos, sin = rope_cos_sin(x.shape[-2], x.shape[-1], offset)
    cos, sin = cos.repeat_interleave(2, -1), sin.repeat_interleave(2, -1)
    return x * cos + rotate_every_two(x) * sin


def get_slopes(n):         # https://github.com/ofirpress/attention_with_linear_biases
    def get_slopes_power_of_2(n):
        start = 2 ** (-2 ** -(math.log2(n) - 3))
        return [start * start ** i for i in range(n)]
    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return get_slopes_power_of_2(closest) + get_slopes(2 * closest)[0::2][: n - closest]


x = torch.randn(2, 3, 5, 8, dtype=torch.float64).float().double()
c = torch.randn(2, 3, 5, 8, dtype=torch.float64)
rope = []
for pairing, fn in [("halfSplit", rope_half), ("interleaved", rope_interleaved)]:
    xs = x.clone().requires_grad_(True)
    y = fn(xs, 3)
    (g,) = torch.autograd.grad((y * c).sum(), xs)
    rope.append({"pairing": pairing, "offset": 3, "input": spec(x), "output": spec(y), "cotangent": spec(c),
                 "gradient": spec(g)})

OUT.write_text(json.dumps({
    "generator": "scripts/goldens/generate_positions.py",
    "sinusoidal": {"length": 9, "dimension": 10, "table": spec(sinusoidal(9, 10))},
    "rotary": rope,
    "alibi": {str(n): get_slopes(n) for n in [1, 4, 8, 12, 16, 20]},
}, separators=(",", ":")))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
