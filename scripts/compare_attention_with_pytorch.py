#!/usr/bin/env python3
"""Side-by-side timing of PyTorch's CPU scaled_dot_product_attention and Attend's fused kernel
on the same shapes, machine and run; prints a Markdown table with the speed ratio.

    venv/bin/python scripts/compare_attention_with_pytorch.py [--threads 1 2] [--budget 1.0]

Needs torch in the venv (pip install torch==2.13.0+cpu) and builds Attend's release benchmarks.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHAPES = ["1,8,128,64", "1,8,512,64", "1,8,1024,64", "4,12,256,64", "1,8,4096,64"]


def torch_time(shape, causal, threads, budget, backward=False):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    b, h, l, d = shape
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(b, h, l, d, generator=g) for _ in range(3))
    if backward:
        q, k, v = (x.requires_grad_(True) for x in (q, k, v))

    def step():
        if backward:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
            torch.autograd.grad(out.sum(), (q, k, v))
        else:
            with torch.no_grad():
                F.scaled_dot_product_attention(q, k, v, is_causal=causal)

    step()
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        step()
        samples.append(time.perf_counter() - t0)
        if len(samples) >= 1000:
            break
    samples.sort()
    return samples[len(samples) // 2] * 1e3


def torch_memory(shape):
    """Extra peak RSS of one forward, measured in a fresh process (VmHWM reset via clear_refs)."""
    code = f"""
import torch, torch.nn.functional as F
torch.set_num_threads(2)
q, k, v = (torch.randn(*{shape}) for _ in range(3))
def rss(key):
    for line in open('/proc/self/status'):
        if line.startswith(key): return int(line.split()[1]) * 1024
open('/proc/self/clear_refs', 'w').write('5')
before = rss('VmRSS:')
with torch.no_grad(): out = F.scaled_dot_product_attention(q, k, v)
print((rss('VmHWM:') - before) / 1048576)
"""
    return float(subprocess.check_output([sys.executable, "-c", code], text=True).strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument("--shapes", nargs="+", default=SHAPES)
    args = parser.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")],
                   check=True, stdout=subprocess.DEVNULL)
    binary = ROOT / "Benchmarks/.build/release/attend-benchmarks"
    runs = [("forward", args.shapes, "forward"), ("forward+backward", ["1,8,1024,64"], "backward")]
    rows = []
    for label, shapes, passes in runs:
        out = subprocess.check_output([str(binary), "attention", "--json", "--passes", passes, "--budget", str(args.budget),
                                       "--threads", *map(str, args.threads), "--shapes", *shapes], text=True)
        for line in out.splitlines():
            r = json.loads(line)
            shape = tuple(int(x) for x in r["shape"].split(","))
            t = torch_time(shape, r["causal"], r["threads"], args.budget, backward=(passes == "backward"))
            rows.append((r["shape"], r["causal"], r["threads"], label, t, r["ms"]))
    print("| shape (B,H,L,D) | causal | threads | pass | PyTorch ms | Attend ms | speed-up |")
    print("|---|---|---:|---|---:|---:|---:|")
    for shape, causal, threads, label, t, a in rows:
        print(f"| {shape} | {'yes' if causal else 'no'} | {threads} | {label} | {t:.3f} | {a:.3f} | {t / a:.2f}× |")
    mem_shape = [1, 8, 16384, 64]
    attend_mem = json.loads(subprocess.check_output([str(binary), "attention-memory", "--json",
                                                     "--shape", ",".join(map(str, mem_shape))], text=True))["extraMiB"]
    print(f"\nExtra peak memory of one forward at {tuple(mem_shape)} (output included): "
          f"PyTorch {torch_memory(mem_shape):.1f} MiB, Attend {attend_mem:.1f} MiB")


if __name__ == "__main__":
    main()
