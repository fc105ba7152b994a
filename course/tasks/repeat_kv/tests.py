import torch
from transformers.models.llama.modeling_llama import repeat_kv as reference


def test_matches_llama(mod):
    x = torch.randn(2, 2, 4, 3)
    for n_rep in (1, 2, 4):
        torch.testing.assert_close(mod.repeat_kv(x, n_rep), reference(x, n_rep))


def test_head_order(mod):
    # head i of the output must come from kv head i // n_rep (not interleaved)
    x = torch.arange(2.0).view(1, 2, 1, 1)
    assert mod.repeat_kv(x, 3).flatten().tolist() == reference(x, 3).flatten().tolist()
