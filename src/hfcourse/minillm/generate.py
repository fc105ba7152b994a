"""A minimal sampling loop with a KV cache, written out for teaching (greedy, temperature, top-k, top-p,
repetition penalty). `model.generate` does the same and more; tests check the two agree under greedy."""

from __future__ import annotations

import torch
from transformers import DynamicCache


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """CTRL-style: logits of already generated tokens are divided by `penalty` if positive, multiplied if not."""
    if penalty == 1.0:
        return logits
    picked = logits.gather(-1, seen)
    picked = torch.where(picked > 0, picked / penalty, picked * penalty)
    return logits.scatter(-1, seen, picked)


def top_k_top_p_filter(logits: torch.Tensor, top_k: int = 0, top_p: float = 1.0) -> torch.Tensor:
    """Set to -inf every logit outside the top-k and outside the smallest set whose probability ≥ top_p."""
    if top_k > 0:
        kth = logits.topk(min(top_k, logits.size(-1)), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop = cumulative - sorted_logits.softmax(-1) >= top_p  # mass before this token already ≥ top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return logits


@torch.no_grad()
def generate(model, input_ids: torch.Tensor, max_new_tokens: int = 50, temperature: float = 1.0, top_k: int = 0,
             top_p: float = 1.0, repetition_penalty: float = 1.0, do_sample: bool = False, use_cache: bool = True,
             eos_token_id: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """input_ids (1, T) → (1, T + n) with n ≤ max_new_tokens new tokens."""
    model.eval()
    ids = input_ids
    cache = DynamicCache(config=model.config) if use_cache else None
    step_input = ids
    for _ in range(max_new_tokens):
        out = model(step_input, cache=cache, use_cache=use_cache)
        logits = out.logits[:, -1, :]  # (1, V): the distribution of the next token
        logits = apply_repetition_penalty(logits, ids, repetition_penalty)
        if do_sample:
            logits = top_k_top_p_filter(logits / max(temperature, 1e-5), top_k, top_p)
            next_id = torch.multinomial(logits.softmax(-1), 1, generator=generator)
        else:
            next_id = logits.argmax(-1, keepdim=True)
        ids = torch.cat([ids, next_id], dim=-1)
        # With a cache only the new token is fed next; without, the whole sequence again.
        step_input = next_id if use_cache else ids
        if eos_token_id is not None and int(next_id) == eos_token_id:
            break
    return ids
