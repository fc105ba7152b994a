import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb


def _reference(q, k, positions, base):
    cfg = LlamaConfig(hidden_size=q.size(-1) * q.size(1), num_attention_heads=q.size(1), head_dim=q.size(-1),
                      rope_parameters={"rope_type": "default", "rope_theta": base})
    cos, sin = LlamaRotaryEmbedding(cfg)(q, positions)
    return apply_rotary_pos_emb(q, k, cos, sin)


def _check(mod, positions, base=10000.0):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(positions.size(0), 2, positions.size(1), 8, generator=g)
    k = torch.randn(positions.size(0), 2, positions.size(1), 8, generator=g)
    for got, want in zip(mod.apply_rope(q, k, positions, base), _reference(q, k, positions, base)):
        torch.testing.assert_close(got, want)


def test_positions_0_to_n(mod):
    _check(mod, torch.arange(6)[None])


def test_offset_positions_batch(mod):
    _check(mod, torch.tensor([[3, 4, 5, 6], [10, 11, 12, 13]]))


def test_other_base(mod):
    _check(mod, torch.arange(5)[None], base=500.0)


def test_relative_property(mod):
    # <rope(q, m), rope(k, n)> depends only on m - n
    q = torch.randn(1, 1, 1, 8)
    k = torch.randn(1, 1, 1, 8)
    def score(m, n):
        rq, _ = mod.apply_rope(q, q, torch.tensor([[m]]))
        _, rk = mod.apply_rope(k, k, torch.tensor([[n]]))
        return (rq * rk).sum()
    torch.testing.assert_close(score(7, 3), score(14, 10))
