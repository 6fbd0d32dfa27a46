#!/usr/bin/env python3
"""Goldens for Attend's dynamic int8 quantization: PyTorch's own quantize_dynamic with per-channel
weights (torch.ao.quantization.per_channel_dynamic_qconfig) on small Linear layers. Writes
Tests/AttendTests/Goldens/quantization.json: the float layer, its int8 weights and scales as
PyTorch stores them, an input, and PyTorch's quantized output.

    venv/bin/python scripts/goldens/generate_quantization.py
"""
import json
import pathlib

import torch
import torch.nn as nn
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/quantization.json"
torch.manual_seed(0)
torch.backends.quantized.engine = "fbgemm"


def case(name, inputs, outputs, bias, shape, scale=1.0):
    layer = nn.Linear(inputs, outputs, bias=bias)
    with torch.no_grad():
        layer.weight.mul_(scale)
        layer.weight[0].zero_()                    # an all-zero channel: scale floors at eps
    x = torch.randn(*shape, inputs) * 2
    quantized = quantize_dynamic(nn.Sequential(layer), {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    q = quantized[0].weight()
    with torch.no_grad():
        y = quantized(x)
    return {
        "name": name,
        "weight": {"shape": list(layer.weight.shape), "data": layer.weight.detach().flatten().tolist()},
        "bias": None if not bias else layer.bias.detach().tolist(),
        "input": {"shape": list(x.shape), "data": x.flatten().tolist()},
        "int8_weight": q.int_repr().flatten().tolist(),
        "scales": q.q_per_channel_scales().float().tolist(),
        "output": {"shape": list(y.shape), "data": y.flatten().tolist()},
    }


cases = [
    case("37 → 19 with bias", 37, 19, True, [5]),
    case("64 → 48 without bias, batched", 64, 48, False, [2, 3]),
    case("384 → 33, large weights", 384, 33, True, [4], scale=40.0),
    case("5 → 130, one row", 5, 130, True, [1]),
]
OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_quantization.py", "torch": torch.__version__,
                           "cases": cases}))
print(f"wrote {len(cases)} cases to {OUT}")
