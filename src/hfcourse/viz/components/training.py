"""Chapter 5 component: gradient accumulation, measured on a real model and real reviews.

GradientAccumulationDemo computes the gradient of one batch of k·m reviews and the gradient accumulated over k
micro-batches of m reviews (each micro-batch loss divided by k, or not), and compares them parameter by parameter.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, Field

from ..assets import require, tokenizer
from ..registry import component
from .config import ComponentError

MODEL = "hfcourse/bert-zh-mini-sentiment"
REVIEWS = "datasets/zh-sentiment/train.csv"


@functools.lru_cache(maxsize=1)
def _model_and_tokenizer():
    from transformers import AutoModelForSequenceClassification

    # eval(): no dropout, so both ways of computing the gradient see exactly the same function
    model = AutoModelForSequenceClassification.from_pretrained(str(require(MODEL, "config.json"))).eval()
    return model, tokenizer(MODEL)


@functools.lru_cache(maxsize=1)
def _reviews() -> tuple[list[str], list[int]]:
    import csv

    with open(require(REVIEWS), encoding="utf-8", newline="") as f:
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


CALLBACK_EVENTS = ["on_train_begin", "on_epoch_begin", "on_step_begin", "on_substep_end", "on_pre_optimizer_step",
                   "on_optimizer_step", "on_step_end", "on_log", "on_evaluate", "on_epoch_end", "on_train_end"]


class LoopParams(BaseModel):
    max_steps: int = Field(4, ge=1, le=12, description="max_steps（优化器步数）")
    gradient_accumulation_steps: int = Field(2, ge=1, le=4, description="gradient_accumulation_steps")
    logging_steps: int = Field(2, ge=1, le=12, description="logging_steps")
    eval_steps: int = Field(2, ge=1, le=12, description="eval_steps（eval_strategy=\"steps\"）")


def run_recorded_training(p: LoopParams) -> tuple[list[tuple[str, int]], list[dict]]:
    """A real, tiny Trainer run on reviews; returns every callback event (name, global_step) and the log history."""
    import tempfile

    from datasets import Dataset
    from transformers import (AutoModelForSequenceClassification, DataCollatorWithPadding, Trainer, TrainerCallback,
                              TrainingArguments)

    _, tok = _model_and_tokenizer()
    texts, labels = _reviews()
    model = AutoModelForSequenceClassification.from_pretrained(str(require(MODEL, "config.json")))  # fresh weights
    enc = lambda b: tok(b["text"], truncation=True, max_length=48)  # noqa: E731
    # exactly one epoch of full accumulation steps: with a ragged last step the epoch's final optimizer step would
    # run on fewer micro-batches (the Trainer really does that) and blur the picture
    n = 4 * p.gradient_accumulation_steps * p.max_steps
    train = Dataset.from_dict({"text": texts[:n], "label": labels[:n]}).map(enc, batched=True, remove_columns=["text"])
    evald = Dataset.from_dict({"text": texts[n:n + 16], "label": labels[n:n + 16]}).map(enc, batched=True,
                                                                                       remove_columns=["text"])
    events: list[tuple[str, int]] = []

    class Recorder(TrainerCallback):
        pass

    for name in CALLBACK_EVENTS:
        setattr(Recorder, name, lambda self, args, state, control, _n=name, **kw: events.append((_n, state.global_step)))
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, max_steps=p.max_steps, per_device_train_batch_size=4,
                                 gradient_accumulation_steps=p.gradient_accumulation_steps,
                                 logging_steps=p.logging_steps, eval_strategy="steps", eval_steps=p.eval_steps,
                                 save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True, seed=0)
        trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=evald,
                          data_collator=DataCollatorWithPadding(tok), callbacks=[Recorder()])
        # ModernBERT's forward takes **kwargs, so Trainer assumes the loss is normalised over the accumulation window
        # by num_items_in_batch; its classification loss is a plain per-micro-batch mean, so Trainer must divide by k
        # (without this the logged loss and the gradients are k times too large: section 5.2.5)
        trainer.loss_is_scaled_for_ga = False
        trainer.train()
    return events, trainer.state.log_history


@component("TrainingLoopVisualizer", params=LoopParams, title="Trainer 内部循环：回调事件的真实顺序", chapter=5,
           description="在课程的情感模型上真实运行几步 Trainer，记录每个回调事件及其 global_step。")
def training_loop_visualizer(p: LoopParams) -> dict:
    events, history = run_recorded_training(p)
    y = [CALLBACK_EVENTS.index(n) for n, _ in events]
    logs = {h["step"]: h for h in history if "loss" in h}
    evals = {h["step"]: h for h in history if "eval_loss" in h}
    text = []
    for n, s in events:
        extra = (f" loss={logs[s]['loss']:.3f}" if n == "on_log" and s in logs else
                 f" eval_loss={evals[s]['eval_loss']:.3f}" if n == "on_evaluate" and s in evals else "")
        text.append(f"{n} · global_step={s}{extra}")
    figure = {"data": [{"type": "scatter", "mode": "lines+markers", "x": list(range(len(events))), "y": y,
                        "customdata": text, "hovertemplate": "%{customdata}<extra></extra>",
                        "marker": {"size": 9, "color": [s for _, s in events], "colorscale": "Viridis",
                                   "showscale": True, "colorbar": {"title": {"text": "global_step"}}},
                        "line": {"width": 1, "color": "#cbd5e1"}}],
              "layout": {"title": {"text": f"{len(events)} 个回调事件：{p.max_steps} 步 × 累积 {p.gradient_accumulation_steps}，"
                                           f"每 {p.logging_steps} 步记录，每 {p.eval_steps} 步评估"},
                         "yaxis": {"tickmode": "array", "tickvals": list(range(len(CALLBACK_EVENTS))),
                                   "ticktext": CALLBACK_EVENTS, "autorange": "reversed"},
                         "xaxis": {"title": {"text": "事件顺序"}}, "height": 460,
                         "margin": {"t": 60, "l": 170, "r": 20, "b": 50}}}
    return {"figure": figure, "numbers": {"events": [f"{n}@{s}" for n, s in events],
                                          "counts": {n: sum(e == n for e, _ in events) for n in CALLBACK_EVENTS},
                                          "logged_loss": {s: round(h["loss"], 4) for s, h in logs.items()},
                                          "eval_loss": {s: round(h["eval_loss"], 4) for s, h in evals.items()}}}
