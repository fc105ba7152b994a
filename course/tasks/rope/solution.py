import torch


def _rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(q, k, positions, base=10000.0):
    # q, k: (batch, heads, seq, head_dim); positions: (batch, seq)
    d = q.size(-1)
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)  # (d/2,)
    angles = positions[..., None].float() * inv_freq  # (batch, seq, d/2)
    emb = torch.cat((angles, angles), dim=-1)[:, None]  # (batch, 1, seq, d)
    cos, sin = emb.cos(), emb.sin()
    return q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin
