#!/usr/bin/env python3
"""Side-by-side training speed: AdamW steps per second of a 4+4-layer, 256-wide encoder–decoder
Transformer (8 heads, FFN 1024, vocabulary 1000, dropout 0.1) on batches of 32 × 64 tokens,
PyTorch eager against Attend, same threads and machine, one run.

    venv/bin/python scripts/compare_training_with_pytorch.py [--threads 2] [--steps 10]
"""
import argparse
import json
import math
import pathlib
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]


class Seq2Seq(nn.Module):
    def __init__(self, vocabulary=1000, d=256):
        super().__init__()
        self.d = d
        self.source_embedding = nn.Embedding(vocabulary, d, padding_idx=0)
        self.target_embedding = nn.Embedding(vocabulary, d, padding_idx=0)
        self.transformer = nn.Transformer(d, 8, 4, 4, 1024, dropout=0.1, batch_first=True, norm_first=True)
        self.output = nn.Linear(d, vocabulary)
        position = torch.arange(128).unsqueeze(1)
        div = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
        pe = torch.zeros(128, d)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(position * div), torch.cos(position * div)
        self.register_buffer("pe", pe)

    def forward(self, src, tgt):
        mask = torch.triu(torch.full((tgt.shape[1], tgt.shape[1]), float("-inf")), 1)
        s = self.source_embedding(src) * math.sqrt(self.d) + self.pe[: src.shape[1]]
        t = self.target_embedding(tgt) * math.sqrt(self.d) + self.pe[: tgt.shape[1]]
        return self.output(self.transformer(s, t, tgt_mask=mask))


def torch_rate(threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Seq2Seq().train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        src = torch.randint(1, 1000, (32, 64))
        tgt = torch.randint(1, 1000, (32, 65))
        loss = F.cross_entropy(model(src, tgt[:, :-1]).reshape(-1, 1000), tgt[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    return 1 / times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")], check=True, stdout=subprocess.DEVNULL)
    attend = json.loads(subprocess.check_output([str(ROOT / "Benchmarks/.build/release/attend-benchmarks"), "training", "--json",
                                                 "--threads", str(args.threads), "--steps", str(args.steps)], text=True))
    theirs = torch_rate(args.threads, args.steps)
    print(f"| training ({args.threads} threads, 32 × 64 tokens) | PyTorch eager | Attend | speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| steps/s | {theirs:.2f} | {attend['steps_per_second']:.2f} | {attend['steps_per_second'] / theirs:.2f}× |")


if __name__ == "__main__":
    main()
