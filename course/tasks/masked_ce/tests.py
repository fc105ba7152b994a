import torch
import torch.nn.functional as F


def _reference(logits, labels, loss_mask):
    ignored = labels.masked_fill(loss_mask == 0, -100)
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), ignored.reshape(-1), ignore_index=-100)


def _data(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 7, 11, generator=g)
    labels = torch.randint(0, 11, (3, 7), generator=g)
    mask = (torch.rand(3, 7, generator=g) > 0.4).long()
    mask[:, 0] = 1
    return logits, labels, mask


def test_matches_ignore_index(mod):
    logits, labels, mask = _data(0)
    torch.testing.assert_close(mod.masked_cross_entropy(logits, labels, mask), _reference(logits, labels, mask))


def test_mean_over_tokens_not_rows(mod):
    logits, labels, mask = _data(1)
    mask[0] = 1
    mask[1:] = 0
    mask[1, 0] = 1
    torch.testing.assert_close(mod.masked_cross_entropy(logits, labels, mask), _reference(logits, labels, mask))


def test_gradient_flows_only_through_masked(mod):
    logits, labels, mask = _data(2)
    logits.requires_grad_(True)
    mod.masked_cross_entropy(logits, labels, mask).backward()
    assert torch.all(logits.grad[mask == 0] == 0), "positions with loss_mask 0 received gradient"
