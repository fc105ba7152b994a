"""Generation speed of minillm with and without the KV cache (tokens/s at 64/256/512 new tokens, and the ratio).

    python bench/minillm_generate.py [--checkpoint models/minillm-zh]

Uses the committed checkpoint when present, with its RoPE table extended to 640 positions (else a random-init
model of the same size); the teaching loop
`hfcourse.minillm.generate.generate` decodes greedily with `min_new_tokens`-style forcing: EOS is ignored so
every run produces exactly n tokens. Prints numbers only; never fails on time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import hfcourse.minillm  # noqa: F401  (registers the model with the Auto classes)
from hfcourse.minillm.generate import generate
from hfcourse.minillm.model import MiniLLMConfig, MiniLLMForCausalLM

ROOT = Path(__file__).resolve().parents[1]


def load(checkpoint: Path) -> MiniLLMForCausalLM:
    if (checkpoint / "config.json").exists():
        from transformers import AutoModelForCausalLM

        # RoPE has no learned position weights: a longer table only changes which positions can be encoded, so
        # the trained weights can decode 512 tokens for a speed measurement (text beyond 256 is out of training).
        return AutoModelForCausalLM.from_pretrained(checkpoint, max_position_embeddings=640).eval()
    # 640 positions: a 16-token prompt + 512 new tokens must fit in the RoPE table.
    return MiniLLMForCausalLM(MiniLLMConfig(max_position_embeddings=640)).eval()


def tokens_per_s(model, prompt: torch.Tensor, n: int, use_cache: bool) -> float:
    start = time.perf_counter()
    out = generate(model, prompt, max_new_tokens=n, use_cache=use_cache, eos_token_id=None)
    seconds = time.perf_counter() - start
    return (out.shape[1] - prompt.shape[1]) / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", type=Path, default=ROOT / "models/minillm-zh")
    ap.add_argument("--lengths", type=int, nargs="+", default=[64, 256, 512])
    args = ap.parse_args()
    torch.manual_seed(0)
    model = load(args.checkpoint)
    limit = model.config.max_position_embeddings
    prompt = torch.randint(3, model.config.vocab_size, (1, 16))
    print(f"threads={torch.get_num_threads()} params={model.num_parameters():,} max_positions={limit}")
    generate(model, prompt, max_new_tokens=8)  # warm-up: first-call allocations are not decoding speed
    print(f"{'new tokens':>10} {'cache tok/s':>12} {'no-cache tok/s':>15} {'ratio':>6}")
    for n in args.lengths:
        if prompt.shape[1] + n > limit:
            print(f"{n:>10} skipped: prompt + {n} > max_position_embeddings ({limit})")
            continue
        with_cache = tokens_per_s(model, prompt, n, True)
        without = tokens_per_s(model, prompt, n, False)
        print(f"{n:>10} {with_cache:>12.1f} {without:>15.1f} {with_cache / without:>6.2f}")


if __name__ == "__main__":
    main()
