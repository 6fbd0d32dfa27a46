#!/usr/bin/env python3
"""Side-by-side timing of torch.nn.MultiheadAttention / TransformerEncoderLayer and Attend's
layers on the same shapes, machine and run; prints a Markdown table with the speed ratio.

    venv/bin/python scripts/compare_layers_with_pytorch.py [--threads 2] [--budget 1.0]

Shapes: E = 512, 8 heads, batch 4, length 512, feed-forward 2048 (post-norm, ReLU, no dropout).
Also reports Attend's cost of one cached decoding step with 1,024 cached tokens (PyTorch's
nn.TransformerDecoderLayer has no KV cache to compare with).
"""
import argparse
import json
import pathlib
import subprocess
import time

import torch
import torch.nn as nn

ROOT = pathlib.Path(__file__).resolve().parents[1]


def median_time(step, budget):
    step()
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        step()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return samples[len(samples) // 2] * 1e3


def torch_times(threads, budget, B=4, L=512, E=512, H=8, F=2048):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(B, L, E)
    mha = nn.MultiheadAttention(E, H, batch_first=True).eval()
    layer = nn.TransformerEncoderLayer(E, H, F, dropout=0.0, batch_first=True).eval()

    def mha_forward():
        with torch.no_grad():
            mha(x, x, x, need_weights=False)

    def encoder_step():
        layer.zero_grad(set_to_none=True)
        layer(x).sum().backward()

    return {"mha_forward_ms": median_time(mha_forward, budget), "encoder_forward_backward_ms": median_time(encoder_step, budget)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")],
                   check=True, stdout=subprocess.DEVNULL)
    binary = ROOT / "Benchmarks/.build/release/attend-benchmarks"
    print("| measurement | threads | PyTorch | Attend | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for threads in args.threads:
        out = subprocess.check_output([str(binary), "layers", "--json", "--budget", str(args.budget),
                                       "--threads", str(threads)], text=True)
        attend = {r["name"]: r["value"] for r in map(json.loads, out.splitlines())}
        theirs = torch_times(threads, args.budget)
        for name, label in [("mha_forward_ms", "MultiheadAttention forward (ms)"),
                            ("encoder_forward_backward_ms", "encoder layer forward+backward (ms)")]:
            print(f"| {label} | {threads} | {theirs[name]:.2f} | {attend[name]:.2f} | {theirs[name] / attend[name]:.2f}× |")
        print(f"| cached decoding step, 1,024 tokens (µs) | {threads} | — | {attend['decode_step_us']:.0f} | — |")


if __name__ == "__main__":
    main()
