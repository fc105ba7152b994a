import torch
import torch.nn.functional as F


def masked_cross_entropy(logits, labels, loss_mask):
    # per-token loss: (batch, seq)
    loss = F.cross_entropy(logits.transpose(1, 2), labels, reduction="none")
    mask = loss_mask.to(loss.dtype)
    return (loss * mask).sum() / mask.sum()
