"""Recompute latency of the TokenizationVisualizer component with its tokenizers already loaded.

    python bench/tokenizer_component.py

Times 200 recomputes (parameter validation + compute, and separately the JSON the API sends) on varied texts,
cycling through the five tokenizers, and prints p50/p95/max in milliseconds. The goal is p95 <= 50 ms.
"""

import json
import random
import statistics
import time

from hfcourse.viz.registry import get

SNIPPETS = [
    "Transformers 让 NLP 变简单了！", "unbelievable", "🤗", "今天天气很好，适合出去走走。", "Hello, world!",
    "自然语言处理（NLP）是人工智能的一个分支", "tokenization is the first step", "GPT-2 用字节级 BPE，",
    "Llama 2 会把生僻字回退成字节：龘", "12345 + 67890 = 80235", "  多个   空格  ", "naïve café résumé",
    "我是查看了点评之后才选择入住天鹅酒店的，但结果却大失所望。", "The quick brown fox jumps over the lazy dog.",
]


def texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = " ".join(rng.choice(SNIPPETS) for _ in range(rng.randint(1, 8)))
        out.append(s[:300])
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    spec = get("TokenizationVisualizer")
    labels = list(spec.params.model_fields["tokenizer"].annotation.__args__)
    t0 = time.perf_counter()
    for label in labels:  # load every tokenizer once (the component also counts tokens under all five)
        spec.compute(spec.params.model_validate({"tokenizer": label}))
    print(f"warm-up (load {len(labels)} tokenizers): {time.perf_counter() - t0:.2f} s")
    compute_ms, json_ms, n_tokens = [], [], []
    for i, text in enumerate(texts(200)):
        raw = {"text": text, "tokenizer": labels[i % len(labels)], "add_special_tokens": i % 3 != 0}
        t = time.perf_counter()
        result = spec.compute(spec.params.model_validate(raw))
        compute_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        json.dumps(result, ensure_ascii=False)
        json_ms.append((time.perf_counter() - t) * 1000)
        n_tokens.append(len(result["numbers"]["ids"]))
    print(f"200 recomputes, {min(n_tokens)}–{max(n_tokens)} tokens (median {statistics.median(n_tokens):.0f})")
    for name, values in (("compute", compute_ms), ("json.dumps", json_ms),
                         ("compute + json", [a + b for a, b in zip(compute_ms, json_ms)])):
        print(f"{name:15s} p50 {pct(values, 50):7.2f} ms   p95 {pct(values, 95):7.2f} ms   max {max(values):7.2f} ms")


if __name__ == "__main__":
    main()
