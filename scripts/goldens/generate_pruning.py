#!/usr/bin/env python3
"""Goldens for head importance and pruning on the committed tiny BERT (Tests/AttendTests/Goldens/tiny-bert),
computed by transformers: Michel et al.'s importance as the gradient of a loss with respect to a
gate on each head's output (a forward hook scales each head's slice of the self-attention
context), |gradient| summed over batches and each layer divided by its l2 norm; and the output of
the model after `prune_heads`.

    venv/bin/python scripts/goldens/generate_pruning.py
"""
import json
import pathlib

import torch
from transformers import BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2]
TINY = ROOT / "Tests/AttendTests/Goldens/tiny-bert"
OUT = ROOT / "Tests/AttendTests/Goldens/pruning.json"
torch.manual_seed(0)

model = BertModel.from_pretrained(str(TINY), attn_implementation="eager").eval()
config = model.config
batches = []
for _ in range(3):
    ids = torch.randint(1, config.vocab_size, (2, 6))
    lengths = [6, 4]
    ids[1, 4:] = 0
    cotangent = torch.randn(2, 6, config.hidden_size)
    batches.append((ids, lengths, cotangent))

heads, width = config.num_attention_heads, config.hidden_size // config.num_attention_heads


def gate_hook(gate):
    def hook(module, inputs, output):
        context = output[0] if isinstance(output, tuple) else output
        b, l, _ = context.shape
        gated = (context.view(b, l, heads, width) * gate.view(1, 1, heads, 1)).view(b, l, heads * width)
        return (gated,) + tuple(output[1:]) if isinstance(output, tuple) else gated
    return hook


importance = torch.zeros(config.num_hidden_layers, heads)
for ids, lengths, cotangent in batches:
    gates = torch.ones(config.num_hidden_layers, heads, requires_grad=True)
    hooks = [layer.attention.self.register_forward_hook(gate_hook(gates[i])) for i, layer in enumerate(model.encoder.layer)]
    mask = torch.tensor([[1] * n + [0] * (6 - n) for n in lengths])
    out = model(input_ids=ids, attention_mask=mask).last_hidden_state
    (out * cotangent).sum().backward()
    importance += gates.grad.abs()
    for h in hooks:
        h.remove()
importance = importance / (importance.pow(2).sum(-1, keepdim=True).sqrt() + 1e-20)

def prune_linear(layer, index, dim):
    """Hugging Face 4's prune_linear_layer: keep `index` rows (dim 0) or columns (dim 1)."""
    weight = layer.weight.index_select(dim, index).clone().detach()
    bias = layer.bias.clone().detach() if dim == 1 else layer.bias[index].clone().detach()
    new = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=True)
    with torch.no_grad():
        new.weight.copy_(weight)
        new.bias.copy_(bias)
    return new


def prune_heads(model, pruned):
    """What transformers 4's BertModel.prune_heads did (transformers 5 dropped it)."""
    for layer_index, removed in pruned.items():
        attention = model.encoder.layer[layer_index].attention
        keep = [h for h in range(heads) if h not in removed]
        index = torch.tensor([h * width + i for h in keep for i in range(width)])
        attention.self.query = prune_linear(attention.self.query, index, 0)
        attention.self.key = prune_linear(attention.self.key, index, 0)
        attention.self.value = prune_linear(attention.self.value, index, 0)
        attention.output.dense = prune_linear(attention.output.dense, index, 1)
        attention.self.num_attention_heads = len(keep)
        attention.self.all_head_size = len(keep) * width


pruned_heads = {0: [1, 3], 1: [0]}
prune_heads(model, pruned_heads)
ids, lengths, _ = batches[0]
mask = torch.tensor([[1] * n + [0] * (6 - n) for n in lengths])
with torch.no_grad():
    pruned_output = model(input_ids=ids, attention_mask=mask).last_hidden_state

OUT.write_text(json.dumps({
    "generator": "scripts/goldens/generate_pruning.py", "torch": torch.__version__,
    "batches": [{"ids": ids.tolist(), "lengths": lengths, "cotangent": {"shape": list(c.shape), "data": c.flatten().tolist()}}
                for ids, lengths, c in batches],
    "importance": importance.tolist(),
    "pruned_heads": {str(k): v for k, v in pruned_heads.items()},
    "pruned_output": {"shape": list(pruned_output.shape), "data": pruned_output.flatten().tolist()},
}))
print(f"wrote {OUT}")
