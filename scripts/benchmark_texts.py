"""Texts and timing shared by the side-by-side embedding benchmarks (compare_embeddings_with_pytorch.py,
compare_compression_with_pytorch.py): deterministic sentences of 10–40 random vocabulary words."""
import random
import time


def vocabulary_words(model_dir):
    """Alphabetic words of more than two letters from the model's vocab.txt (the first 20,000)."""
    return [w for w in (model_dir / "vocab.txt").read_text().split("\n") if w.isalpha() and len(w) > 2][:20000]


def sentences(model_dir, count=1000, seed=0):
    """`count` sentences of 10–40 random vocabulary words, the same for the same seed."""
    words = vocabulary_words(model_dir)
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(10, 40))).capitalize() + "." for _ in range(count)]


def perturbed(lines, model_dir, fraction, seed):
    """Each line with `fraction` of its words replaced by random vocabulary words: queries whose
    best match in a corpus of `lines` is known (the line they came from)."""
    words = vocabulary_words(model_dir)
    rng = random.Random(seed)
    result = []
    for line in lines:
        tokens = line.rstrip(".").split()
        for i in rng.sample(range(len(tokens)), int(fraction * len(tokens))):
            tokens[i] = rng.choice(words)
        result.append(" ".join(tokens) + ".")
    return result


def timed(fn):
    """Seconds one call of `fn` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0
