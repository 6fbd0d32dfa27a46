#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/lxmert.json: a small random LxmertModel (transformers,
float64) — its state dict, inputs with padded text and missing regions, the language, vision
and pooled outputs, language/vision/cross attention weights, and gradients of one
cross-modality layer.

    python scripts/goldens/generate_lxmert.py      (in a venv with torch and transformers)
"""
import json
import pathlib

import torch
from transformers import LxmertConfig, LxmertModel

torch.manual_seed(7)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/lxmert.json"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


config = LxmertConfig(vocab_size=50, hidden_size=16, num_attention_heads=2, intermediate_size=32, l_layers=2, x_layers=2,
                      r_layers=1, visual_feat_dim=12, visual_pos_dim=4, max_position_embeddings=20, type_vocab_size=2,
                      num_qa_labels=3, num_object_labels=3, num_attr_labels=3)
config._attn_implementation = "eager"
model = LxmertModel(config).double().eval()
with torch.no_grad():
    for p in model.parameters():
        p.copy_((p * 3).float().double())
ids = torch.tensor([[2, 7, 8, 9, 10, 3], [2, 11, 12, 3, 0, 0]])
text_mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
feats = torch.randn(2, 5, 12, dtype=torch.float64).float().double()
pos = torch.rand(2, 5, 4, dtype=torch.float64).float().double()
visual_mask = torch.tensor([[1] * 5, [1] * 3 + [0] * 2])
out = model(input_ids=ids, visual_feats=feats, visual_pos=pos, attention_mask=text_mask,
            visual_attention_mask=visual_mask, output_attentions=True)
c1, c2 = torch.randn_like(out.language_output), torch.randn_like(out.vision_output)
cross = {k: v for k, v in model.named_parameters() if k.startswith("encoder.x_layers.0.")}
grads = torch.autograd.grad((out.language_output * c1).sum() + (out.vision_output * c2).sum(), list(cross.values()))
OUT.write_text(json.dumps({
    "config": {"vocab": 50, "hidden": 16, "heads": 2, "intermediate": 32, "languageLayers": 2, "crossLayers": 2,
               "visionLayers": 1, "visualFeatures": 12, "visualPositions": 4, "positions": 20},
    "state": {k: spec(v) for k, v in model.state_dict().items()},
    "ids": ids.tolist(), "textLengths": text_mask.sum(1).tolist(), "regionCounts": visual_mask.sum(1).tolist(),
    "visualFeatures": spec(feats), "visualPositions": spec(pos),
    "language": spec(out.language_output), "vision": spec(out.vision_output), "pooled": spec(out.pooled_output),
    "languageAttentions": [spec(a) for a in out.language_attentions],
    "visionAttentions": [spec(a) for a in out.vision_attentions],
    "crossAttentions": [spec(a) for a in out.cross_encoder_attentions],
    "languageCotangent": spec(c1), "visionCotangent": spec(c2),
    "crossLayerGradients": {k: spec(g) for k, g in zip(cross.keys(), grads)},
}))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
