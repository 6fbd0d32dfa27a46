#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/core.json: values and gradients of Attend's tensor ops,
computed by PyTorch in float64.

Run in a venv with `pip install torch==2.13.0+cpu`:
    python scripts/goldens/generate_core.py

Each case lists its inputs (optionally stored permuted, so Attend reads a non-contiguous view),
the op's attributes, the output, a random cotangent `c`, and the gradients of sum(output * c)
with respect to every input. CI reads the JSON; it never needs torch.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/core.json"
cases = []


def rand(*shape, low=-2.0, high=2.0):
    return (torch.rand(tuple(shape), dtype=torch.float64) * (high - low) + low).float().double()


def compact(values):
    """9 significant digits: exact for float32 inputs, ~1e-9 relative for float64 results.
    Non-finite values are written as the strings "inf", "-inf" and "nan" (JSON has no literal for them)."""
    return [str(v) if math.isinf(v) or math.isnan(v) else float(f"{v:.9g}") for v in values]


def spec(t, permutation=None):
    d = {"shape": list(t.shape)}
    if permutation is not None:
        d["permutation"] = permutation
        t = t.permute(*permutation).contiguous()
    d["data"] = compact(t.flatten().tolist())
    return d


def add(name, op, inputs, fn, attrs=None, permutations=None, differentiable=True):
    permutations = permutations or [None] * len(inputs)
    xs = [x.clone().requires_grad_(differentiable) for x in inputs]
    y = fn(*xs)
    case = {"name": name, "op": op, "attrs": attrs or {},
            "inputs": [spec(x.detach(), p) for x, p in zip(inputs, permutations)],
            "output": spec(y.detach().double())}
    if differentiable:
        c = rand(*y.shape)
        grads = torch.autograd.grad((y * c).sum(), xs, allow_unused=True)
        case["cotangent"] = spec(c)
        case["gradients"] = [None if g is None else spec(g) for g in grads]
    cases.append(case)


# Broadcasting binary arithmetic, with size-1 axes and a permuted (non-contiguous) operand.
for op, fn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div),
               ("maximum", torch.maximum), ("minimum", torch.minimum)]:
    add(f"{op} same shape", op, [rand(3, 4), rand(3, 4)], fn)
    add(f"{op} broadcast rows", op, [rand(2, 3, 4), rand(4)], fn)
    add(f"{op} broadcast size-1 axes", op, [rand(2, 1, 4), rand(3, 1)], fn)
    b = rand(3, 4) + (3.0 if op == "div" else 0.0)
    add(f"{op} permuted operand", op, [rand(3, 4), b], fn, permutations=[None, [1, 0]])
add("div by broadcast column", "div", [rand(2, 5), rand(2, 1, low=0.5, high=2)], torch.div)

for op, fn, scalar in [("add_scalar", lambda x: x + 1.5, 1.5), ("sub_scalar", lambda x: x - 1.5, 1.5),
                       ("mul_scalar", lambda x: x * -2.5, -2.5), ("div_scalar", lambda x: x / 4.0, 4.0),
                       ("rsub_scalar", lambda x: 3.0 - x, 3.0), ("rdiv_scalar", lambda x: 2.0 / x, 2.0)]:
    x = rand(3, 5, low=0.5, high=2.0) if op == "rdiv_scalar" else rand(3, 5)
    add(op, op, [x], fn, {"scalar": scalar})

# Unary functions, on contiguous and permuted inputs.
positive = lambda *s: rand(*s, low=0.1, high=3.0)
unary = [("neg", torch.neg, rand), ("exp", torch.exp, rand), ("log", torch.log, positive),
         ("sqrt", torch.sqrt, positive), ("rsqrt", torch.rsqrt, positive), ("abs", torch.abs, rand),
         ("tanh", torch.tanh, rand), ("sigmoid", torch.sigmoid, lambda *s: rand(*s, low=-8, high=8)),
         ("relu", torch.relu, rand), ("gelu", F.gelu, lambda *s: rand(*s, low=-4, high=4)),
         ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), lambda *s: rand(*s, low=-4, high=4)),
         ("silu", F.silu, lambda *s: rand(*s, low=-6, high=6))]
for op, fn, make in unary:
    add(op, op, [make(4, 6)], fn)
    add(f"{op} permuted", op, [make(3, 2, 5)], fn, permutations=[[2, 0, 1]])
add("exp long vector", "exp", [rand(1037, low=-80, high=80)], torch.exp)
add("pow scalar", "pow_scalar", [positive(3, 4)], lambda x: x ** 2.5, {"scalar": 2.5})
add("pow integer scalar on negatives", "pow_scalar", [rand(3, 4)], lambda x: x ** 3.0, {"scalar": 3.0})
add("pow tensor", "pow_tensor", [positive(2, 3), rand(3)], torch.pow)
cond = (torch.rand(3, 4) > 0.5).double()
add("where", "where", [cond, rand(3, 4), rand(4)], lambda c, a, b: torch.where(c != 0, a, b))

# Reductions over axes.
for axes, keep in [([1], False), ([0, 2], True), ([-1], True), ([0, 1, 2], False), ([], False)]:
    for op, fn in [("sum", lambda x, a, k: x.sum(dim=a, keepdim=k) if a else x.clone()),
                   ("mean", lambda x, a, k: x.mean(dim=a, keepdim=k) if a else x.clone()),
                   ("amax", lambda x, a, k: x.amax(dim=a, keepdim=k) if a else x.clone()),
                   ("amin", lambda x, a, k: x.amin(dim=a, keepdim=k) if a else x.clone()),
                   ("logsumexp", lambda x, a, k: torch.logsumexp(x, dim=a, keepdim=k) if a else x.clone())]:
        add(f"{op} axes {axes} keep {keep}", op, [rand(3, 4, 5)],
            lambda x, fn=fn: fn(x, axes, keep), {"axes": axes, "keep": keep})
add("sum permuted", "sum", [rand(3, 4, 5)], lambda x: x.sum(dim=[0], keepdim=False),
    {"axes": [0], "keep": False}, permutations=[[1, 2, 0]])
for correction in [0, 1]:
    add(f"variance correction {correction}", "variance", [rand(3, 7)],
        lambda x, c=correction: torch.var(x, dim=[1], correction=c, keepdim=True),
        {"axes": [1], "keep": True, "correction": correction})
add("variance over leading axes", "variance", [rand(4, 3, 2)],
    lambda x: torch.var(x, dim=[0, 1], correction=1), {"axes": [0, 1], "keep": False, "correction": 1})
add("argmax", "argmax", [rand(4, 7)], lambda x: torch.argmax(x, dim=1).double(),
    {"axis": 1}, differentiable=False)
add("argmax axis 0", "argmax", [rand(4, 7)], lambda x: torch.argmax(x, dim=0).double(),
    {"axis": 0}, differentiable=False)

# Softmax family, including extreme magnitudes.
for axis in [-1, 0, 1]:
    add(f"softmax axis {axis}", "softmax", [rand(3, 5, 4)], lambda x, a=axis: torch.softmax(x, dim=a), {"axis": axis})
    add(f"log_softmax axis {axis}", "log_softmax", [rand(3, 5, 4)],
        lambda x, a=axis: torch.log_softmax(x, dim=a), {"axis": axis})
add("softmax of 1e4 logits", "softmax", [rand(2, 6) * 1e4], lambda x: torch.softmax(x, dim=-1), {"axis": -1})
add("log_softmax of 1e4 logits", "log_softmax", [rand(2, 6) * 1e4], lambda x: torch.log_softmax(x, dim=-1), {"axis": -1})
add("softmax permuted", "softmax", [rand(4, 6)], lambda x: torch.softmax(x, dim=-1), {"axis": -1}, permutations=[[1, 0]])
add("logsumexp of -1e30", "logsumexp", [rand(2, 5) - 1e30], lambda x: torch.logsumexp(x, dim=[1]),
    {"axes": [1], "keep": False})
add("logsumexp of 1e4", "logsumexp", [rand(2, 5) * 1e4], lambda x: torch.logsumexp(x, dim=[1]),
    {"axes": [1], "keep": False})

# Matrix products: batches that broadcast, 1-d operands, transposed views.
add("matmul 2d", "matmul", [rand(5, 7), rand(7, 3)], torch.matmul)
add("matmul batched broadcast", "matmul", [rand(2, 1, 4, 6), rand(3, 6, 5)], torch.matmul)
add("matmul folds batch into rows", "matmul", [rand(2, 3, 4), rand(4, 5)], torch.matmul)
add("matmul vector-matrix", "matmul", [rand(4), rand(2, 4, 3)], torch.matmul)
add("matmul matrix-vector", "matmul", [rand(3, 4), rand(4)], torch.matmul)
add("matmul vector-vector", "matmul", [rand(6), rand(6)], torch.matmul)
add("matmul transposed operands", "matmul", [rand(2, 6, 4), rand(2, 5, 6)],
    lambda a, b: torch.matmul(a.transpose(-1, -2), b.transpose(-1, -2)), {"transpose": True})
add("matmul permuted batch", "matmul", [rand(3, 4, 5), rand(5, 2)], torch.matmul, permutations=[[1, 0, 2], None])
add("matmul large", "matmul", [rand(70, 130) / 5, rand(130, 90) / 5], torch.matmul)

# Layer normalization.
add("layer_norm affine", "layer_norm", [rand(2, 3, 8), rand(8), rand(8)],
    lambda x, w, b: F.layer_norm(x, [8], w, b, eps=1e-5), {"epsilon": 1e-5})
add("layer_norm plain", "layer_norm", [rand(4, 5) * 100 + 50], lambda x: F.layer_norm(x, [5], eps=1e-5),
    {"epsilon": 1e-5})

# RMS normalization (PyTorch's F.rms_norm).
add("rms_norm affine", "rms_norm", [rand(2, 3, 8), rand(8)], lambda x, w: F.rms_norm(x, [8], w, eps=1e-6),
    {"epsilon": 1e-6})
add("rms_norm plain", "rms_norm", [rand(4, 5) * 100 + 50], lambda x: F.rms_norm(x, [5], eps=1e-5), {"epsilon": 1e-5})

# The C kernels' vector bodies and tails: lengths that are not multiples of 8 or 16 lanes,
# and long rows (each kernel runs on every instruction-set path in CI).
for n in [1, 15, 17, 1000]:
    for name, fn, make in unary:
        if name in ("exp", "tanh", "sigmoid", "gelu", "gelu_tanh", "silu"):
            add(f"{name} length {n}", name, [make(2, n)], fn)
    add(f"softmax length {n}", "softmax", [rand(3, n) * 4], lambda x: torch.softmax(x, dim=-1), {"axis": -1})
    add(f"log_softmax length {n}", "log_softmax", [rand(3, n) * 4], lambda x: torch.log_softmax(x, dim=-1), {"axis": -1})
    add(f"layer_norm length {n}", "layer_norm", [rand(3, n) * 3 + 1, rand(n), rand(n)],
        lambda x, w, b, n=n: F.layer_norm(x, [n], w, b, eps=1e-5), {"epsilon": 1e-5})
    add(f"rms_norm length {n}", "rms_norm", [rand(3, n) * 3 + 1, rand(n)],
        lambda x, w, n=n: F.rms_norm(x, [n], w, eps=1e-5), {"epsilon": 1e-5})
    add(f"sum length {n}", "sum", [rand(3, n)], lambda x: x.sum(dim=-1), {"axes": [1], "keep": False})
    add(f"amax length {n}", "amax", [rand(3, n)], lambda x: x.amax(dim=-1), {"axes": [1], "keep": False},
        differentiable=False)

# Shape operations.
add("reshape", "reshape", [rand(2, 3, 4)], lambda x: x.reshape(4, -1), {"shape": [4, -1]})
add("reshape permuted", "reshape", [rand(2, 3, 4)], lambda x: x.reshape(6, 4), {"shape": [6, 4]},
    permutations=[[2, 0, 1]])
add("permute", "permute", [rand(2, 3, 4)], lambda x: x.permute(2, 0, 1), {"axes": [2, 0, 1]})
add("transpose", "transpose", [rand(2, 3, 4)], lambda x: x.transpose(0, 2), {"axes": [0, 2]})
add("expand", "expand", [rand(3, 1)], lambda x: x.expand(2, 3, 4), {"shape": [2, 3, 4]})
add("slice", "slice", [rand(4, 6)], lambda x: x[:, 1:5], {"axis": 1, "start": 1, "end": 5})
add("concatenate", "concatenate", [rand(2, 3), rand(2, 1), rand(2, 2)], lambda *xs: torch.cat(xs, dim=1), {"axis": 1})
add("stack", "stack", [rand(2, 3), rand(2, 3)], lambda *xs: torch.stack(xs, dim=1), {"axis": 1})
add("split", "split", [rand(5, 4)], lambda x: torch.cat([t * (i + 1) for i, t in enumerate(x.split([2, 3], dim=0))], 0),
    {"sizes": [2, 3], "axis": 0})
add("unsqueeze squeeze", "unsqueeze", [rand(3, 4)], lambda x: x.unsqueeze(1), {"axis": 1})
add("squeeze", "squeeze", [rand(3, 1, 4)], lambda x: x.squeeze(1), {"axis": 1})
add("index_select", "index_select", [rand(5, 3)], lambda x: torch.index_select(x, 0, torch.tensor([4, 0, 4, 2])),
    {"indices": [4, 0, 4, 2], "axis": 0})
add("index_select axis 1", "index_select", [rand(2, 5, 3)], lambda x: torch.index_select(x, 1, torch.tensor([1, 1, 3])),
    {"indices": [1, 1, 3], "axis": 1})

# Composite: a small attention head, to test fan-out and accumulation through the graph.
def head(x, wq, wk, wv):
    q, k, v = x @ wq, x @ wk, x @ wv
    return torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(4), dim=-1) @ v
add("attention head composite", "attention_head", [rand(2, 5, 6), rand(6, 4), rand(6, 4), rand(6, 4)], head)

OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_core.py", "torch": torch.__version__,
                           "cases": cases}, separators=(",", ":")))
print(f"wrote {len(cases)} cases to {OUT} ({OUT.stat().st_size // 1024} KiB)")
