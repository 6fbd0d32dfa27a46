#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/explain.json: references for explaining attention.

    venv/bin/python scripts/goldens/generate_explain.py   (torch==2.13.0+cpu, numpy, networkx, captum)

1. Attention rollout (Abnar & Zuidema 2020) with the conventions of jacobgil/vit-explain's
   `rollout`: fuse heads (mean / max / min); discard the lowest int(L*L*discard_ratio) entries of
   the flattened fused matrix, except flat index 0 (the [0][0] entry), by setting them to 0;
   a = (fused + I) / 2; normalize; result = a @ result starting from I, layer 0 first.
   vit-explain normalizes with `a / a.sum(dim=-1)` on a [1, L, L] tensor: the [1, L] row sums
   broadcast along the LAST axis, so a[i][j] is divided by the sum of ROW j (not row i). Both
   are recorded: `rollout` divides each row by its own sum (the paper's math: a row-stochastic
   a), `rolloutVitExplain` reproduces vit-explain's broadcast literally. They agree when the
   fused rows already sum to 1 (mean fusion, no discard) and differ otherwise.
2. Attention flow (same paper; samiraabnar/attention_flow's get_adjmat + compute_flows +
   convert_adjmat_tomats): a_l = mean over heads, + I, each row divided by its sum. Nodes are
   index layer*L + position, layer 0 = the input tokens, layer N = the last layer's outputs.
   adj[(l+1)*L + i][l*L + j] = a_l[i][j] (edge from the upper node down to the lower one, the
   capacity is the attention weight; zero weights give no edge). For every non-input node u at
   layer m >= 1 and every input node j: flow = networkx maximum_flow_value(G, u, j) (u the
   source, the input node the sink; Edmonds-Karp as in the paper's code, any max-flow algorithm
   gives the same value). Each node's row of flows is divided by its sum. `flow[m-1][i][j]` is
   node (m, i)'s normalized flow to input j (convert_adjmat_tomats' layout); `flow[N-1]` is the
   top layer. `flowRaw` holds the unnormalized max-flow values.
3. Integrated gradients (Captum 0.9 IntegratedGradients) and gradient x input on a tiny
   nn.TransformerEncoderLayer (d_model 8, 2 heads, dim_feedforward 16, relu, post-norm,
   batch_first, dropout 0, eval) -> mean over positions -> Linear(8, 3); float64 throughout,
   weights and input rounded to float32-representable values.
4. Gradient-weighted attention (Chefer et al. 2021 without LRP): the layer's self-attention
   recomputed from its parameters so the attention weights A [heads, L, L] are an autograd node;
   dA = d logit[target] / dA; relevance = mean over heads of clamp(A * dA, min=0).
"""
import json
import math
import pathlib

import networkx as nx
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import captum
from captum.attr import IntegratedGradients
from captum.attr._utils.approximation_methods import approximation_parameters

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests/AttendTests/Goldens/explain.json"
rng = np.random.default_rng(0)
torch.manual_seed(0)


def compact(values):
    return [str(v) if math.isinf(v) or math.isnan(v) else float(f"{v:.9g}") for v in values]


def nested(a):
    """A numpy array or tensor as nested JSON lists (9 significant digits)."""
    a = a.detach().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    return np.array(compact(a.flatten().tolist()), dtype=object).reshape(a.shape).tolist()


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def random_attention(layers, heads, L, causal=False):
    """Softmax over the last axis of N(0, 1) logits (causal: -inf above the diagonal), rounded to float32."""
    logits = rng.standard_normal((layers, heads, L, L))
    if causal:
        logits = np.where(np.tril(np.ones((L, L), dtype=bool)), logits, -np.inf)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return f32(e / e.sum(-1, keepdims=True))


# ---------------------------------------------------------------- 1. rollout

def fuse(attention, fusion):
    return {"mean": attention.mean(0), "max": attention.max(0), "min": attention.min(0)}[fusion]


def discard(fused, ratio):
    """Zero the int(L*L*ratio) smallest entries of the flattened matrix (stable ascending order on
    ties), skipping flat index 0 when it is among them (so one fewer is zeroed then)."""
    flat = fused.flatten().copy()
    count = int(flat.size * ratio)
    lowest = np.argsort(flat, kind="stable")[:count]
    flat[lowest[lowest != 0]] = 0
    return flat.reshape(fused.shape)


def rollout(stack, fusion, ratio, vit_explain_broadcast):
    L = stack.shape[-1]
    result = np.eye(L)
    fused_layers = []
    for attention in stack:
        fused = discard(fuse(attention, fusion), ratio)
        fused_layers.append(fused)
        a = (fused + np.eye(L)) / 2
        sums = a.sum(-1)
        a = a / sums[None, :] if vit_explain_broadcast else a / sums[:, None]
        result = a @ result
    return result, np.stack(fused_layers)


def rollout_torch_check(stack, fusion, ratio):
    """Independent torch cross-check on a batch of one: discarding through torch.topk(largest=False)
    on a view, and the normalization as the literal [1, L, L] / [1, L] broadcast, to confirm the
    numpy version (and which axis vit-explain's division runs along) on inputs without ties."""
    L = stack.shape[-1]
    eye = torch.eye(L, dtype=torch.float64)
    product = eye.clone()
    for layer in torch.from_numpy(stack).unsqueeze(1):          # [heads, L, L] -> [1, heads, L, L]
        reduced = getattr(layer, fusion)(dim=1)
        heads = reduced if fusion == "mean" else reduced.values  # [1, L, L]
        view = heads.reshape(1, L * L)                           # shares storage with `heads`
        smallest = torch.topk(view, int(L * L * ratio), dim=-1, largest=False).indices
        view[0, smallest[smallest != 0]] = 0.0
        step = 0.5 * (heads + eye)
        step = step / step.sum(-1)                               # [1, L, L] / [1, L]: divides column j by row j's sum
        product = step @ product
    return product[0].numpy()


rollout_cases = []


def add_rollout(name, stack, fusion, ratio, causal):
    exact, fused = rollout(stack, fusion, ratio, vit_explain_broadcast=False)
    literal, _ = rollout(stack, fusion, ratio, vit_explain_broadcast=True)
    assert np.allclose(literal, rollout_torch_check(stack, fusion, ratio), atol=1e-12), name
    assert np.allclose(exact.sum(-1), 1, atol=1e-12), name
    if causal:
        assert np.allclose(np.triu(exact, 1), 0), name
    rollout_cases.append({"name": name, "causal": causal, "headFusion": fusion, "discardRatio": ratio,
                          "discardCount": int(stack.shape[-1] ** 2 * ratio),
                          "attention": nested(stack), "fusedAfterDiscard": nested(fused),
                          "rollout": nested(exact), "rolloutVitExplain": nested(literal)})


encoder_stack = random_attention(3, 4, 6)
for fusion in ["mean", "max", "min"]:
    for ratio in [0.0, 0.5]:
        add_rollout(f"encoder L6 3 layers 4 heads {fusion} discard {ratio}", encoder_stack, fusion, ratio, False)
causal_stack = random_attention(2, 3, 5, causal=True)
add_rollout("causal L5 2 layers 3 heads mean discard 0", causal_stack, "mean", 0.0, True)

# ---------------------------------------------------------------- 2. flow

def attention_flow(stack):
    layers, _, L, _ = stack.shape
    a = stack.mean(1) + np.eye(L)[None]
    a = a / a.sum(-1, keepdims=True)
    nodes = (layers + 1) * L
    adj = np.zeros((nodes, nodes))
    for l in range(layers):
        adj[(l + 1) * L:(l + 2) * L, l * L:(l + 1) * L] = a[l]
    G = nx.from_numpy_array(adj, create_using=nx.DiGraph)
    nx.set_edge_attributes(G, {(u, v): adj[u, v] for u, v in G.edges}, "capacity")
    raw = np.zeros((layers, L, L))
    for m in range(1, layers + 1):
        for i in range(L):
            for j in range(L):
                value = nx.maximum_flow_value(G, m * L + i, j, flow_func=nx.algorithms.flow.edmonds_karp)
                assert abs(value - nx.maximum_flow_value(G, m * L + i, j)) < 1e-12
                raw[m - 1, i, j] = value
    return a, raw, raw / raw.sum(-1, keepdims=True)


flow_cases = []
for name, stack, causal in [("encoder L4 2 layers 2 heads", random_attention(2, 2, 4), False),
                            ("causal L4 2 layers 2 heads", random_attention(2, 2, 4, causal=True), True)]:
    a, raw, flow = attention_flow(stack)
    # one layer: the flow from (1, i) to input j is the single edge's capacity a_0[i][j]
    assert np.allclose(raw[0], a[0], atol=1e-12)
    if causal:
        assert np.allclose(np.triu(flow[-1], 1), 0)
    flow_cases.append({"name": name, "causal": causal, "attention": nested(stack),
                       "residualAttention": nested(a), "flowRaw": nested(raw), "flow": nested(flow)})

# ---------------------------------------------------------------- 3. IG and gradient x input

D, HEADS, FF, L, CLASSES, TARGET = 8, 2, 16, 5, 3, 1


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation="relu",
                                                  batch_first=True, norm_first=False)
        self.classifier = nn.Linear(D, CLASSES)

    def forward(self, x):
        return self.classifier(self.encoder(x).mean(dim=1))


model = Classifier()
with torch.no_grad():
    for p in model.parameters():
        # LayerNorm starts at weight 1 / bias 0: perturb so the goldens exercise them
        if p.dim() == 1 and torch.all(p == p.flatten()[0]):
            p.add_(0.5 * torch.randn_like(p))
        p.copy_(p.float().double())
model = model.double().eval()
x = torch.from_numpy(f32(rng.standard_normal((1, L, D))))
baseline = torch.zeros_like(x)
with torch.no_grad():
    logits_x, logits_b = model(x), model(baseline)

ig = IntegratedGradients(model)
ig_cases = []
for method in ["riemann_trapezoid", "gausslegendre", "riemann_middle"]:
    for steps in [50, 200]:
        attr, delta = ig.attribute(x, baselines=baseline, target=TARGET, n_steps=steps, method=method,
                                   return_convergence_delta=True)
        completeness = attr.sum().item() - (logits_x[0, TARGET] - logits_b[0, TARGET]).item()
        assert abs(completeness - delta.item()) < 1e-10
        step_sizes, alphas = (f(steps) for f in approximation_parameters(method))
        # the same sum written out: sum_k w_k * grad f(b + alpha_k (x - b)) * (x - b)
        xs = torch.cat([baseline + al * (x - baseline) for al in alphas]).requires_grad_(True)
        grads, = torch.autograd.grad(model(xs)[:, TARGET].sum(), xs)
        manual = (torch.tensor(step_sizes, dtype=torch.float64).view(-1, 1, 1) * grads).sum(0, keepdim=True) * (x - baseline)
        assert torch.allclose(manual, attr, atol=1e-12), method
        ig_cases.append({"method": method, "steps": steps, "alphas": compact(alphas), "stepSizes": compact(step_sizes),
                         "attributions": nested(attr[0]), "completenessError": float(f"{completeness:.9g}")})

# textbook trapezoid: alphas k/(n-1), weights 1/(n-1) with both ends halved (weights sum to 1;
# Captum's riemann_trapezoid uses weights 1/n, halved ends, which sum to (n-1)/n)
textbook = []
for steps in [50, 200]:
    alphas = np.linspace(0, 1, steps)
    weights = np.full(steps, 1 / (steps - 1)); weights[[0, -1]] /= 2
    xs = torch.cat([baseline + float(al) * (x - baseline) for al in alphas]).requires_grad_(True)
    grads, = torch.autograd.grad(model(xs)[:, TARGET].sum(), xs)
    attr = (torch.from_numpy(weights).view(-1, 1, 1) * grads).sum(0, keepdim=True) * (x - baseline)
    completeness = attr.sum().item() - (logits_x[0, TARGET] - logits_b[0, TARGET]).item()
    textbook.append({"method": "trapezoid (weights 1/(n-1))", "steps": steps, "attributions": nested(attr[0]),
                     "completenessError": float(f"{completeness:.9g}")})

xg = x.clone().requires_grad_(True)
grad_x, = torch.autograd.grad(model(xg)[0, TARGET], xg)
grad_times_input = x * grad_x

# ---------------------------------------------------------------- 4. gradient-weighted attention

enc = model.encoder


def explicit_forward(x, keep):
    """The encoder layer (post-norm, relu) written out; `keep` receives the attention weights."""
    B, n, E = x.shape
    dh = E // HEADS
    qkv = F.linear(x, enc.self_attn.in_proj_weight, enc.self_attn.in_proj_bias)
    q, k, v = (t.view(B, n, HEADS, dh).transpose(1, 2) for t in qkv.split(E, dim=-1))
    A = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
    A.retain_grad()
    keep.append(A)
    context = (A @ v).transpose(1, 2).reshape(B, n, E)
    h = enc.norm1(x + enc.self_attn.out_proj(context))
    h = enc.norm2(h + enc.linear2(F.relu(enc.linear1(h))))
    return model.classifier(h.mean(dim=1)), h


kept = []
logits_explicit, hidden_explicit = explicit_forward(x, kept)
A = kept[0]
with torch.no_grad():
    assert (hidden_explicit - enc(x)).abs().max() < 1e-12
    assert (logits_explicit - logits_x).abs().max() < 1e-12
    _, module_weights = enc.self_attn(x, x, x, need_weights=True, average_attn_weights=False)
    assert (module_weights - A).abs().max() < 1e-12
logits_explicit[0, TARGET].backward()
dA = A.grad[0]
relevance = (A[0] * dA).clamp(min=0).mean(0)

# ---------------------------------------------------------------- write

state = {k: nested(v) for k, v in model.state_dict().items()}
OUT.write_text(json.dumps({
    "generator": "scripts/goldens/generate_explain.py", "torch": torch.__version__, "captum": captum.__version__,
    "networkx": nx.__version__, "numpy": np.__version__,
    "notes": [
        "Nested lists; shapes are given by nesting. Attention inputs are float32-representable, results float64 to 9 significant digits.",
        "rollout: per layer fuse heads (mean/max/min); zero the int(L*L*discardRatio) smallest entries of the flattened fused "
        "matrix except flat index 0 ([0][0]) - if index 0 is among them only discardCount-1 are zeroed (vit-explain's "
        "indices[indices != 0]); a = (fused + I)/2; `rollout` divides each row i by row i's sum (row-stochastic), "
        "`rolloutVitExplain` divides a[i][j] by the sum of row j (vit-explain's `a / a.sum(dim=-1)` broadcast on [1,L,L]); "
        "result = a_layer @ result from result = I, layers in order 0..N-1. fusedAfterDiscard[layer] is the fused matrix after discarding.",
        "rollout with cross-attention is skipped: a cross-attention map is [Lq][Lk], the residual identity and the chain product "
        "of square matrices are undefined there, so no cross case is recorded.",
        "flow: residualAttention[l] = (mean over heads + I) with each row divided by its sum. Graph nodes layer*L + position "
        "(layer 0 = inputs); edge (l+1)*L+i -> l*L+j with capacity residualAttention[l][i][j] (no edge for 0). "
        "flowRaw[m-1][i][j] = max-flow value from source node (m, i) to sink node (0, j), m = 1..N; flow = flowRaw with each "
        "row divided by its sum (compute_flows). flow[N-1] is the top layer's output-to-input matrix.",
        "ig: model = TransformerEncoderLayer(8, 2, dim_feedforward 16, dropout 0, relu, batch_first, norm_first False, eps 1e-5) "
        "-> mean over positions -> Linear(8, 3); state dict keys as PyTorch names them (encoder.*, classifier.*), float64 "
        "computation. Baseline zeros, target class 1. attributions[i][d] = (x - b)[i][d] * sum_k stepSizes[k] * "
        "d logit[target]/dx at b + alphas[k](x - b). completenessError = sum(attributions) - (logits(x)[target] - logits(b)[target]). "
        "Captum's riemann_trapezoid has alphas linspace(0,1,n) and step sizes 1/n with the ends halved (they sum to (n-1)/n, "
        "so its completeness error is about -(f(x)-f(b))/n); `igTextbookTrapezoid` uses 1/(n-1) with halved ends. "
        "riemann_middle: alphas (k+0.5)/n, step sizes 1/n. gausslegendre: numpy leggauss nodes/weights mapped to [0,1].",
        "gradientTimesInput = x * d logit[target]/dx at x.",
        "gradientWeightedAttention: A = softmax(q k^T / sqrt(4)) per head from in_proj (q, k, v = rows 0-7, 8-15, 16-23), "
        "equal to nn.MultiheadAttention's need_weights=True, average_attn_weights=False weights; dA = d logit[target]/dA; "
        "relevance = mean over heads of max(A * dA, 0).",
    ],
    "rollout": rollout_cases,
    "flow": flow_cases,
    "model": {"config": {"modelDimension": D, "heads": HEADS, "feedForwardDimension": FF, "activation": "relu",
                         "normFirst": False, "layerNormEps": enc.norm1.eps, "classes": CLASSES, "pooling": "mean"},
              "state": state},
    "input": nested(x[0]), "baseline": nested(baseline[0]), "target": TARGET,
    "logits": nested(logits_x[0]), "baselineLogits": nested(logits_b[0]),
    "ig": ig_cases, "igTextbookTrapezoid": textbook,
    "gradientTimesInput": nested(grad_times_input[0]), "inputGradient": nested(grad_x[0]),
    "gradientWeightedAttention": {"attention": nested(A[0]), "attentionGradient": nested(dA), "relevance": nested(relevance)},
}, separators=(",", ":")))
print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")
for c in ig_cases + textbook:
    print(f"  {c['method']:>28} n={c['steps']:<4} completeness error {c['completenessError']:+.3e}")
