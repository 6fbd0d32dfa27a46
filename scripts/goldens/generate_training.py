#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/training.json: torch.optim optimizers over several steps
with given gradients, learning-rate schedules, gradient clipping, losses (values and
gradients), and one AdamW training step of a small encoder–decoder Transformer.

    python scripts/goldens/generate_training.py      (in a venv with torch and transformers)
"""
import json
import math
import pathlib

import torch
import torch.nn as nn
import torch.nn.functional as F
from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

torch.manual_seed(9)
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/training.json"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


def f32(*shape):
    return torch.randn(*shape)


golden = {}

# Optimizers: parameters {weight [3, 4], bias [3]}, five steps of given gradients.
initial = {"weight": f32(3, 4), "bias": f32(3)}
gradients = [{"weight": f32(3, 4), "bias": f32(3)} for _ in range(5)]
configs = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "sgd_nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01),
    "adam_amsgrad_decay": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.01, amsgrad=True),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "adamw_groups": lambda p: torch.optim.AdamW([{"params": [p[0]]}, {"params": [p[1]], "weight_decay": 0.0}], lr=0.01,
                                                weight_decay=0.1),
}
optimizers = {}
for name, make in configs.items():
    params = [initial["weight"].clone().requires_grad_(True), initial["bias"].clone().requires_grad_(True)]
    optimizer = make(params)
    trajectory = []
    for g in gradients:
        params[0].grad, params[1].grad = g["weight"].clone(), g["bias"].clone()
        optimizer.step()
        trajectory.append({"weight": spec(params[0]), "bias": spec(params[1])})
    optimizers[name] = trajectory
golden["optimizers"] = {"initial": {k: spec(v) for k, v in initial.items()},
                        "gradients": [{k: spec(v) for k, v in g.items()} for g in gradients], "trajectories": optimizers}

# Schedules: the learning rate after each of 12 scheduler steps (step 0 first).
def rates(make, steps=12, base=0.1):
    p = [torch.zeros(1, requires_grad=True)]
    optimizer = torch.optim.SGD(p, lr=base)
    scheduler = make(optimizer)
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values

golden["schedules"] = {
    "step": rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "cosine": rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01)),
    "warmupCosine": rates(lambda o: get_cosine_schedule_with_warmup(o, num_warmup_steps=3, num_training_steps=10)),
    "warmupLinear": rates(lambda o: get_linear_schedule_with_warmup(o, num_warmup_steps=3, num_training_steps=10)),
    # No library ships the Transformer's schedule itself: this is eq. (3) of "Attention Is All You
    # Need", lrate = factor · d^-0.5 · min(step^-0.5, step · warmup^-1.5), step counted from 1.
    "inverseSquareRoot": [2.0 * 16 ** -0.5 * min((s + 1) ** -0.5, (s + 1) * 4 ** -1.5) for s in range(12)],
}

# Clipping.
clip_grads = [f32(3, 4) * 3, f32(5) * 3]
clip_params = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
clip_params[0].grad, clip_params[1].grad = clip_grads[0].clone(), clip_grads[1].clone()
norm = torch.nn.utils.clip_grad_norm_(clip_params, max_norm=1.5)
golden["clipping"] = {"gradients": [spec(g) for g in clip_grads], "maxNorm": 1.5, "norm": float(norm),
                      "clipped": [spec(p.grad) for p in clip_params]}

# Losses: values and gradients.
def loss_case(fn, inputs):
    xs = [x.clone().double().requires_grad_(True) for x in inputs]
    value = fn(*xs)
    if value.dim() == 0:
        grads = torch.autograd.grad(value, xs)
    else:
        c = torch.randn_like(value)
        grads = torch.autograd.grad((value * c).sum(), xs)
    case = {"inputs": [spec(x) for x in inputs], "value": spec(value), "gradients": [spec(g) for g in grads]}
    if value.dim() != 0:
        case["cotangent"] = spec(c)
    return case

logits = f32(6, 5)
targets = torch.tensor([1, 0, 4, -100, 2, 2])
seq_logits = f32(2, 3, 5)
seq_targets = torch.tensor([3, -100, 1, 0, 4, -100])
golden["losses"] = {
    "targets": targets.tolist(), "sequenceTargets": seq_targets.tolist(),
    "crossEntropyMean": loss_case(lambda x: F.cross_entropy(x, targets), [logits]),
    "crossEntropySum": loss_case(lambda x: F.cross_entropy(x, targets, reduction="sum"), [logits]),
    "crossEntropyNone": loss_case(lambda x: F.cross_entropy(x, targets, reduction="none"), [logits]),
    "crossEntropySmoothing": loss_case(lambda x: F.cross_entropy(x, targets, label_smoothing=0.1), [logits]),
    "crossEntropySequence": loss_case(lambda x: F.cross_entropy(x.reshape(-1, 5), seq_targets, label_smoothing=0.2), [seq_logits]),
    "binaryCrossEntropy": loss_case(lambda x, y: F.binary_cross_entropy_with_logits(x, y), [f32(4, 3) * 4, torch.rand(4, 3)]),
    "meanSquaredError": loss_case(lambda x, y: F.mse_loss(x, y), [f32(4, 3), f32(4, 3)]),
    "infoNCE": loss_case(lambda q, k: (F.cross_entropy(q @ k.T / 0.5, torch.arange(4))
                                       + F.cross_entropy(k @ q.T / 0.5, torch.arange(4))) / 2, [f32(4, 6), f32(4, 6)]),
}

# One AdamW training step of a small encoder–decoder Transformer.
class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.source_embedding = nn.Embedding(11, 16)
        self.target_embedding = nn.Embedding(11, 16)
        self.transformer = nn.Transformer(16, 2, 1, 1, 32, dropout=0.0, batch_first=True)
        self.output = nn.Linear(16, 11)

    def forward(self, src, tgt):
        mask = torch.triu(torch.ones(tgt.shape[1], tgt.shape[1], dtype=torch.bool), 1)
        h = self.transformer(self.source_embedding(src), self.target_embedding(tgt), tgt_mask=mask)
        return self.output(h)

model = Seq2Seq()
src = torch.tensor([[1, 5, 7, 2], [1, 3, 2, 0]])
tgt_in = torch.tensor([[1, 8, 9], [1, 4, 6]])
tgt_out = torch.tensor([[8, 9, 2], [4, 6, -100]])
before = {k: spec(v) for k, v in model.state_dict().items()}
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.01)
loss = F.cross_entropy(model(src, tgt_in).reshape(-1, 11), tgt_out.reshape(-1), label_smoothing=0.1)
loss.backward()
grads = {k: spec(v.grad) for k, v in model.named_parameters()}
optimizer.step()
golden["trainingStep"] = {"before": before, "after": {k: spec(v) for k, v in model.state_dict().items()}, "gradients": grads,
                          "source": src.tolist(), "targetIn": tgt_in.tolist(), "targetOut": tgt_out.reshape(-1).tolist(),
                          "loss": float(loss)}
OUT.write_text(json.dumps(golden))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
