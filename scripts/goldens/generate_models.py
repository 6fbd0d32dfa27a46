#!/usr/bin/env python3
"""Writes the model goldens:

- Tests/AttendTests/Goldens/tiny-bert/: a small randomly initialized BertModel (config.json,
  model.safetensors, vocab.txt) made here, with its hidden states and attention weights for a
  few inputs (tiny-bert.json). Small enough to commit; the tests always run on it.
- Tests/AttendTests/Goldens/minilm.json: sentence-transformers embeddings of all-MiniLM-L6-v2 for
  varied sentences (encode, batch 32 and one by one), and transformers' hidden states and
  attention weights for one sentence. The real model is never committed: tests that use it run
  when it is fetched (`attend model fetch`; CI does that).

    python scripts/goldens/generate_models.py MODEL_DIR   (in a venv with sentence-transformers)
"""
import json
import math
import pathlib
import sys

import torch
from sentence_transformers import SentenceTransformer
from transformers import BertConfig, BertModel

ROOT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens"


def spec(t):
    return {"shape": list(t.shape), "data": [float(f"{v:.9g}") for v in t.detach().double().flatten().tolist()]}


# Tiny BERT.
torch.manual_seed(5)
tiny_dir = ROOT / "tiny-bert"
tiny_dir.mkdir(parents=True, exist_ok=True)
config = BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2, num_attention_heads=4, intermediate_size=32,
                    max_position_embeddings=24, type_vocab_size=2, layer_norm_eps=1e-12, hidden_act="gelu")
config._attn_implementation = "eager"   # attention weights need the eager path
model = BertModel(config, add_pooling_layer=True).eval()
with torch.no_grad():   # larger-than-default weights so that the test sees non-trivial attention
    for p in model.parameters():
        p.mul_(3.0)
model.save_pretrained(tiny_dir, safe_serialization=True)
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(35)]
(tiny_dir / "vocab.txt").write_text("\n".join(vocab) + "\n")
for extra in ["generation_config.json"]:
    (tiny_dir / extra).unlink(missing_ok=True)
ids = torch.tensor([[2, 7, 8, 9, 10, 3, 0, 0], [2, 11, 12, 3, 14, 15, 16, 3]])
types = torch.tensor([[0] * 8, [0, 0, 0, 0, 1, 1, 1, 1]])
mask = torch.tensor([[1] * 6 + [0] * 2, [1] * 8])
with torch.no_grad():
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, output_attentions=True)
(ROOT / "tiny-bert.json").write_text(json.dumps({
    "ids": ids.tolist(), "typeIds": types.tolist(), "validLengths": mask.sum(1).tolist(),
    "hiddenStates": spec(out.last_hidden_state), "attentions": [spec(a) for a in out.attentions]}))

# all-MiniLM-L6-v2.
model_dir = pathlib.Path(sys.argv[1]).expanduser()
st = SentenceTransformer(str(model_dir), device="cpu")
sentences = [
    "A man is eating food.", "Someone is having lunch.", "The new movie is awesome!",
    "The cat sits outside on the mat, watching birds in the garden all afternoon long.",
    "Café déjà vu: naïve façades in Zürich.", "我爱北京天安门", "I love 🍕!", "",
    "Attention is all you need. " * 40,
    "How do I reset my password if I no longer have access to my email account?",
]
batched = st.encode(sentences, batch_size=32, convert_to_tensor=True)
single = torch.stack([st.encode([s], convert_to_tensor=True)[0] for s in sentences])
bert = BertModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
encoded = st.tokenizer(["The cat sat on the mat."], return_tensors="pt")
with torch.no_grad():
    out = bert(**encoded, output_attentions=True)
(ROOT / "minilm.json").write_text(json.dumps({
    "sentences": sentences, "batched": spec(batched), "single": spec(single),
    "attentionText": "The cat sat on the mat.", "attentionIds": encoded["input_ids"][0].tolist(),
    "hiddenStates": spec(out.last_hidden_state), "attentions": [spec(a) for a in out.attentions]}, ensure_ascii=False))
print("wrote tiny-bert/, tiny-bert.json, minilm.json")
