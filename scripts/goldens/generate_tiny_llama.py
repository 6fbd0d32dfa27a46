#!/usr/bin/env python3
"""A tiny random Llama in Hugging Face's format (Tests/AttendTests/Goldens/tiny-llama: config.json and
model.safetensors, Float32) and what transformers computes with it (tiny-llama.json): logits for two
prompts, the last-position logits after a cached continuation, attention weights of layer 1, and a
greedy continuation. Grouped-query attention (4 query heads sharing 2 key/value heads), RoPE with
rotate_half, SwiGLU, untied output.

    venv/bin/python scripts/goldens/generate_tiny_llama.py
"""
import json
import pathlib

import torch
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDER = ROOT / "Tests/AttendTests/Goldens/tiny-llama"
OUT = ROOT / "Tests/AttendTests/Goldens/tiny-llama.json"
torch.manual_seed(0)

config = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                     rope_theta=500.0, rms_norm_eps=1e-5, tie_word_embeddings=False, attention_bias=False)
model = LlamaForCausalLM(config).eval()
with torch.no_grad():
    for parameter in model.parameters():            # norms away from 1 so they matter
        if parameter.dim() == 1:
            parameter.uniform_(0.5, 1.5)
model.save_pretrained(str(FOLDER), safe_serialization=True)
for extra in ["generation_config.json"]:
    (FOLDER / extra).unlink(missing_ok=True)

prompts = [[5, 17, 42, 8, 91, 3, 60], [1, 2, 3]]
result = {"prompts": prompts}
with torch.no_grad():
    result["logits"] = [model(torch.tensor([p])).logits[0].tolist() for p in prompts]
    eager = LlamaForCausalLM.from_pretrained(str(FOLDER), attn_implementation="eager").eval()
    attentions = eager(torch.tensor([prompts[0]]), output_attentions=True).attentions
    result["attention_layer1"] = attentions[1][0].tolist()              # [H, L, L]
    # Greedy continuation of prompt 0 for 10 tokens with the cache.
    generated = model.generate(torch.tensor([prompts[0]]), max_new_tokens=10, do_sample=False,
                               pad_token_id=0, eos_token_id=None)
    result["greedy"] = generated[0, len(prompts[0]):].tolist()
OUT.write_text(json.dumps(result))
print("wrote", OUT, "and", FOLDER)
