"""Datasets for pretraining and SFT, and the masked loss they feed.

PretrainDataset yields (X, Y, loss_mask): X = ids[:-1], Y = ids[1:], loss_mask = 1 where Y is a real
token (not padding). SFTDataset yields the same triple with loss only on the assistant's tokens.
Samples that would contribute no target token are dropped at load time; `masked_cross_entropy` also
guards the division, so even an all-padding batch gives a finite loss (0), never NaN.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset


def masked_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, loss_mask: torch.Tensor) -> torch.Tensor:
    """logits (B, T, V), targets (B, T), loss_mask (B, T) → mean loss over positions where mask is 1."""
    per_token = F.cross_entropy(logits.float().reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="none")
    mask = loss_mask.reshape(-1).float()
    return (per_token * mask).sum() / mask.sum().clamp_min(1.0)


class PretrainDataset(Dataset):
    def __init__(self, texts: list[str], tokenizer, max_length: int = 128):
        self.pad = tokenizer.pad_token_id
        self.samples = []
        for text in texts:
            text = text.strip()
            if not text:
                continue  # an empty line would be all padding: no target, no gradient, a 0/0 loss
            ids = [tokenizer.bos_token_id] + tokenizer(text, add_special_tokens=False)["input_ids"]
            ids = (ids + [tokenizer.eos_token_id])[:max_length]
            if len(ids) >= 2:
                self.samples.append(ids)
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        ids = self.samples[i]
        ids = ids + [self.pad] * (self.max_length - len(ids))
        ids = torch.tensor(ids)
        x, y = ids[:-1], ids[1:]
        loss_mask = (y != self.pad).long()
        return x, y, loss_mask


class SFTDataset(Dataset):
    """Conversations in ChatML; only the assistant replies (and their <|im_end|>) carry loss."""

    def __init__(self, conversations: list[list[dict]], tokenizer, max_length: int = 128):
        self.pad = tokenizer.pad_token_id
        self.max_length = max_length
        start = tokenizer("<|im_start|>assistant\n", add_special_tokens=False)["input_ids"]
        end = tokenizer.eos_token_id
        self.samples = []
        for conv in conversations:
            ids = tokenizer.apply_chat_template(conv, tokenize=True, return_dict=False)
            if isinstance(ids, dict) or hasattr(ids, "keys"):
                ids = ids["input_ids"]
            ids = list(ids)[:max_length]
            mask = [0] * len(ids)
            i = 0
            while i < len(ids):
                if ids[i : i + len(start)] == start:  # an assistant turn begins after this header
                    j = i + len(start)
                    while j < len(ids):
                        mask[j] = 1
                        if ids[j] == end:
                            break
                        j += 1
                    i = j
                i += 1
            if sum(mask[1:]) > 0:
                self.samples.append((ids, mask))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        ids, mask = self.samples[i]
        pad = self.max_length - len(ids)
        ids = torch.tensor(ids + [self.pad] * pad)
        mask = torch.tensor(mask + [0] * pad)
        return ids[:-1], ids[1:], mask[1:]
