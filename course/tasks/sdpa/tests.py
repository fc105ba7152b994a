import torch
import torch.nn.functional as F


def _qkv(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 3, 5, 8, generator=g) for _ in range(3)]


def test_no_mask(mod):
    q, k, v = _qkv()
    torch.testing.assert_close(mod.attention(q, k, v), F.scaled_dot_product_attention(q, k, v))


def test_causal_mask(mod):
    q, k, v = _qkv(1)
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    torch.testing.assert_close(mod.attention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_padding_mask(mod):
    q, k, v = _qkv(2)
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=torch.bool)[:, None, None, :]  # (b, 1, 1, k)
    torch.testing.assert_close(mod.attention(q, k, v, mask), F.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def test_does_not_call_sdpa(mod):
    q, k, v = _qkv(3)
    orig = F.scaled_dot_product_attention
    def forbidden(*a, **kw):
        raise AssertionError("scaled_dot_product_attention must not be called")
    F.scaled_dot_product_attention = forbidden
    try:
        mod.attention(q, k, v)
    finally:
        F.scaled_dot_product_attention = orig
