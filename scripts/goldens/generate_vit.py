#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/vit.json: a small random ViTForImageClassification
(transformers, eager attention, float64) — its state dict under the names transformers saves,
pixel inputs, logits, final hidden states, every layer's attention weights, and the gradients
of sum(logits * c) with respect to the pixels and the parameters of layer 0.

    python scripts/goldens/generate_vit.py      (in a venv with torch and transformers)
"""
import json
import pathlib

import torch
from transformers import ViTConfig, ViTForImageClassification

torch.manual_seed(6)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/vit.json"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


config = ViTConfig(image_size=16, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2,
                   num_attention_heads=4, intermediate_size=64, num_labels=5, layer_norm_eps=1e-12)
config._attn_implementation = "eager"
model = ViTForImageClassification(config).double().eval()
with torch.no_grad():
    for p in model.parameters():
        p.copy_((p * 3).float().double())      # float32-representable, and larger than the default init
pixels = torch.randn(2, 3, 16, 16, dtype=torch.float64).float().double().requires_grad_(True)
out = model(pixel_values=pixels, output_attentions=True)
hidden = model.vit(pixel_values=pixels).last_hidden_state
c = torch.randn_like(out.logits)
layer0 = {k: v for k, v in model.named_parameters() if ".layers.0." in k}
grads = torch.autograd.grad((out.logits * c).sum(), [pixels] + list(layer0.values()))
OUT.write_text(json.dumps({
    "config": {"imageSize": 16, "patchSize": 4, "channels": 3, "hiddenSize": 32, "layers": 2, "heads": 4,
               "intermediateSize": 64, "labels": 5},
    "state": {k: spec(v) for k, v in model.state_dict().items()},
    "pixels": spec(pixels), "logits": spec(out.logits), "hiddenStates": spec(hidden),
    "attentions": [spec(a) for a in out.attentions], "cotangent": spec(c),
    "pixelGradient": spec(grads[0]), "layerGradients": {k: spec(g) for k, g in zip(layer0.keys(), grads[1:])},
}))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB), keys like {list(model.state_dict())[:4]}")
