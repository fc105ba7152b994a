import torch


def top_p_filter(logits, top_p, min_tokens_to_keep=1):
    # logits: (batch, vocab); sort ascending so the tail to drop is at the front
    sorted_logits, idx = torch.sort(logits, descending=False)
    cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    drop = cum <= (1 - top_p)
    drop[..., -min_tokens_to_keep:] = False
    drop = drop.scatter(1, idx, drop)
    return logits.masked_fill(drop, float("-inf"))
