#!/usr/bin/env python3
"""Side-by-side: llama.cpp (through llama-cpp-python) and Attend running SmolLM2-135M-Instruct from the
same Q4_1 GGUF file on the same machine and threads. Measures, on 1 and 2 threads:

- prompt processing of 512 tokens (tokens/s; one batch of 512: n_batch = n_ubatch = 512),
- decoding of 128 tokens after a 32-token prompt (tokens/s; greedy argmax over the logits each step),
- time to first token for a 32-token prompt (ms: prompt evaluation plus choosing the first token),
- resident memory: VmRSS after load, VmRSS and VmHWM (peak) after generation, from /proc/self/status.

Each measurement runs in a fresh process (so that memory is that run's own); llama.cpp and Attend
processes alternate, 3 rounds, and the best round counts (highest rate, lowest time; memory: the lowest
peak). llama.cpp runs with n_ctx = 1024, its default f16 KV cache and no flash attention (the
llama-cpp-python defaults); the model file is memory-mapped, so its resident pages count in VmRSS.
The llama.cpp process is a Python interpreter: its memory includes Python and numpy (≈ "rss_before_load").

Attend's side runs its benchmark binary (the same measurements: random token ids, fresh cache)
    Benchmarks/.build/release/attend-benchmarks llm --model GGUF --threads T --runs 1 --prompt-tokens 512 --decode-tokens 128 --json --batch-sizes ""
and reads one JSON object with prompt_tokens_per_second, decode_tokens_per_second,
time_to_first_token_ms and peak_resident_bytes (see measure_attend). If the binary is missing or the
command fails, it prints "attend: not available" and still reports llama.cpp. This script builds
nothing: build Attend's benchmarks first (swift build -c release --package-path Benchmarks).

    venv/bin/pip install llama-cpp-python     # CMAKE_ARGS="-DGGML_NATIVE=ON" to build for this CPU
    venv/bin/python scripts/compare_llm_with_llama_cpp.py [GGUF] [--threads 1 2] [--rounds 3]
        [--attend-bin Benchmarks/.build/release/attend-benchmarks] [--json results.json]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_GGUF = "~/.cache/attend/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT_TOKENS, DECODE_TOKENS, TTFT_PROMPT_TOKENS, N_CTX, N_BATCH = 512, 128, 32, 1024, 512

TEXT = ("The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined "
        "movable metal type, oil-based ink and a wooden screw press into a system that could produce books far "
        "faster than any scribe. Within fifty years, presses were operating in more than two hundred European "
        "cities, and millions of volumes had been printed. Cheaper books spread literacy, helped standardize "
        "languages, and allowed new ideas in science and religion to travel quickly. ")


def proc_status():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) * 1024   # kB → bytes
    return fields


# --- llama.cpp: one measurement round in this (child) process ---------------------------------------
def llama_worker(gguf, threads):
    import numpy as np
    import llama_cpp

    before = proc_status()
    start = time.perf_counter()
    llm = llama_cpp.Llama(model_path=gguf, n_ctx=N_CTX, n_batch=N_BATCH, n_ubatch=N_BATCH, n_threads=threads,
                          n_threads_batch=threads, logits_all=False, verbose=False)
    load_s = time.perf_counter() - start
    after_load = proc_status()
    n_vocab = llm.n_vocab()
    ids = llm.tokenize(TEXT.encode() * 8, add_bos=False, special=False)
    prompt, short = ids[:PROMPT_TOKENS], ids[:TTFT_PROMPT_TOKENS]
    assert len(prompt) == PROMPT_TOKENS

    def clear():
        llm.reset()
        llm._ctx.kv_cache_clear()      # reset() alone keeps the KV cache of a non-recurrent model

    def last_logits():
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,))

    clear()                            # warm-up: first decodes allocate compute buffers
    llm.eval(prompt)
    llm.eval([int(np.argmax(last_logits()))])
    clear()
    llm.eval(short[:1])
    clear()

    start = time.perf_counter()
    llm.eval(prompt)
    prompt_s = time.perf_counter() - start
    clear()

    start = time.perf_counter()
    llm.eval(short)
    token = int(np.argmax(last_logits()))
    ttft_s = time.perf_counter() - start

    start = time.perf_counter()
    for _ in range(DECODE_TOKENS):
        llm.eval([token])
        token = int(np.argmax(last_logits()))
    decode_s = time.perf_counter() - start
    after = proc_status()
    print(json.dumps({
        "prompt_tokens_per_second": PROMPT_TOKENS / prompt_s,
        "decode_tokens_per_second": DECODE_TOKENS / decode_s,
        "time_to_first_token_ms": ttft_s * 1e3,
        "peak_resident_bytes": after["VmHWM"],
        "rss_before_load": before["VmRSS"], "rss_after_load": after_load["VmRSS"],
        "rss_after_generation": after["VmRSS"], "load_ms": load_s * 1e3}))


def measure_llama_cpp(gguf, threads):
    out = subprocess.run([sys.executable, __file__, gguf, "--llama-worker", str(threads)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- Attend ----------------------------------------------------------------------------------------
ATTEND_KEYS = ("prompt_tokens_per_second", "decode_tokens_per_second", "time_to_first_token_ms",
               "peak_resident_bytes")


def measure_attend(attend_bin, gguf, threads):
    """One round of Attend's own benchmark, or None when it is not available. Expects the last line of
    stdout to be a JSON object with ATTEND_KEYS."""
    if not pathlib.Path(attend_bin).is_file():
        return None
    command = [str(attend_bin), "llm", "--model", gguf, "--threads", str(threads), "--runs", "1",
               "--prompt-tokens", str(PROMPT_TOKENS), "--decode-tokens", str(DECODE_TOKENS), "--json",
               "--batch-sizes", ""]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            print(f"attend failed ({out.returncode}): {out.stderr.strip()[-400:]}", file=sys.stderr)
            return None
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if not all(k in result for k in ATTEND_KEYS):
            print(f"attend: JSON lacks {[k for k in ATTEND_KEYS if k not in result]}", file=sys.stderr)
            return None
        return result
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as error:
        print(f"attend failed: {error}", file=sys.stderr)
        return None


def best(rounds):
    if not rounds:
        return None
    merged = dict(rounds[0])
    for key in rounds[0]:
        values = [r[key] for r in rounds]
        merged[key] = max(values) if key.endswith("per_second") else min(values)
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=os.path.expanduser(DEFAULT_GGUF))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--attend-bin", default=os.environ.get("ATTEND_BIN", str(ROOT / "Benchmarks/.build/release/attend-benchmarks")),
                        help="Attend's benchmark binary (build it with `swift build -c release --package-path Benchmarks`)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--llama-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    gguf = str(pathlib.Path(args.model).expanduser())
    if args.llama_worker:
        return llama_worker(gguf, args.llama_worker)

    results = {}
    attend_ok = True
    for threads in args.threads:
        llama_rounds, attend_rounds = [], []
        for _ in range(args.rounds):       # alternate the two so that machine noise hits both
            if attend_ok:
                a = measure_attend(args.attend_bin, gguf, threads)
                if a is None:
                    attend_ok = False
                    print("attend: not available")
                else:
                    attend_rounds.append(a)
            llama_rounds.append(measure_llama_cpp(gguf, threads))
        results[threads] = {"llama_cpp": best(llama_rounds), "attend": best(attend_rounds) if attend_ok else None,
                            "llama_cpp_rounds": llama_rounds, "attend_rounds": attend_rounds}

    import llama_cpp
    print(f"\nSmolLM2-135M-Instruct Q4_1, llama-cpp-python {llama_cpp.__version__}, n_ctx {N_CTX}, n_batch {N_BATCH}, "
          f"best of {args.rounds}, {os.cpu_count()} CPUs\n")
    rows = [("prompt processing, 512 tokens (tokens/s)", "prompt_tokens_per_second", 1, "{:.1f}"),
            ("decoding, 128 tokens (tokens/s)", "decode_tokens_per_second", 1, "{:.1f}"),
            ("time to first token, 32-token prompt (ms)", "time_to_first_token_ms", 1, "{:.1f}"),
            ("peak resident memory (MiB)", "peak_resident_bytes", 2 ** -20, "{:.1f}")]
    print("| measurement | threads | llama.cpp | Attend | Attend / llama.cpp |")
    print("|---|---:|---:|---:|---:|")
    for label, key, scale, fmt in rows:
        for threads in args.threads:
            theirs = results[threads]["llama_cpp"][key] * scale
            ours = results[threads]["attend"]
            ours = None if ours is None else ours[key] * scale
            ratio = f"{ours / theirs:.2f}×" if ours is not None else "–"
            print(f"| {label} | {threads} | {fmt.format(theirs)} | "
                  f"{fmt.format(ours) if ours is not None else 'not available'} | {ratio} |")
    print("\n(ratios are Attend / llama.cpp: above 1 is better for the rates, below 1 for time and memory)")
    print("\nllama.cpp resident memory (MiB; the process includes Python and numpy):")
    for threads in args.threads:
        r = results[threads]["llama_cpp"]
        print(f"  {threads} thread(s): before load {r['rss_before_load'] / 2**20:.1f}, after load "
              f"{r['rss_after_load'] / 2**20:.1f}, after generation {r['rss_after_generation'] / 2**20:.1f}, "
              f"peak (VmHWM) {r['peak_resident_bytes'] / 2**20:.1f}; load {r['load_ms']:.0f} ms")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
