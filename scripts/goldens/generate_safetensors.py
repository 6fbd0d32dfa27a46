#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/dtypes.safetensors (one tensor per dtype Attend reads, written
by the reference `safetensors` package) and dtypes.json with the values as float64.

    python scripts/goldens/generate_safetensors.py      (in a venv with torch and safetensors)
"""
import json
import pathlib

import torch
from safetensors.torch import save_file

DIR = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens"
values = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.1e-5, 5.96e-8, 3.14159, float("inf"), -float("inf")]
tensors = {
    "f32": torch.tensor(values, dtype=torch.float32).reshape(2, 5),
    "f16": torch.tensor(values, dtype=torch.float16),
    "bf16": torch.tensor(values, dtype=torch.bfloat16),
    "i64": torch.arange(-3, 3, dtype=torch.int64).reshape(3, 2),
    "empty": torch.zeros(0, 4),
}
save_file(tensors, str(DIR / "dtypes.safetensors"), metadata={"format": "pt", "note": "dtype goldens"})
(DIR / "dtypes.json").write_text(json.dumps({k: {"shape": list(v.shape), "data": [str(x) if x in (float("inf"), -float("inf")) else x for x in v.double().flatten().tolist()]} for k, v in tensors.items()}))
print("wrote", DIR / "dtypes.safetensors")
