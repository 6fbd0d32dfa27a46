#!/usr/bin/env python3
"""Writes Tests/AttendTests/Goldens/tokenizer.json: token ids of all-MiniLM-L6-v2's tokenizer
from Hugging Face `tokenizers` (no truncation) and from sentence-transformers (its pipeline's
truncation to 256), for varied text, and sentence pairs with token type ids.

    python scripts/goldens/generate_tokenizer.py MODEL_DIR
(MODEL_DIR: the unpacked model folder, e.g. ~/.cache/attend/models/all-MiniLM-L6-v2;
 in a venv with sentence-transformers.)
"""
import json
import pathlib
import sys

from sentence_transformers import SentenceTransformer
from tokenizers import Tokenizer

model_dir = pathlib.Path(sys.argv[1]).expanduser()
OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/AttendTests/Goldens/tokenizer.json"

tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
tok.no_truncation()
tok.no_padding()
st = SentenceTransformer(str(model_dir), device="cpu")

texts = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Café déjà vu — naïve façade, Ångström, Œuvre, São Paulo, Zürich",
    "我爱北京天安门 and 東京タワー, 한국어 텍스트",
    "I love 🍕 and 🚀🚀! 👩‍👩‍👧 family",
    "zero\u200bwidth\u200djoiner\u00adsoft\tTab\nNew\u0000null\u0007bell\ufeffbom\u2028sep",
    "supercalifragilisticexpialidocious" * 4,
    "",
    "   \t\n  ",
    "Mr. O'Neil's e-mail: jack@example.com (cost: $3.50)... ¿Qué? ¡Sí! «quoted» “smart”",
    "3.14159 1,000,000 2023-11-21 10:30pm #hashtag @user",
    "HeLLo WoRLD İstanbul ß ǅ ΣΊΣΥΦΟΣ",
    "e\u0301 vs \u00e9 and n\u0303",
    "∑ x² ≤ ∞ → ∀ε>0 ½ ⅓ №",
    "Привет мир! Γειά σου κόσμε. مرحبا بالعالم. שלום עולם. สวัสดีชาวโลก. नमस्ते दुनिया",
    "unaffable unbelievably tokenization preprocessing",
    "ＦＵＬＬ－ｗｉｄｔｈ　ｔｅｘｔ and ﬁ ligature",
    " ".join(["word%d" % i for i in range(300)]),
    "special tokens typed in text: a[MASK]b [SEP] [sep] [CLS][CLS] x [UNK] y [PAD] [MASK",
]
cases = []
for text in texts:
    ids = tok.encode(text).ids
    st_ids = st.tokenize([text])["input_ids"][0].tolist()
    cases.append({"text": text, "ids": ids, "pipelineIds": st_ids})
pairs = [("How old are you?", "I am 25 years old."), ("", "only second"), ("Déjà vu", "日本")]
pair_cases = []
for a, b in pairs:
    e = tok.encode(a, b)
    pair_cases.append({"first": a, "second": b, "ids": e.ids, "typeIds": e.type_ids})
OUT.write_text(json.dumps({"generator": "scripts/goldens/generate_tokenizer.py", "maxSequenceLength": st.max_seq_length,
                           "cases": cases, "pairs": pair_cases}, ensure_ascii=False))
print(f"wrote {len(cases)} texts and {len(pair_cases)} pairs to {OUT}")
for c in cases:
    print(repr(c["text"][:40]), [tok.id_to_token(i) for i in c["ids"]][:30])
