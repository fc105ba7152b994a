import math

import torch


def attention(q, k, v, mask=None):
    # q, k, v: (batch, heads, seq, head_dim)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # (b, h, q_len, k_len)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v
