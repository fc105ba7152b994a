"""Chapter 1 and 3 components computed from real pipelines and real forward passes on the course's local models.

- PipelineFlowVisualizer: `pipeline(...)` on a review, reproduced stage by stage by hand (tokenizer -> logits ->
  softmax -> label) and checked against the pipeline's own answer.
- TaskGallery: every task of the installed transformers' pipeline registry, which of them run here offline,
  which v4 tasks are gone in this version and what to use instead; one runnable task is run live.
- ModelOutputInspector: every field of the ModelOutput a real forward pass returns (shapes, dtypes, statistics),
  with hidden states and attentions on request.
"""

from __future__ import annotations

import functools
import inspect
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..assets import require, tokenizer
from ..registry import component
from .config import ComponentError

SENTIMENT = "hfcourse/bert-zh-mini-sentiment"
NER = "hfcourse/bert-zh-mini-ner"
FLOW_TASKS = {"情感分析": ("text-classification", SENTIMENT), "命名实体识别": ("token-classification", NER)}


def _text(v: str) -> str:
    if not v.strip():
        raise ValueError("请输入一段非空的中文文本")
    return v.strip()


@functools.lru_cache(maxsize=8)
def _pipeline(task: str, name: str):
    import torch
    from transformers import pipeline

    # float32 on CPU (SmolLM2's stored bf16 weights are upcast once; the course's encoders are float32 already)
    return pipeline(task, model=str(require(name, "config.json")), device="cpu", dtype=torch.float32)


def _cell(token: str) -> str:
    return token if token.strip() else repr(token)


# -- 1. PipelineFlowVisualizer ----------------------------------------------------------------------------------


class FlowParams(BaseModel):
    text: str = Field("物流很快，质量也很好，下次还来买", max_length=100, description="文本（中文评论）")
    task: Literal["情感分析", "命名实体识别"] = Field("情感分析", description="任务")

    @field_validator("text")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _text(v)


def classify_by_hand(name: str, text: str) -> dict:
    """text-classification without the pipeline: tokenizer -> model -> softmax -> id2label."""
    import torch

    tok, model = tokenizer(name), _pipeline("text-classification", name).model
    enc = tok(text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[0].float()  # (num_labels,)
    probs = torch.softmax(logits, dim=-1)
    best = int(probs.argmax())
    return {"enc": enc, "logits": logits, "probs": probs,
            "result": [{"label": model.config.id2label[best], "score": float(probs[best])}]}


def tag_by_hand(name: str, text: str) -> dict:
    """token-classification (aggregation_strategy="none") without the pipeline: one label per token, "O" dropped."""
    import torch

    tok, model = tokenizer(name), _pipeline("token-classification", name).model
    enc = tok(text, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True)
    offsets, special = enc.pop("offset_mapping")[0].tolist(), enc.pop("special_tokens_mask")[0].tolist()
    with torch.no_grad():
        logits = model(**enc).logits[0].float()  # (T, num_labels)
    probs = torch.softmax(logits, dim=-1)
    ids = enc["input_ids"][0].tolist()
    result = []
    for i, (tid, (start, end)) in enumerate(zip(ids, offsets)):
        if special[i]:
            continue
        best = int(probs[i].argmax())
        label = model.config.id2label[best]
        if label == "O":
            continue
        word = text[start:end] if tid == tok.unk_token_id else tok.convert_ids_to_tokens(tid)
        result.append({"entity": label, "score": float(probs[i, best]), "index": i, "word": word,
                       "start": start, "end": end})
    return {"enc": enc, "logits": logits, "probs": probs, "result": result}


def plain(result) -> list[dict]:
    """A pipeline's answer as plain JSON values (numpy scalars -> Python)."""
    rows = result if isinstance(result, list) else [result]
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for r in rows]


def same_result(a: list[dict], b: list[dict], tol: float = 1e-5) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if set(x) != set(y) or abs(x["score"] - y["score"]) > tol:
            return False
        if any(x[k] != y[k] for k in x if k != "score"):
            return False
    return True


@component("PipelineFlowVisualizer", params=FlowParams, title="pipeline 内部：分词 → logits → softmax → 结果",
           chapter=1, description="真实运行 transformers.pipeline，再手工逐步复现分词、前向、softmax 与后处理，"
                                  "并核对两者结果一致。")
def pipeline_flow_visualizer(p: FlowParams) -> dict:
    task, name = FLOW_TASKS[p.task]
    pipe = _pipeline(task, name)
    by_pipeline = plain(pipe(p.text))
    hand = (classify_by_hand if task == "text-classification" else tag_by_hand)(name, p.text)
    tok = tokenizer(name)
    ids = hand["enc"]["input_ids"][0].tolist()
    tokens = tok.convert_ids_to_tokens(ids)
    labels = [pipe.model.config.id2label[i] for i in range(pipe.model.config.num_labels)]
    logits, probs = hand["logits"], hand["probs"]
    matches = same_result(hand["result"], by_pipeline)
    x_cells = list(range(len(tokens)))
    cells = {"type": "heatmap", "z": [ids], "x": x_cells, "text": [[_cell(t) for t in tokens]],
             "texttemplate": "%{text}<br>%{z}", "customdata": [[f"{t} (id {i})" for t, i in zip(tokens, ids)]],
             "hovertemplate": "%{customdata}<extra></extra>", "showscale": False, "colorscale": "Blues",
             "xgap": 2, "ygap": 2, "xaxis": "x", "yaxis": "y"}
    layout = {"xaxis": {"domain": [0, 1], "anchor": "y", "showticklabels": False, "ticks": ""},
              "yaxis": {"domain": [0.78, 1], "anchor": "x", "showticklabels": False, "ticks": ""},
              "margin": {"t": 100, "l": 70, "r": 20, "b": 60}, "showlegend": False}
    if task == "text-classification":
        res = hand["result"][0]
        data = [cells,
                {"type": "bar", "x": labels, "y": logits.tolist(), "xaxis": "x2", "yaxis": "y2", "name": "logits",
                 "text": [f"{v:.3f}" for v in logits.tolist()], "textposition": "auto"},
                {"type": "bar", "x": labels, "y": probs.tolist(), "xaxis": "x3", "yaxis": "y3", "name": "softmax",
                 "text": [f"{v:.4f}" for v in probs.tolist()], "textposition": "auto"}]
        layout.update({"xaxis2": {"domain": [0, 0.45], "anchor": "y2"},
                       "yaxis2": {"domain": [0, 0.58], "anchor": "x2", "title": {"text": "logit"}},
                       "xaxis3": {"domain": [0.55, 1], "anchor": "y3"},
                       "yaxis3": {"domain": [0, 0.58], "anchor": "x3", "title": {"text": "概率"}, "range": [0, 1]},
                       "height": 460})
        headline = f"{res['label']}（{res['score']:.4f}）"
        notes = [("① 分词：词元与 input_ids", 0.5, 1.0), ("② 模型前向：logits", 0.225, 0.6),
                 ("③ softmax → 最大概率的标签", 0.775, 0.6)]
    else:
        data = [cells, {"type": "heatmap", "z": probs.T.tolist(), "x": x_cells, "y": labels,
                        "customdata": [[_cell(t) for t in tokens]] * len(labels), "colorscale": "Viridis",
                        "zmin": 0, "zmax": 1, "xaxis": "x2", "yaxis": "y2", "colorbar": {"len": 0.6, "y": 0.3},
                        "hovertemplate": "%{customdata} · %{y}: %{z:.4f}<extra></extra>"}]
        layout.update({"xaxis2": {"domain": [0, 1], "anchor": "y2", "tickvals": x_cells,
                                  "ticktext": [_cell(t) for t in tokens], "title": {"text": "词元"}},
                       "yaxis2": {"domain": [0, 0.62], "anchor": "x2", "autorange": "reversed"},
                       "height": 480})
        found = [f"{r['word']}:{r['entity']}" for r in hand["result"]]
        headline = f"{len(found)} 个实体词元" + (f"（{'、'.join(found[:6])}{'…' if len(found) > 6 else ''}）"
                                             if found else "")
        notes = [("① 分词：词元与 input_ids", 0.5, 1.0), ("② logits → 每个词元 softmax 后的标签概率", 0.5, 0.64)]
    layout["annotations"] = [{"text": t, "x": x, "y": y, "xref": "paper", "yref": "paper", "showarrow": False,
                              "xanchor": "center", "yanchor": "bottom", "font": {"size": 12}} for t, x, y in notes]
    layout["title"] = {"text": f"{p.task}（{task}）：{headline}<br>手工复现与 pipeline 的结果"
                               f"{'一致（分数差 ≤ 1e-5）' if matches else '不一致'}"}
    return {"figure": {"data": data, "layout": layout}, "numbers": {
        "task": task, "model": name, "tokens": tokens, "input_ids": ids,
        "logits": [round(v, 4) for v in logits.tolist()] if logits.dim() == 1
        else [[round(v, 4) for v in row] for row in logits.tolist()],
        "probabilities": [round(v, 6) for v in probs.tolist()] if probs.dim() == 1
        else [[round(v, 6) for v in row] for row in probs.tolist()],
        "labels": labels, "result_by_hand": hand["result"], "result_pipeline": by_pipeline,
        "matches_pipeline": matches}}


# -- 2. TaskGallery -----------------------------------------------------------------------------------------------

# Tasks that run offline here, each with the course workspace model that runs it (all checked by the tests).
RUNNABLE = {
    "text-classification": "hfcourse/bert-zh-mini-sentiment",
    "token-classification": "hfcourse/bert-zh-mini-ner",
    "fill-mask": "hfcourse/bert-zh-mini",
    "feature-extraction": "sentence-transformers/all-MiniLM-L6-v2",
    "text-generation": "HuggingFaceTB/SmolLM2-135M-Instruct",
}
# Pipeline task names and aliases of the last transformers 4.x releases (4.5x: SUPPORTED_TASKS + TASK_ALIASES).
# Whatever of these the installed registry lacks is shown as removed, so the status is computed, never assumed.
V4_TASKS = [
    "audio-classification", "automatic-speech-recognition", "depth-estimation", "document-question-answering",
    "feature-extraction", "fill-mask", "image-classification", "image-feature-extraction", "image-segmentation",
    "image-text-to-text", "image-to-image", "image-to-text", "mask-generation", "ner", "object-detection",
    "question-answering", "sentiment-analysis", "summarization", "table-question-answering", "text-classification",
    "text-generation", "text-to-audio", "text-to-speech", "text2text-generation", "token-classification",
    "translation", "video-classification", "visual-question-answering", "vqa", "zero-shot-audio-classification",
    "zero-shot-classification", "zero-shot-image-classification", "zero-shot-object-detection",
]
V4_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification",
              "vqa": "visual-question-answering", "text-to-speech": "text-to-audio"}
CHAT = "text-generation + 指令/聊天模型（输入 messages 列表，自动套用聊天模板）"
REPLACEMENTS = {
    "summarization": f"{CHAT}；或 AutoModelForSeq2SeqLM + generate()",
    "translation": f"{CHAT}；或 AutoModelForSeq2SeqLM + generate()",
    "text2text-generation": f"{CHAT}；或 AutoModelForSeq2SeqLM + generate()",
    "question-answering": f"{CHAT}；抽取式问答仍可用 AutoModelForQuestionAnswering + 手写后处理",
    "table-question-answering": f"{CHAT}（把表格写进提示词）",
    "visual-question-answering": "image-text-to-text + 视觉语言聊天模型", "vqa": "image-text-to-text + 视觉语言聊天模型",
    "image-to-text": "image-text-to-text（旧任务名会被自动改成它，并给出警告）",
    "image-to-image": "图像生成类任务改用 🤗 Diffusers",
    "text-to-speech": "text-to-audio",
}
STATUS_LOCAL, STATUS_HUB, STATUS_REMOVED = "本地可运行", "需要 Hub 模型（未在此运行）", "v5 已删除"


def registry() -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(task names, alias -> task, removed task -> the library's own hint) of the installed transformers."""
    from transformers import pipelines

    removed = getattr(pipelines, "REMOVED_TASKS", {})  # transformers' own list of removed tasks, where it has one
    return sorted(pipelines.SUPPORTED_TASKS), dict(sorted(pipelines.TASK_ALIASES.items())), dict(removed)


def task_table() -> list[dict]:
    tasks, aliases, hints = registry()
    rows = []
    for name in tasks:
        local = RUNNABLE.get(name)
        rows.append({"task": name, "alias_of": None, "status": STATUS_LOCAL if local else STATUS_HUB,
                     "model": local, "replacement": None})
    for alias, target in aliases.items():
        local = RUNNABLE.get(target)
        rows.append({"task": alias, "alias_of": target, "status": STATUS_LOCAL if local else STATUS_HUB,
                     "model": local, "replacement": None})
    installed = set(tasks) | set(aliases)
    for name in sorted(set(V4_TASKS) | set(hints)):
        if name not in installed:
            rows.append({"task": name, "alias_of": V4_ALIASES.get(name), "status": STATUS_REMOVED, "model": None,
                         "replacement": REPLACEMENTS.get(name, "查看 transformers v5 迁移指南（MIGRATION_GUIDE_V5.md）"),
                         "library_hint": hints.get(name)})
    return rows


class GalleryParams(BaseModel):
    task: Literal["text-classification", "token-classification", "fill-mask", "feature-extraction",
                  "text-generation"] = Field("text-classification", description="实时运行的任务")
    text: str = Field("物流很快，质量也很好，下次还来买", max_length=100,
                      description="输入文本（fill-mask 需包含 [MASK]）")

    @field_validator("text")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _text(v)


def run_live(task: str, text: str):
    """Run the task's pipeline on `text`; the output reduced to JSON and a short one-line summary."""
    name = RUNNABLE[task]
    if task == "text-generation":
        pipe = _pipeline(task, name)
        out = pipe([{"role": "user", "content": text}], max_new_tokens=20, do_sample=False)
        reply = out[0]["generated_text"][-1]
        return {"messages_in": 1, "reply": reply}, f"{reply['role']}: {reply['content']}"
    if task == "fill-mask":
        pipe = _pipeline(task, name)
        mask = pipe.tokenizer.mask_token
        if mask not in text:
            raise ComponentError(f"fill-mask 需要文本中包含掩码词元 {mask}，例如：这家店的质量很{mask}。")
        if text.count(mask) > 1:
            raise ComponentError(f"请只放一个 {mask}")
        out = plain(pipe(text, top_k=5))
        return out, "；".join(f"{r['token_str']}（{r['score']:.3f}）" for r in out)
    if task == "feature-extraction":
        import numpy as np

        pipe = _pipeline(task, name)
        arr = np.asarray(pipe(text))  # (1, T, hidden)
        return ({"shape": list(arr.shape), "first_token_first_8": [round(float(v), 5) for v in arr[0, 0, :8]],
                 "mean_pooled_norm": round(float(np.linalg.norm(arr[0].mean(0))), 5)},
                f"形状 {tuple(arr.shape)}：每个词元一个 {arr.shape[-1]} 维向量")
    out = plain(_pipeline(task, name)(text))
    if task == "text-classification":
        return out, f"{out[0]['label']}（{out[0]['score']:.4f}）"
    return out, ("；".join(f"{r['word']}:{r['entity']}（{r['score']:.3f}）" for r in out) or "没有识别出实体")


@component("TaskGallery", params=GalleryParams, title="pipeline 任务总览：已安装版本支持什么、在这里能跑什么",
           chapter=1, description="列出已安装 transformers 的全部 pipeline 任务与别名，标出本地可运行的任务与 v5 中"
                                  "已删除的任务（及替代方案），并实时运行一个任务。")
def task_gallery(p: GalleryParams) -> dict:
    import transformers

    rows = task_table()
    output, summary = run_live(p.task, p.text)
    colors = {STATUS_LOCAL: "#dcfce7", STATUS_HUB: "#f3f4f6", STATUS_REMOVED: "#fee2e2"}
    fill = [colors[r["status"]] for r in rows]
    last = [r["model"] or r["replacement"] or "" for r in rows]
    # pixel heights of both tables (Plotly grows a row for wrapped text), so that neither needs scrolling
    table_px = 30 + sum(24 + 14 * (len(t) // 36) for t in last)
    live_px = 30 + 26 * (1 + len(summary[:200]) // 60)
    plot_px = live_px + 30 + table_px
    live = {"type": "table", "domain": {"x": [0, 1], "y": [1 - live_px / plot_px, 1]}, "columnwidth": [1.5, 6.3],
            "header": {"values": [f"实时运行：{p.task}", f"模型：{RUNNABLE[p.task]}"], "fill": {"color": "#dbeafe"},
                       "align": "left"},
            "cells": {"values": [["输出"], [summary[:200]]], "align": "left", "height": 26}}
    table = {"type": "table", "domain": {"x": [0, 1], "y": [0, table_px / plot_px]},
             "columnwidth": [1.5, 1.5, 1.8, 3.0],
             "header": {"values": ["任务", "类型", "状态", "本地模型 / 替代方案"], "fill": {"color": "#e5e7eb"},
                        "align": "left"},
             "cells": {"values": [[r["task"] for r in rows],
                                  [f"别名 → {r['alias_of']}" if r["alias_of"] else "任务" for r in rows],
                                  [r["status"] for r in rows], last],
                       "fill": {"color": [fill] * 4}, "align": "left", "height": 24}}
    counts = {s: sum(r["status"] == s for r in rows) for s in colors}  # rows (tasks and aliases)
    n_tasks = sum(r["alias_of"] is None and r["status"] != STATUS_REMOVED for r in rows)
    n_alias = sum(r["alias_of"] is not None and r["status"] != STATUS_REMOVED for r in rows)
    n_local = sum(r["alias_of"] is None and r["status"] == STATUS_LOCAL for r in rows)
    short = summary if len(summary) <= 40 else summary[:40] + "…"
    figure = {"data": [live, table], "layout": {
        "title": {"text": f"transformers {transformers.__version__}：{n_tasks} 个任务 + {n_alias} 个别名，"
                          f"本地可运行 {n_local} 个任务，v4 的 {counts[STATUS_REMOVED]} 个任务名已删除"
                          f"<br>实时运行 {p.task}：{short}"},
        "height": plot_px + 100 + 10, "margin": {"t": 100, "l": 10, "r": 10, "b": 10}}}
    return {"figure": figure, "numbers": {"transformers_version": transformers.__version__, "tasks": rows,
                                          "counts": counts, "live_task": p.task, "live_model": RUNNABLE[p.task],
                                          "live_output": output, "live_summary": summary}}


# -- 3. ModelOutputInspector -----------------------------------------------------------------------------------

INSPECT_MODELS = {
    "bert-zh-mini (编码器)": ("hfcourse/bert-zh-mini", "AutoModelForMaskedLM"),
    "SmolLM2-135M (解码器)": ("HuggingFaceTB/SmolLM2-135M-Instruct", "AutoModelForCausalLM"),
}


@functools.lru_cache(maxsize=4)
def _inspect_model(name: str, auto_class: str, eager: bool):
    import torch
    import transformers

    kwargs = {"attn_implementation": "eager"} if eager else {}
    cls = getattr(transformers, auto_class)
    # float32 on CPU: SmolLM2's bf16 weights are upcast once, so every statistic is an fp32 number
    return cls.from_pretrained(str(require(name, "config.json")), dtype=torch.float32, **kwargs).eval()


class InspectParams(BaseModel):
    model: Literal["bert-zh-mini (编码器)", "SmolLM2-135M (解码器)"] = Field(
        "bert-zh-mini (编码器)", description="模型")
    text: str = Field("今天天气很好", max_length=100, description="输入文本")
    output_hidden_states: bool = Field(True, description="output_hidden_states")
    output_attentions: bool = Field(False, description="output_attentions")

    @field_validator("text")
    @classmethod
    def _non_empty(cls, v: str) -> str:
        return _text(v)


def forward(p: InspectParams):
    """(model, inputs, output) of one real forward pass with the requested extra outputs."""
    import torch

    name, auto_class = INSPECT_MODELS[p.model]
    model = _inspect_model(name, auto_class, p.output_attentions)
    inputs = tokenizer(name)(p.text, return_tensors="pt")
    if "token_type_ids" not in inspect.signature(model.forward).parameters:
        inputs.pop("token_type_ids", None)
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=p.output_hidden_states, output_attentions=p.output_attentions)
    return model, inputs, out


def tensor_stats(t) -> dict:
    f = t.detach().float()
    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."), "mean": round(float(f.mean()), 6),
            "std": round(float(f.std()), 6) if f.numel() > 1 else 0.0, "min": round(float(f.min()), 6),
            "max": round(float(f.max()), 6)}


def describe(value) -> dict:
    import torch

    if isinstance(value, torch.Tensor):
        return {"kind": "Tensor", **tensor_stats(value)}
    if isinstance(value, (tuple, list)):
        return {"kind": "tuple", "length": len(value),
                "shapes": [list(v.shape) if isinstance(v, torch.Tensor) else type(v).__name__ for v in value]}
    layers = getattr(value, "layers", None)
    if layers is not None:  # a transformers Cache (DynamicCache): per layer key/value tensors
        return {"kind": type(value).__name__, "length": len(layers),
                "shapes": [{"keys": list(layer.keys.shape), "values": list(layer.values.shape)} for layer in layers],
                "seq_length": int(value.get_seq_length())}
    return {"kind": type(value).__name__, "repr": repr(value)[:200]}


def _stat(d: dict, key: str) -> str:
    return f"{d[key]:.4g}" if key in d else ""


def _shape_text(d: dict) -> str:
    if d["kind"] == "Tensor":
        return str(tuple(d["shape"]))
    if "shapes" not in d:
        return d.get("repr", "")
    first = d["shapes"][0] if d["shapes"] else None
    if isinstance(first, dict):
        first = f"keys {tuple(first['keys'])} / values {tuple(first['values'])}"
    elif isinstance(first, list):
        first = str(tuple(first))
    return f"{d['length']} 个元素，每个 {first}"


@component("ModelOutputInspector", params=InspectParams, title="ModelOutput 检查器：一次前向返回的每个字段",
           chapter=3, description="对真实模型做一次前向，列出返回的 ModelOutput 的全部字段（形状、dtype、统计量），"
                                  "可选 hidden_states 与 attentions（eager 实现）。")
def model_output_inspector(p: InspectParams) -> dict:
    import torch

    model, inputs, out = forward(p)
    name, _ = INSPECT_MODELS[p.model]
    tokens = tokenizer(name).convert_ids_to_tokens(inputs["input_ids"][0].tolist())
    fields = {key: describe(value) for key, value in out.items()}
    numbers = {"output_class": type(out).__name__, "model_class": type(model).__name__,
               "attn_implementation": model.config._attn_implementation, "tokens": tokens,
               "num_hidden_layers": model.config.num_hidden_layers, "fields": fields}
    if p.output_attentions and getattr(out, "attentions", None) is not None:
        sums = torch.stack([a.sum(-1) for a in out.attentions])  # (layers, B, heads, T)
        numbers["attention_row_sum_max_error"] = float((sums - 1).abs().max())
    if p.output_hidden_states and getattr(out, "hidden_states", None) is not None:
        numbers["hidden_state_norms"] = [[round(float(v), 4) for v in h[0].norm(dim=-1)] for h in out.hidden_states]
    keys = list(fields)
    table = {"type": "table", "domain": {"x": [0, 1], "y": [0.68, 1]}, "columnwidth": [1.3, 1, 2.6, 0.8, 0.8, 0.8, 0.8],
             "header": {"values": ["字段", "类型", "形状", "mean", "std", "min", "max"], "align": "left",
                        "fill": {"color": "#e5e7eb"}},
             "cells": {"values": [keys, [fields[k]["kind"] for k in keys], [_shape_text(fields[k]) for k in keys],
                                  *[[_stat(fields[k], s) for k in keys] for s in ("mean", "std", "min", "max")]],
                       "align": "left", "height": 26}}
    labels = [_cell(t) for t in tokens]
    layout = {"margin": {"t": 100, "l": 70, "r": 20, "b": 60}, "height": 660}
    if "attention_row_sum_max_error" in numbers:
        att = out.attentions[-1][0, 0]  # (T, T): last layer, first head
        plot = {"type": "heatmap", "z": att.tolist(), "x": list(range(len(tokens))), "y": list(range(len(tokens))),
                "colorscale": "Viridis", "zmin": 0, "colorbar": {"len": 0.58, "y": 0.29},
                "hovertemplate": "查询 %{y} → 键 %{x}: %{z:.4f}<extra></extra>"}
        layout.update({"xaxis": {"domain": [0, 1], "title": {"text": "键（被关注的词元）"}, "tickvals": plot["x"],
                                 "ticktext": labels},
                       "yaxis": {"domain": [0, 0.58], "autorange": "reversed", "tickvals": plot["y"],
                                 "ticktext": labels, "title": {"text": "查询"}}})
        what = (f"最后一层第 1 个头的注意力（每行和为 1，最大误差 "
                f"{numbers['attention_row_sum_max_error']:.1e}）")
    elif "hidden_state_norms" in numbers:
        norms = numbers["hidden_state_norms"]
        plot = {"type": "scatter", "mode": "lines+markers", "x": list(range(len(norms))),
                "y": [round(sum(n) / len(n), 4) for n in norms], "name": "平均 L2 范数"}
        layout.update({"xaxis": {"domain": [0, 1], "title": {"text": "hidden_states 下标（0 = 嵌入层输出）"},
                                 "dtick": 1 if len(norms) < 20 else 5},
                       "yaxis": {"domain": [0, 0.58], "title": {"text": "词元向量的平均 L2 范数"}}})
        what = f"hidden_states 共 {len(norms)} 个（{model.config.num_hidden_layers} 层 + 嵌入层）"
    else:
        logits = out.logits[0]
        plot = {"type": "bar", "x": labels, "y": [round(float(v), 4) for v in logits.norm(dim=-1)], "name": "logits 范数"}
        layout.update({"xaxis": {"domain": [0, 1], "title": {"text": "词元"}},
                       "yaxis": {"domain": [0, 0.58], "title": {"text": "每个位置 logits 向量的 L2 范数"}}})
        what = "未请求 hidden_states / attentions"
    layout["title"] = {"text": f"{type(out).__name__}：{len(keys)} 个字段（{', '.join(keys)}）<br>{what}"}
    return {"figure": {"data": [table, plot], "layout": layout}, "numbers": numbers}
