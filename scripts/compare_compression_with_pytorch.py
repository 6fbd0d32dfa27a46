#!/usr/bin/env python3
"""The compression trade-off, side by side in one run: all-MiniLM-L6-v2 as Attend runs it in float32,
int8 (`attend compress --int8`), with 30% of its heads pruned (`--prune-heads 0.3`, importance
measured on 128 calibration sentences) and both, beside sentence-transformers in float32 and with
PyTorch's own `quantize_dynamic` (int8 Linear layers). For 1,000 fresh sentences and a 1,000-line corpus it
prints the weights' size, the cosine of each variant's embeddings to Attend's float embeddings
(mean and minimum), how often a query's nearest corpus line stays the same, and throughput.

    venv/bin/python scripts/compare_compression_with_pytorch.py [MODEL_DIR] [--threads 2]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import numpy as np

from benchmark_texts import perturbed, sentences, timed

ROOT = pathlib.Path(__file__).resolve().parents[1]






def attend_embed(binary, model, path):
    out = subprocess.check_output([str(binary), "embed", "--model", str(model), "--input", path], text=True)
    return np.array(json.loads(out), dtype=np.float64)


def attend_speed(model, path, threads):
    out = subprocess.check_output([str(ROOT / "Benchmarks/.build/release/attend-benchmarks"), "embeddings", "--json",
                                   "--model", str(model), "--input", path, "--threads", str(threads),
                                   "--latency-samples", "5"], text=True)
    return json.loads(out)["sentences_per_second"]


def normalized(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def agreement(reference_queries, reference_corpus, queries, corpus):
    """Share of queries whose nearest corpus line (by cosine) is the same as with the reference."""
    a = np.argmax(normalized(reference_queries) @ normalized(reference_corpus).T, axis=1)
    b = np.argmax(normalized(queries) @ normalized(corpus).T, axis=1)
    return float(np.mean(a == b))


def cosines(reference, x):
    return np.sum(normalized(reference) * normalized(x), axis=1)


def weights_bytes(folder):
    return (pathlib.Path(folder) / "model.safetensors").stat().st_size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=os.path.expanduser(
        os.environ.get("ATTEND_HOME", "~/.cache/attend") + "/models/all-MiniLM-L6-v2"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model_dir = pathlib.Path(args.model).expanduser()
    work = pathlib.Path(tempfile.mkdtemp(prefix="attend-compress-"))
    queries, corpus = sentences(model_dir, 1000, seed=101), sentences(model_dir, 1000, seed=202)
    (work / "queries.txt").write_text("\n".join(queries))
    (work / "corpus.txt").write_text("\n".join(corpus))
    (work / "calibration.txt").write_text("\n".join(sentences(model_dir, 128, seed=303)))
    near = perturbed(corpus, model_dir, 0.3, seed=404)
    (work / "near.txt").write_text("\n".join(near))

    for package in [ROOT, ROOT / "Benchmarks"]:
        subprocess.run(["swift", "build", "-c", "release", "--package-path", str(package)], check=True,
                       stdout=subprocess.DEVNULL)
    attend = ROOT / ".build/release/attend"
    os.environ["ATTEND_NUM_THREADS"] = str(args.threads)
    prune = ["--prune-heads", "0.3", "--calibration", str(work / "calibration.txt")]
    folders = [("Attend float32", model_dir, None), ("Attend int8", work / "int8", ["--int8"]),
               ("Attend 30% heads pruned", work / "pruned", prune), ("Attend pruned + int8", work / "both", prune + ["--int8"])]
    for _, folder, options in folders:
        if options:
            subprocess.run([str(attend), "compress", "--model", str(model_dir), *options, "--output", str(folder)],
                           check=True, stdout=subprocess.DEVNULL)

    variants = {}
    for name, folder, _ in folders:
        variants[name] = {
            "bytes": weights_bytes(folder),
            "queries": attend_embed(attend, folder, str(work / "queries.txt")),
            "corpus": attend_embed(attend, folder, str(work / "corpus.txt")),
            "near": attend_embed(attend, folder, str(work / "near.txt")),
            "speed": attend_speed(folder, str(work / "queries.txt"), args.threads),
        }

    import torch
    import torch.nn as nn
    from sentence_transformers import SentenceTransformer
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    torch.set_num_threads(args.threads)
    float_model = SentenceTransformer(str(model_dir), device="cpu")
    int8_model = quantize_dynamic(SentenceTransformer(str(model_dir), device="cpu"),
                                  {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    torch.save(int8_model.state_dict(), work / "torch-int8.pt")
    for name, model, size in [("PyTorch float32", float_model, weights_bytes(model_dir)),
                              ("PyTorch int8 (quantize_dynamic)", int8_model, (work / "torch-int8.pt").stat().st_size)]:
        model.encode(queries[:64], batch_size=32)
        best = min(timed(lambda: model.encode(queries, batch_size=32)) for _ in range(3))
        variants[name] = {"bytes": size, "speed": len(queries) / best,
                          "queries": model.encode(queries, batch_size=32).astype(np.float64),
                          "corpus": model.encode(corpus, batch_size=32).astype(np.float64),
                          "near": model.encode(near, batch_size=32).astype(np.float64)}

    reference = variants["Attend float32"]
    base_speed = reference["speed"]
    print(f"all-MiniLM-L6-v2, 1,000 fresh sentences, 1,000-line corpus, {args.threads} threads, one run")
    print("Top-1 agreement: the share of queries whose nearest corpus line is the one Attend float finds — for")
    print("queries that are corpus lines with 30% of their words replaced (a true match exists), and for")
    print("unrelated random queries (the nearest line is a near-tie, so any change of rounding flips it).")
    print("| variant | weights | size vs float | mean cosine to Attend float | min cosine | top-1 agreement, near queries "
          "| top-1 agreement, unrelated queries | sentences/s | vs Attend float |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, v in variants.items():
        c = cosines(reference["queries"], v["queries"])
        agree = agreement(reference["queries"], reference["corpus"], v["queries"], v["corpus"])
        near_agree = agreement(reference["near"], reference["corpus"], v["near"], v["corpus"])
        print(f"| {name} | {v['bytes'] / 1e6:.1f} MB | {100 * v['bytes'] / reference['bytes']:.0f}% | {c.mean():.5f} "
              f"| {c.min():.5f} | {100 * near_agree:.1f}% | {100 * agree:.1f}% | {v['speed']:.1f} | {v['speed'] / base_speed:.2f}× |")
    shutil.rmtree(work)




if __name__ == "__main__":
    main()
