#!/usr/bin/env python3
"""Side by side, same machine and run: the bus bandwidth of AttendDistributed's
ProcessGroup.allReduce(.sum) and mpi4py's Allreduce (same Open MPI) for float32 buffers of
1 KiB … 64 MiB between N ranks (default 2), with the ratio. The two are launched alternately,
`--rounds` times each (default 3), and each keeps its best rate per size, so that the machine's
moments of noise fall on both.

    venv/bin/python scripts/compare_allreduce_with_mpi4py.py [--ranks 2] [--rounds 3]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIZES = [1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26]
MPI4PY = """
import json, time, numpy as np
from mpi4py import MPI
comm = MPI.COMM_WORLD
for size in %s:
    x = np.ones(size // 4, dtype=np.float32); y = np.empty_like(x); best = float("inf")
    for _ in range(20):
        comm.Barrier(); t0 = time.perf_counter(); comm.Allreduce(x, y, op=MPI.SUM); best = min(best, time.perf_counter() - t0)
    n = comm.Get_size(); factor = 2 * (n - 1) / n if n > 1 else 1
    if comm.Get_rank() == 0: print(json.dumps({"bytes": size, "gbps": factor * size / best / 1e9}))
""" % SIZES


def launch(ranks, command):
    environment = dict(os.environ, OMPI_MCA_btl_vader_single_copy_mechanism="none", ATTEND_NUM_THREADS="1")
    out = subprocess.check_output(["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", str(ranks),
                                   *command], text=True, env=environment)
    return {r["bytes"]: r["gbps"] for r in map(json.loads, (line for line in out.splitlines() if line.startswith("{")))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")], check=True,
                   stdout=subprocess.DEVNULL)
    attend, theirs = {}, {}
    for _ in range(args.rounds):
        for best, command in [(attend, [str(ROOT / "Benchmarks/.build/release/attend-benchmarks"), "allreduce",
                                        "--sizes", *map(str, SIZES)]),
                              (theirs, [sys.executable, "-c", MPI4PY])]:
            for size, rate in launch(args.ranks, command).items():
                best[size] = max(best.get(size, 0), rate)
    print(f"{args.ranks} ranks, bus bandwidth, best of {args.rounds} alternating launches each")
    print("| buffer | mpi4py GB/s | Attend GB/s | Attend / mpi4py |")
    print("|---:|---:|---:|---:|")
    for size in SIZES:
        label = f"{size >> 20} MiB" if size >= 1 << 20 else f"{size >> 10} KiB"
        print(f"| {label} | {theirs[size]:.2f} | {attend[size]:.2f} | {attend[size] / theirs[size]:.2f}× |")


if __name__ == "__main__":
    main()
