"""Chapter 4 components: the data path from raw rows to a padded batch, computed with the real libraries.

- DatasetPipeline: rows of the workspace's review dataset -> `Dataset.map` tokenization -> the batch that
  `DataCollatorWithPadding` builds, with the padding each stage adds.
- DataCollatorDemo: the learner's own texts through a real transformers collator (dynamic padding, padding to a
  multiple, MLM masking), position by position.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..assets import require, tokenizer
from ..registry import component

TOKENIZER = "hfcourse/bert-zh-mini"  # the course's Chinese WordPiece (one token per character)
REVIEWS = "datasets/zh-sentiment/train.csv"


@functools.lru_cache(maxsize=1)
def _reviews():
    from datasets import load_dataset

    return load_dataset("csv", data_files=str(require(REVIEWS)), split="train")


def _token_grid(tokens: list[list[str]], z: list[list[int]], colorscale: list, title: str, zmax: int,
                hover: list[list[str]] | None = None) -> dict:
    """A heat map whose cells carry their token text: rows = samples, columns = positions."""
    return {"type": "heatmap", "z": z, "text": tokens, "texttemplate": "%{text}", "showscale": False,
            "colorscale": colorscale, "zmin": 0, "zmax": zmax, "xgap": 2, "ygap": 2,
            "customdata": hover or tokens, "hovertemplate": "样本 %{y} · 位置 %{x}<br>%{customdata}<extra></extra>",
            "name": title}


class PipelineParams(BaseModel):
    start: int = Field(0, ge=0, le=13000, description="从训练集第几行开始取")
    batch_size: int = Field(4, ge=2, le=8, description="batch 大小")
    max_length: int = Field(64, ge=8, le=128, description="截断长度 max_length")


@component("DatasetPipeline", params=PipelineParams, title="数据流水线：原始评论 → tokenized → batch", chapter=4,
           description="真实的 Dataset.map 分词与 DataCollatorWithPadding 组 batch，逐阶段显示长度与填充。")
def dataset_pipeline(p: PipelineParams) -> dict:
    from transformers import DataCollatorWithPadding

    tok = tokenizer(TOKENIZER)
    ds = _reviews()
    rows = ds.select(range(p.start, min(p.start + p.batch_size, ds.num_rows)))
    encoded = rows.map(lambda b: tok(b["text"], truncation=True, max_length=p.max_length), batched=True,
                       remove_columns=["text"], load_from_cache_file=False)
    features = [encoded[i] for i in range(encoded.num_rows)]
    batch = DataCollatorWithPadding(tok)(features)  # (B, T) tensors
    ids = batch["input_ids"].tolist()
    mask = batch["attention_mask"].tolist()
    tokens = [tok.convert_ids_to_tokens(r) for r in ids]
    raw_chars = [len(t) for t in rows["text"]]
    lengths = [len(f["input_ids"]) for f in features]
    pad = sum(m.count(0) for m in mask)
    shown = [[("" if m == 0 else t) for t, m in zip(r, mr)] for r, mr in zip(tokens, mask)]
    figure = {
        "data": [
            {"type": "bar", "x": [f"样本 {i}" for i in range(len(lengths))], "y": raw_chars, "name": "原始字符数",
             "xaxis": "x", "yaxis": "y"},
            {"type": "bar", "x": [f"样本 {i}" for i in range(len(lengths))], "y": lengths,
             "name": f"tokenize 后（截断到 {p.max_length}）", "xaxis": "x", "yaxis": "y"},
            {**_token_grid(shown, mask, [[0, "#e5e7eb"], [1, "#93c5fd"]], "batch", 1), "xaxis": "x2", "yaxis": "y2"},
        ],
        "layout": {
            "title": {"text": f"batch 形状 {tuple(batch['input_ids'].shape)}，填充 {pad} 个位置"
                              f"（{pad / max(1, len(ids) * len(ids[0])):.0%}）"},
            "grid": {"rows": 2, "columns": 1, "pattern": "independent"},
            "barmode": "group", "height": 520, "margin": {"t": 60, "l": 60, "r": 20, "b": 40},
            "yaxis": {"title": {"text": "长度"}, "domain": [0.62, 1.0]},
            "xaxis2": {"title": {"text": "位置（灰色 = 填充，attention_mask 为 0）"}},
            "yaxis2": {"autorange": "reversed", "domain": [0.0, 0.5], "title": {"text": "样本"}},
        },
    }
    return {"figure": figure, "numbers": {
        "rows": list(range(p.start, p.start + len(lengths))), "texts": list(rows["text"]),
        "labels": list(rows["label"]), "raw_chars": raw_chars, "token_lengths": lengths,
        "batch_shape": list(batch["input_ids"].shape), "padding_positions": pad,
        "input_ids": ids, "attention_mask": mask}}


class CollatorParams(BaseModel):
    texts: str = Field("质量很好|物流很快，包装也很用心|太差了", max_length=300,
                       description="若干条文本，用 | 分隔（2–6 条）")
    collator: Literal["动态填充", "填充到 8 的倍数", "MLM 掩码"] = Field("动态填充", description="collator")
    mlm_probability: float = Field(0.15, ge=0.05, le=0.8, description="MLM 掩码概率")
    seed: int = Field(0, ge=0, le=10_000, description="随机种子（MLM）")

    @field_validator("texts")
    @classmethod
    def _two_to_six(cls, v: str) -> str:
        parts = [t.strip() for t in v.split("|") if t.strip()]
        if not 2 <= len(parts) <= 6:
            raise ValueError("需要 2 到 6 条非空文本，用 | 分隔")
        return "|".join(parts)


@component("DataCollatorDemo", params=CollatorParams, title="DataCollator 演示：动态填充与 MLM 掩码", chapter=4,
           description="把你的文本交给真实的 transformers collator，逐位置查看填充、掩码与 labels。")
def data_collator_demo(p: CollatorParams) -> dict:
    import torch
    from transformers import DataCollatorForLanguageModeling, DataCollatorWithPadding

    tok = tokenizer(TOKENIZER)
    texts = p.texts.split("|")
    features = [tok(t, truncation=True, max_length=64) for t in texts]
    if p.collator == "MLM 掩码":
        collator = DataCollatorForLanguageModeling(tok, mlm_probability=p.mlm_probability)
    else:
        collator = DataCollatorWithPadding(tok, pad_to_multiple_of=8 if p.collator == "填充到 8 的倍数" else None)
    torch.manual_seed(p.seed)  # the MLM collator samples from torch's global generator
    batch = collator([dict(f) for f in features])
    ids = batch["input_ids"].tolist()
    mask = batch["attention_mask"].tolist()
    labels = batch["labels"].tolist() if "labels" in batch else None
    original = [f["input_ids"] + [tok.pad_token_id] * (len(ids[0]) - len(f["input_ids"])) for f in features]
    # 0 padding, 1 unchanged, 2 [MASK], 3 random replacement, 4 selected but kept
    kind = []
    for i, row in enumerate(ids):
        out = []
        for j, token_id in enumerate(row):
            if mask[i][j] == 0:
                out.append(0)
            elif labels is None or labels[i][j] == -100:
                out.append(1)
            elif token_id == tok.mask_token_id:
                out.append(2)
            elif token_id != original[i][j]:
                out.append(3)
            else:
                out.append(4)
        kind.append(out)
    tokens = [tok.convert_ids_to_tokens(r) for r in ids]
    hover = [[f"{t}（id {tid}）" + (f" · label {tok.convert_ids_to_tokens(labels[i][j])}"
                                      if labels and labels[i][j] != -100 else "")
              for j, (t, tid) in enumerate(zip(row, ids[i]))] for i, row in enumerate(tokens)]
    colors = [[0.0, "#e5e7eb"], [0.2, "#e5e7eb"], [0.2, "#dbeafe"], [0.4, "#dbeafe"], [0.4, "#fca5a5"],
              [0.6, "#fca5a5"], [0.6, "#fcd34d"], [0.8, "#fcd34d"], [0.8, "#86efac"], [1.0, "#86efac"]]
    counts = {name: sum(r.count(k) for r in kind)
              for k, name in enumerate(["填充", "原样", "[MASK]", "随机替换", "选中但保留"])}
    legend = "，".join(f"{k} {v}" for k, v in counts.items() if v)
    figure = {"data": [_token_grid(tokens, kind, colors, "batch", 4, hover)],
              "layout": {"title": {"text": f"{p.collator}：batch 形状 {tuple(batch['input_ids'].shape)}（{legend}）"},
                         "xaxis": {"title": {"text": "位置"}}, "yaxis": {"autorange": "reversed", "title": {"text": "样本"}},
                         "height": 120 + 48 * len(ids), "margin": {"t": 60, "l": 60, "r": 20, "b": 40}}}
    return {"figure": figure, "numbers": {"collator": type(collator).__name__, "shape": list(batch["input_ids"].shape),
                                          "input_ids": ids, "attention_mask": mask, "labels": labels,
                                          "counts": counts}}
