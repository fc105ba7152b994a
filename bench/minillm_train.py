"""Training throughput of minillm on this machine: target tokens/s of the real training step
(forward, masked loss, backward, clip, AdamW) for the teaching size, fp32 and bf16 autocast.

    python bench/minillm_train.py [--steps 5] [--batch 16] [--seq 128]

Prints numbers only; never fails on time.
"""

from __future__ import annotations

import argparse
import time

import torch

from hfcourse.minillm.data import masked_cross_entropy
from hfcourse.minillm.model import MiniLLMConfig, MiniLLMForCausalLM


def run(model, opt, x, y, mask, steps: int, autocast: bool) -> float:
    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            loss = masked_cross_entropy(model(x).logits, y, mask)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up: first-call allocations are not throughput
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * int(mask.sum()) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    config = MiniLLMConfig(hidden_size=args.hidden, num_hidden_layers=args.layers, max_position_embeddings=2 * args.seq)
    model = MiniLLMForCausalLM(config).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    ids = torch.randint(3, config.vocab_size, (args.batch, args.seq + 1))
    x, y, mask = ids[:, :-1], ids[:, 1:], torch.ones(args.batch, args.seq, dtype=torch.long)
    print(f"threads={torch.get_num_threads()} params={model.num_parameters():,} batch={args.batch} seq={args.seq}")
    for name, autocast in (("fp32", False), ("bf16 autocast", True)):
        print(f"{name:>14}: {run(model, opt, x, y, mask, args.steps, autocast):,.0f} target tokens/s")


if __name__ == "__main__":
    main()
