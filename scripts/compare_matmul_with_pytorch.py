#!/usr/bin/env python3
"""Side-by-side: torch.mm (PyTorch's CPU GEMM) and Attend's matmul (oneDNN sgemm split by Attend's
pool) on n×n·n×n, same machine and run, with this machine's FMA peak measured in the same run.
Prints GFLOP/s, the ratio and each rate as a share of the peak.

    venv/bin/python scripts/compare_matmul_with_pytorch.py [--sizes 512 1024 2048] [--threads 1 2]
"""
import argparse
import json
import pathlib
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def torch_rate(n, threads, budget=0.5):
    import torch
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    a, b = torch.rand(n, n, generator=g) * 2 - 1, torch.rand(n, n, generator=g) * 2 - 1
    torch.mm(a, b)
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        torch.mm(a, b)
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return 2 * n ** 3 / samples[len(samples) // 2] / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")],
                   check=True, stdout=subprocess.DEVNULL)
    binary = ROOT / "Benchmarks/.build/release/attend-benchmarks"
    out = subprocess.check_output([str(binary), "matmul", "--json", "--sizes", *map(str, args.sizes),
                                   "--threads", *map(str, args.threads)], text=True)
    print("| n | threads | peak GFLOP/s | torch.mm GFLOP/s | Attend GFLOP/s | Attend / torch | torch % of peak | Attend % of peak |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for line in out.splitlines():
        r = json.loads(line)
        t = torch_rate(r["n"], r["threads"])
        a, peak = r["attend"], r["peak"]
        print(f"| {r['n']} | {r['threads']} | {peak:.1f} | {t:.1f} | {a:.1f} | {a / t:.2f}× | {100 * t / peak:.0f}% | {100 * a / peak:.0f}% |")


if __name__ == "__main__":
    main()
