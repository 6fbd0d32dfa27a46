#!/usr/bin/env python3
"""Side-by-side HTTP benchmarks of `attend serve` against the reference servers, in one run.

Embeddings: `attend serve --embedding-model DIR` against infinity (`infinity_emb v2`) serving the same
all-MiniLM-L6-v2 folder, each in float32 and in int8 (Attend: an `attend compress --int8` copy; infinity:
`--dtype int8`), loaded by `wrk` with one POST /embeddings body at concurrency 1, 8 and 32:
requests/s and p50/p99 latency.

Generation: `attend serve --generation-model GGUF` against llama-cpp-python's OpenAI server on the same
file, with 1, 4 and 8 client threads streaming /v1/chat/completions (greedy, max_tokens 64) for a fixed
time: generated tokens per second over all streams (content chunks counted for both servers: one per
token for llama-cpp-python; ours merges a token that ends mid-character with the next, so its count is
if anything low) and the median time to the first chunk.

One server runs at a time (they would share the 2 cores), each with the same thread budget.

    python3 scripts/benchmark_server.py [--only embeddings|generation] [--duration 10] [--markdown]
        [--infinity-python /work/bench-venv/bin/python] [--llama-python venv/bin/python]

Needs: wrk (apt), the reference servers in the given Pythons (pip install "infinity-emb[server,torch]";
pip install "llama-cpp-python[server]"), and `scripts/attend model fetch` for both models.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HOME = os.environ.get("ATTEND_HOME", os.path.expanduser("~/.cache/attend"))
MINILM = os.path.join(HOME, "models", "all-MiniLM-L6-v2")
SMOLLM = os.path.join(HOME, "models", "SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct.Q4_1.gguf")
SENTENCE = "The quick brown fox jumps over the lazy dog while the children watch from the garden."
PROMPTS = ["Write a short poem about the sea.", "Explain what attention does in a Transformer.",
           "List three uses of a hammer.", "Describe a sunset in two sentences.", "What is the capital of France?",
           "Give me a recipe for pancakes.", "Why is the sky blue?", "Tell me a fact about octopuses."]

# Requests to the servers must never go through a proxy.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


class Server:
    """A server process on a loopback port, ready once `ready_path` answers 200."""

    def __init__(self, name, command, port, ready_path, env=None, timeout=300):
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)
        environment = dict(os.environ, **(env or {}))
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            environment.pop(key, None)
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=environment,
                                        start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.process.returncode}; log: {self.log.name}")
            try:
                if OPENER.open(f"http://127.0.0.1:{port}{ready_path}", timeout=2).status == 200:
                    return
            except Exception:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{name} did not become ready in {timeout} s; log: {self.log.name}")

    def post(self, path, body, timeout=120):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with OPENER.open(request, timeout=timeout) as reply:
            return json.loads(reply.read())

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def measure_each(servers, measure):
    """Starts each server in turn on a free port (together they would share the cores), runs
    `measure(name, server)` and stops it."""
    for name, start in servers.items():
        server = start(free_port())
        try:
            measure(name, server)
        finally:
            server.stop()


def wrk(url, body, connections, duration):
    """Requests/s and p50/p99 latency (ms) of POSTing `body` to `url` with `connections` open."""
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                 f"wrk.body = {json.dumps(json.dumps(body))}\n")
    script.close()
    output = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, url],
                            capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)

    def percentile(p):
        match = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", output)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {"rps": rate, "p50": percentile(50), "p99": percentile(99),
            "errors": int(errors.group(1)) if errors else 0, "socket_errors": socket_errors.group(1) if socket_errors else ""}


def bench_embeddings(args, threads_env):
    def infinity(port, dtype):
        return Server(f"infinity-{dtype}", [args.infinity_python, "-m", "infinity_emb.cli", "v2", "--model-id", MINILM,
                                            "--port", str(port), "--engine", "torch", "--device", "cpu", "--dtype", dtype,
                                            "--batch-size", "32", "--no-model-warmup", "--log-level", "warning"],
                      port, "/health", env=dict(threads_env, HF_HUB_OFFLINE="1", INFINITY_ANONYMOUS_USAGE_STATS="0"))

    # Attend also serves an int8 copy of the folder (`attend compress --int8`, cosine ≥ 0.996 to
    # float32: docs/compression.md), against infinity's float32 model and, with --infinity-int8, its own int8.
    int8_folder = os.path.join(tempfile.mkdtemp(prefix="bench-minilm-"), "minilm-int8")
    subprocess.run([args.attend, "compress", "--model", MINILM, "--int8", "--output", int8_folder], check=True, capture_output=True)
    servers = {
        "attend": lambda port: Server("attend", [args.attend, "serve", "--port", str(port), "--embedding-model", MINILM,
                                                 "--threads", str(args.threads)], port, "/health"),
        "attend-int8": lambda port: Server("attend-int8", [args.attend, "serve", "--port", str(port), "--embedding-model", int8_folder,
                                                           "--threads", str(args.threads)], port, "/health"),
        "infinity": lambda port: infinity(port, "float32"),
        "infinity-int8": lambda port: infinity(port, "int8"),
    }
    paths = {"attend": "/v1/embeddings", "attend-int8": "/v1/embeddings", "infinity": "/embeddings", "infinity-int8": "/embeddings"}
    results = {}

    def measure(name, server):
        reply = server.post(paths[name], {"input": [SENTENCE], "model": MINILM if name.startswith("infinity") else None})
        assert len(reply["data"][0]["embedding"]) == 384, reply
        for _ in range(20):                                              # warm up
            server.post(paths[name], {"input": SENTENCE, "model": reply["model"]})
        for connections in args.concurrency:
            results[(name, connections)] = wrk(f"http://127.0.0.1:{server.port}{paths[name]}",
                                               {"input": SENTENCE, "model": reply["model"]}, connections, args.duration)
            print(f"  {name:8} c={connections:<3} {results[(name, connections)]}", flush=True)

    measure_each(servers, measure)
    print()
    print("| concurrency | server | requests/s | ratio to infinity, same precision | p50 (ms) | p99 (ms) |")
    print("|" + "---|" * 6)
    for c in args.concurrency:
        for name in servers:
            r = results[(name, c)]
            base = results[("infinity-int8" if name.endswith("int8") else "infinity", c)]["rps"]
            print(f"| {c} | {name} | {r['rps']:.0f} | {r['rps'] / base:.2f}× | {r['p50']:.1f} | {r['p99']:.1f} |")
    shutil.rmtree(os.path.dirname(int8_folder), ignore_errors=True)


def stream_chat(port, prompt, max_tokens):
    """(chunks with content, seconds to the first) of one streamed chat completion."""
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
                       "temperature": 0, "stream": True}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
    start, first, chunks = time.time(), None, 0
    with OPENER.open(request, timeout=300) as reply:
        for raw in reply:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            if (choices[0].get("delta") or {}).get("content"):
                chunks += 1
                first = first or time.time() - start
    return chunks, first or 0.0


def load_streams(port, streams, duration, max_tokens):
    """Generated chunks per second over `streams` clients that each stream one request after another."""
    totals, firsts, lock = [0], [], threading.Lock()
    deadline = time.time() + duration

    def client(index):
        n = 0
        while time.time() < deadline:
            chunks, first = stream_chat(port, PROMPTS[(index + n) % len(PROMPTS)], max_tokens)
            with lock:
                totals[0] += chunks
                firsts.append(first)
            n += 1

    start = time.time()
    workers = [threading.Thread(target=client, args=(i,)) for i in range(streams)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.time() - start
    return {"tokens_per_second": totals[0] / elapsed, "ttft_p50_ms": statistics.median(firsts) * 1000, "requests": len(firsts)}


def bench_generation(args, threads_env):
    servers = {
        "attend": lambda port: Server("attend", [args.attend, "serve", "--port", str(port), "--generation-model", SMOLLM,
                                                 "--threads", str(args.threads)], port, "/health"),
        "llama-cpp-python": lambda port: Server("llama-cpp-python", [args.llama_python, "-m", "llama_cpp.server", "--model", SMOLLM,
                                                                     "--n_threads", str(args.threads), "--n_ctx", "2048",
                                                                     "--port", str(port), "--host", "127.0.0.1",
                                                                     "--interrupt_requests", "False"],
                                                port, "/v1/models", env=threads_env),
    }
    results = {}

    def measure(name, server):
        stream_chat(server.port, "Hello", 8)                              # warm up
        for streams in args.streams:
            results[(name, streams)] = load_streams(server.port, streams, args.duration, args.max_tokens)
            print(f"  {name:16} streams={streams:<2} {results[(name, streams)]}", flush=True)

    measure_each(servers, measure)
    print()
    print("| streams | attend tokens/s | llama-cpp-python tokens/s | ratio | attend / llama-cpp-python first chunk p50 (ms) |")
    print("|" + "---|" * 5)
    for s in args.streams:
        a, l = results[("attend", s)], results[("llama-cpp-python", s)]
        print(f"| {s} | {a['tokens_per_second']:.0f} | {l['tokens_per_second']:.0f} | {a['tokens_per_second'] / l['tokens_per_second']:.2f}× | "
              f"{a['ttft_p50_ms']:.0f} / {l['ttft_p50_ms']:.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["embeddings", "generation"])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--threads", type=int, default=2, help="compute threads for every server")
    parser.add_argument("--attend", default=".build/release/attend")
    parser.add_argument("--infinity-python", default="/work/bench-venv/bin/python")
    parser.add_argument("--llama-python", default="venv/bin/python")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8, 32])
    parser.add_argument("--streams", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8])
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk") and args.only != "generation":
        sys.exit("wrk is missing: apt-get install wrk")
    threads_env = {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; threads per server: {args.threads}; {args.duration} s per point")
    print("command: " + " ".join([sys.executable] + sys.argv), flush=True)
    if args.only in (None, "embeddings"):
        print("\n## Embeddings (all-MiniLM-L6-v2), one sentence per request")
        bench_embeddings(args, threads_env)
    if args.only in (None, "generation"):
        print(f"\n## Generation (SmolLM2-135M-Instruct Q4_1), streamed chat, greedy, max_tokens {args.max_tokens}")
        bench_generation(args, threads_env)


if __name__ == "__main__":
    main()
