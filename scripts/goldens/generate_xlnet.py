#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/xlnet.json: a small random XLNetLMHeadModel (transformers,
eager attention) with a permutation mask, target mapping, padding and segments — its state
dict, inputs, logits, every hidden state of both streams, both streams' attention weights, and
the gradients of sum(logits * c) for layer 0.

    python scripts/goldens/generate_xlnet.py      (in a venv with torch and transformers)
"""
import json
import pathlib

import torch
from transformers import XLNetConfig, XLNetLMHeadModel

torch.manual_seed(8)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/xlnet.json"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


config = XLNetConfig(vocab_size=40, d_model=16, n_layer=2, n_head=2, d_inner=32, ff_activation="gelu",
                     layer_norm_eps=1e-12, dropout=0.0, mem_len=None, use_mems_eval=False)
config._attn_implementation = "eager"
model = XLNetLMHeadModel(config).eval()
with torch.no_grad():
    for p in model.parameters():
        p.mul_(3.0)
B, L = 2, 6
ids = torch.tensor([[5, 9, 13, 17, 21, 25], [4, 8, 12, 16, 20, 0]])
attention_mask = torch.tensor([[1] * 6, [1] * 5 + [0]])
token_types = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]])
orders = [[3, 0, 5, 1, 4, 2], [1, 4, 0, 2, 3, 5]]
perm = torch.zeros(B, L, L)
for b, order in enumerate(orders):
    rank = {t: r for r, t in enumerate(order)}
    for i in range(L):
        for j in range(L):
            perm[b, i, j] = 1.0 if rank[j] >= rank[i] else 0.0
targets = [[2, 4], [5, 3]]                    # the last two positions of each order
mapping = torch.zeros(B, 2, L)
for b, ts in enumerate(targets):
    for p, t in enumerate(ts):
        mapping[b, p, t] = 1.0
out = model(input_ids=ids, attention_mask=attention_mask, perm_mask=perm, target_mapping=mapping, token_type_ids=token_types,
            output_attentions=True, output_hidden_states=True)
c = torch.randn_like(out.logits)
layer0 = {k: v for k, v in model.named_parameters() if k.startswith("transformer.layer.0.")}
grads = torch.autograd.grad((out.logits * c).sum(), list(layer0.values()))
state = model.state_dict()
OUT.write_text(json.dumps({
    "config": {"vocab": 40, "model": 16, "layers": 2, "heads": 2, "inner": 32},
    "state": {k: spec(v) for k, v in state.items()},
    "ids": ids.tolist(), "attentionMask": attention_mask.tolist(), "tokenTypes": token_types.tolist(),
    "orders": orders, "targets": targets, "permutationMask": spec(perm), "targetMapping": spec(mapping),
    "logits": spec(out.logits), "hiddenStates": [spec(h) for h in out.hidden_states],
    "contentAttentions": [spec(a[0]) for a in out.attentions], "queryAttentions": [spec(a[1]) for a in out.attentions],
    "cotangent": spec(c), "layerGradients": {k: spec(g) for k, g in zip(layer0.keys(), grads)},
}))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB); lm_loss.weight saved: {'lm_loss.weight' in state}; hidden states {len(out.hidden_states)}")
