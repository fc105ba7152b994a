import torch
from transformers.generation.logits_process import TopPLogitsWarper


def _check(mod, logits, p, keep=1):
    want = TopPLogitsWarper(top_p=p, min_tokens_to_keep=keep)(None, logits.clone())
    got = mod.top_p_filter(logits.clone(), p, keep)
    assert torch.equal(torch.isinf(got), torch.isinf(want)), "kept a different set of tokens than TopPLogitsWarper"
    torch.testing.assert_close(got.softmax(-1), want.softmax(-1))


def test_random_batch(mod):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 50, generator=g) * 3
    for p in (0.1, 0.5, 0.9):
        _check(mod, logits, p)


def test_min_tokens_to_keep(mod):
    logits = torch.tensor([[10.0, 0.0, -1.0, -2.0, -3.0]])
    _check(mod, logits, 0.5, keep=3)


def test_peaked(mod):
    logits = torch.tensor([[5.0, 4.9, 0.0, -5.0]])
    _check(mod, logits, 0.6)
