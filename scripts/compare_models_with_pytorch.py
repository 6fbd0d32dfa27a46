#!/usr/bin/env python3
"""Side-by-side forward times of Attend's ViT, LXMERT and XLNet and Hugging Face transformers'
(PyTorch CPU, default attention) on the same configurations, inputs and threads, in one run:
the small test configurations and ViT-B/16 at batch 8.

    venv/bin/python scripts/compare_models_with_pytorch.py [--threads 2] [--budget 1.0]
"""
import argparse
import json
import pathlib
import subprocess
import time

import torch
from transformers import LxmertConfig, LxmertModel, ViTConfig, ViTModel, XLNetConfig, XLNetLMHeadModel

ROOT = pathlib.Path(__file__).resolve().parents[1]


def median_ms(step, budget, minimum=3):
    with torch.no_grad():
        step()
        samples, start = [], time.perf_counter()
        while len(samples) < minimum or time.perf_counter() - start < budget:
            t0 = time.perf_counter()
            step()
            samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2] * 1e3


def torch_times(budget):
    torch.manual_seed(0)
    small_vit = ViTModel(ViTConfig(image_size=16, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2,
                                   num_attention_heads=4, intermediate_size=64), add_pooling_layer=False).eval()
    small_pixels = torch.randn(2, 3, 16, 16)
    base_vit = ViTModel(ViTConfig(), add_pooling_layer=False).eval()
    pixels = torch.randn(8, 3, 224, 224)
    lxmert = LxmertModel(LxmertConfig(vocab_size=50, hidden_size=16, num_attention_heads=2, intermediate_size=32, l_layers=2,
                                      x_layers=2, r_layers=1, visual_feat_dim=12, visual_pos_dim=4,
                                      max_position_embeddings=20)).eval()
    ids = torch.tensor([[2, 7, 8, 9, 10, 3], [2, 11, 12, 3, 0, 0]])
    text_mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2])
    feats, boxes = torch.randn(2, 5, 12), torch.rand(2, 5, 4)
    visual_mask = torch.tensor([[1] * 5, [1] * 3 + [0] * 2])
    xlnet = XLNetLMHeadModel(XLNetConfig(vocab_size=40, d_model=16, n_layer=2, n_head=2, d_inner=32, dropout=0.0,
                                         mem_len=None, use_mems_eval=False)).eval()
    orders = [[3, 0, 5, 1, 4, 2], [1, 4, 0, 2, 3, 5]]
    perm = torch.zeros(2, 6, 6)
    for b, order in enumerate(orders):
        rank = {t: r for r, t in enumerate(order)}
        for i in range(6):
            for j in range(6):
                perm[b, i, j] = float(rank[j] >= rank[i])
    mapping = torch.zeros(2, 2, 6)
    for b, ts in enumerate([[2, 4], [5, 3]]):
        for p, t in enumerate(ts):
            mapping[b, p, t] = 1.0
    xl_ids = torch.tensor([[5, 9, 13, 17, 21, 25], [4, 8, 12, 16, 20, 0]])
    return {
        "vit_small": median_ms(lambda: small_vit(pixel_values=small_pixels), budget),
        "vit_b16_batch8": median_ms(lambda: base_vit(pixel_values=pixels), budget),
        "lxmert_small": median_ms(lambda: lxmert(input_ids=ids, visual_feats=feats, visual_pos=boxes, attention_mask=text_mask,
                                                 visual_attention_mask=visual_mask), budget),
        "xlnet_small": median_ms(lambda: xlnet(input_ids=xl_ids, attention_mask=torch.tensor([[1] * 6, [1] * 5 + [0]]),
                                               perm_mask=perm, target_mapping=mapping,
                                               token_type_ids=torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]])), budget),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")], check=True,
                   stdout=subprocess.DEVNULL)
    out = subprocess.check_output([str(ROOT / "Benchmarks/.build/release/attend-benchmarks"), "models", "--json",
                                   "--threads", str(args.threads), "--budget", str(args.budget)], text=True)
    attend = {r["name"]: r["ms"] for r in map(json.loads, out.splitlines())}
    torch.set_num_threads(args.threads)
    theirs = torch_times(args.budget)
    labels = {"vit_small": "ViT, small test config (batch 2, 16×16, patch 4)", "vit_b16_batch8": "ViT-B/16, batch 8, 224×224",
              "lxmert_small": "LXMERT, small test config", "xlnet_small": "XLNet two-stream, small test config"}
    print(f"| forward ({args.threads} threads) | transformers (ms) | Attend (ms) | speed-up |")
    print("|---|---:|---:|---:|")
    for name, label in labels.items():
        print(f"| {label} | {theirs[name]:.3f} | {attend[name]:.3f} | {theirs[name] / attend[name]:.2f}× |")


if __name__ == "__main__":
    main()
