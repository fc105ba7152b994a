"""Chapter 5 component: gradient accumulation, measured on a real model and real reviews.

GradientAccumulationDemo computes the gradient of one batch of k·m reviews and the gradient accumulated over k
micro-batches of m reviews (each micro-batch loss divided by k, or not), and compares them parameter by parameter.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, Field

from ...paths import workspace
from ..registry import component
from .config import ComponentError

MODEL = "hfcourse/bert-zh-mini-sentiment"
REVIEWS = "datasets/zh-sentiment/train.csv"


@functools.lru_cache(maxsize=1)
def _model_and_tokenizer():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = workspace() / MODEL
    if not (path / "config.json").exists():
        raise ComponentError(f"工作区中没有 {MODEL}：先运行 `hfcourse assets sync`")
    # eval(): no dropout, so both ways of computing the gradient see exactly the same function
    return AutoModelForSequenceClassification.from_pretrained(str(path)).eval(), AutoTokenizer.from_pretrained(str(path))


@functools.lru_cache(maxsize=1)
def _reviews() -> tuple[list[str], list[int]]:
    import csv

    path = workspace() / REVIEWS
    if not path.exists():
        raise ComponentError(f"工作区中没有 {REVIEWS}：先运行 `hfcourse assets sync`")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def gradients(texts: list[str], labels: list[int], micro_batches: int, divide: bool) -> dict:
    """name -> gradient after `micro_batches` backward passes over equal slices of the batch."""
    import torch

    model, tok = _model_and_tokenizer()
    model.zero_grad(set_to_none=True)
    size = len(texts) // micro_batches
    for i in range(micro_batches):
        part = slice(i * size, (i + 1) * size)
        enc = tok(texts[part], truncation=True, max_length=64, padding=True, return_tensors="pt")
        loss = model(**enc, labels=torch.tensor(labels[part])).loss  # mean over the micro-batch
        (loss / micro_batches if divide else loss).backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return grads


class AccumulationParams(BaseModel):
    micro_batches: int = Field(4, ge=1, le=8, description="累积步数 k（micro-batch 个数）")
    micro_batch_size: int = Field(4, ge=1, le=8, description="每个 micro-batch 的样本数 m")
    loss_scaling: Literal["除以 k", "不除以 k"] = Field("除以 k", description="每个 micro-batch 的损失")
    start: int = Field(0, ge=0, le=13000, description="从训练集第几行取样本")


@component("GradientAccumulationDemo", params=AccumulationParams, title="梯度累积：k 个 micro-batch vs 一个大 batch",
           chapter=5, description="在课程的情感模型与真实评论上，逐参数比较累积梯度与大 batch 梯度。")
def gradient_accumulation_demo(p: AccumulationParams) -> dict:
    import torch

    all_texts, all_labels = _reviews()
    n = p.micro_batches * p.micro_batch_size
    texts, labels = all_texts[p.start:p.start + n], all_labels[p.start:p.start + n]
    big = gradients(texts, labels, 1, True)
    acc = gradients(texts, labels, p.micro_batches, p.loss_scaling == "除以 k")

    def group(name: str) -> str:
        parts = name.split(".")
        return ".".join(parts[:3]) if "layers" in parts else ".".join(parts[:2])

    names, big_norm, acc_norm = [], [], []
    for name in big:
        g = group(name)
        if g not in names:
            names.append(g)
            big_norm.append(0.0)
            acc_norm.append(0.0)
        i = names.index(g)
        big_norm[i] += float(big[name].pow(2).sum())
        acc_norm[i] += float(acc[name].pow(2).sum())
    big_norm = [v ** 0.5 for v in big_norm]
    acc_norm = [v ** 0.5 for v in acc_norm]
    # float64 for the comparison itself: a float32 cosine over millions of entries is off in the 4th decimal
    flat_big = torch.cat([g.flatten() for g in big.values()]).double()
    flat_acc = torch.cat([acc[k].flatten() for k in big]).double()
    max_abs = float((flat_big - flat_acc).abs().max())
    ratio = float(flat_acc.norm() / flat_big.norm())
    cosine = float(torch.nn.functional.cosine_similarity(flat_big, flat_acc, dim=0))
    figure = {"data": [{"type": "bar", "x": names, "y": big_norm, "name": f"一个 batch（{n} 条）"},
                       {"type": "bar", "x": names, "y": acc_norm,
                        "name": f"{p.micro_batches} × {p.micro_batch_size} 累积（{p.loss_scaling}）"}],
              "layout": {"title": {"text": f"梯度范数之比 {ratio:.4f}，余弦相似度 {cosine:.6f}，最大逐元素差 {max_abs:.2e}"},
                         "barmode": "group", "yaxis": {"title": {"text": "梯度 L2 范数"}},
                         "xaxis": {"tickangle": -30}, "margin": {"t": 60, "l": 60, "r": 20, "b": 120}}}
    return {"figure": figure, "numbers": {"examples": n, "rows": [p.start, p.start + n],
                                          "norm_ratio": round(ratio, 6), "cosine": round(cosine, 8),
                                          "max_abs_diff": max_abs, "groups": dict(zip(names, big_norm))}}


# name -> (log file under models/, format): logs written by the real training runs of the course's models
RUN_LOGS = {
    "bert-zh-mini（MLM 预训练，Trainer）": ("bert-zh-mini/train_log.json", "trainer"),
    "bert-zh-mini-sentiment（情感微调，Trainer）": ("bert-zh-mini-sentiment/train_log.json", "trainer"),
    "bert-zh-mini-ner（NER，Trainer）": ("bert-zh-mini-ner/train_log.json", "trainer"),
    "minillm-zh（预训练，自写循环）": ("minillm-zh/train_log_pretrain.jsonl", "jsonl"),
    "minillm-zh（SFT，自写循环）": ("minillm-zh/train_log_sft.jsonl", "jsonl"),
}


def read_run_log(name: str) -> list[dict]:
    """Rows with step, loss, lr (and grad_norm) from a Trainer `log_history` or a minillm JSON-lines log."""
    import json

    from ...paths import REPO_ROOT

    rel, kind = RUN_LOGS[name]
    path = REPO_ROOT / "models" / rel
    if not path.exists():
        raise ComponentError(f"没有找到训练日志 models/{rel}")
    text = path.read_text(encoding="utf-8")
    if kind == "trainer":
        rows = [r for r in json.loads(text) if "loss" in r]  # the last entry is the run summary
        return [{"step": r["step"], "loss": r["loss"], "lr": r["learning_rate"], "grad_norm": r.get("grad_norm")}
                for r in rows]
    return [{"step": r["step"], "loss": r["loss"], "lr": r["lr"], "grad_norm": r.get("grad_norm")}
            for r in map(json.loads, text.splitlines()) if r]


class MetricsParams(BaseModel):
    run: Literal[tuple(RUN_LOGS)] = Field(next(iter(RUN_LOGS)), description="训练日志")  # type: ignore[valid-type]
    smoothing: int = Field(1, ge=1, le=20, description="滑动平均窗口（按日志条数）")


@component("TrainingMetricsPlot", params=MetricsParams, title="训练曲线：课程模型的真实训练日志", chapter=5,
           description="读取 models/ 中随模型提交的训练日志，画出损失、学习率调度与梯度范数。")
def training_metrics_plot(p: MetricsParams) -> dict:
    rows = read_run_log(p.run)
    steps = [r["step"] for r in rows]
    loss = [r["loss"] for r in rows]
    smooth = [sum(loss[max(0, i - p.smoothing + 1):i + 1]) / len(loss[max(0, i - p.smoothing + 1):i + 1])
              for i in range(len(loss))]
    data = [{"type": "scatter", "x": steps, "y": loss, "name": "loss", "mode": "lines+markers", "opacity": 0.45},
            {"type": "scatter", "x": steps, "y": smooth, "name": f"loss（{p.smoothing} 点滑动平均）", "mode": "lines"},
            {"type": "scatter", "x": steps, "y": [r["lr"] for r in rows], "name": "学习率", "yaxis": "y2",
             "mode": "lines", "line": {"dash": "dot"}}]
    figure = {"data": data,
              "layout": {"title": {"text": f"{p.run}：{len(rows)} 条日志，step {steps[0]}–{steps[-1]}，"
                                           f"loss {loss[0]:.3f} → {loss[-1]:.3f}"},
                         "xaxis": {"title": {"text": "optimizer step"}}, "yaxis": {"title": {"text": "loss"}},
                         "yaxis2": {"title": {"text": "学习率"}, "overlaying": "y", "side": "right", "showgrid": False},
                         "legend": {"orientation": "h", "y": -0.2}, "margin": {"t": 60, "l": 60, "r": 60, "b": 60}}}
    return {"figure": figure, "numbers": {"log": RUN_LOGS[p.run][0], "points": len(rows), "steps": steps,
                                          "loss": loss, "smoothed": smooth, "lr": [r["lr"] for r in rows]}}
