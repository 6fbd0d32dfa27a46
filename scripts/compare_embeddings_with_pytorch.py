#!/usr/bin/env python3
"""Side-by-side: sentence-transformers (PyTorch CPU) and Attend embedding the same 1,000
sentences of 10–40 words with all-MiniLM-L6-v2, batch 32, on the same threads and machine.
Prints throughput, single-sentence latency and model load time, with ratios.

    venv/bin/python scripts/compare_embeddings_with_pytorch.py [MODEL_DIR] [--threads 2]
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

from benchmark_texts import sentences, timed

ROOT = pathlib.Path(__file__).resolve().parents[1]




def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=os.path.expanduser(
        os.environ.get("ATTEND_HOME", "~/.cache/attend") + "/models/all-MiniLM-L6-v2"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model_dir = pathlib.Path(args.model).expanduser()
    texts = sentences(model_dir)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(texts))
        corpus = f.name

    subprocess.run(["swift", "build", "-c", "release", "--package-path", str(ROOT / "Benchmarks")], check=True,
                   stdout=subprocess.DEVNULL)
    attend = json.loads(subprocess.check_output([str(ROOT / "Benchmarks/.build/release/attend-benchmarks"), "embeddings",
                                                 "--json", "--model", str(model_dir), "--input", corpus,
                                                 "--threads", str(args.threads)], text=True))

    import torch
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    from sentence_transformers import SentenceTransformer
    st = SentenceTransformer(str(model_dir), device="cpu")
    load_ms = (time.perf_counter() - start) * 1e3
    st.encode(texts[:64], batch_size=32)
    best = min(timed(lambda: st.encode(texts, batch_size=32)) for _ in range(3))
    single = sorted(timed(lambda s=s: st.encode([s])) for s in texts[:50])[25] * 1e3
    rows = [("throughput (sentences/s, batch 32)", 1000 / best, attend["sentences_per_second"], True),
            ("single-sentence latency (ms, median)", single, attend["single_ms"], False),
            ("model load (ms)", load_ms, attend["load_ms"], False)]
    print(f"| measurement ({args.threads} threads) | sentence-transformers | Attend | Attend advantage |")
    print("|---|---:|---:|---:|")
    for name, theirs, ours, higher_is_better in rows:
        ratio = ours / theirs if higher_is_better else theirs / ours
        print(f"| {name} | {theirs:.1f} | {ours:.1f} | {ratio:.2f}× |")
    print("\n(model load for sentence-transformers includes importing the library)")
    os.unlink(corpus)




if __name__ == "__main__":
    main()
