"""Chapter 6 component computed from the course's own encoder-decoder model (hfcourse/t5-zh-mini-entities).

- Seq2SeqArchitecture: a People's Daily sentence -> greedy `generate` (the encoder runs once, counted with a forward
  hook) -> one teacher-forced forward pass over the generated tokens with `output_attentions=True`; the cross-attention
  (decoder query x encoder source), encoder self-attention or decoder self-attention of one layer, one head or the
  head average, drawn as a heatmap together with the tensor shapes and the entities the model wrote.
"""

from __future__ import annotations

import functools
import threading
from typing import Literal

from pydantic import BaseModel, Field

from ..assets import require, tokenizer
from ..registry import component
from .config import ComponentError

MODEL = "hfcourse/t5-zh-mini-entities"
# test split of datasets/peoples-daily-ner, id 126 (gold: 机构：国防部；人名：罗斌；人名：迟浩田)
SENTENCE = "国防部外事办公室主任罗斌代表迟浩田在招待会上致辞。"
VIEWS = {"交叉注意力": "cross_attentions", "编码器自注意力": "encoder_attentions", "解码器自注意力": "decoder_attentions"}
_hook_lock = threading.Lock()  # the encoder-call counter is a hook on the shared model: one generate at a time


@functools.lru_cache(maxsize=1)
def _model():
    import torch
    from transformers import T5ForConditionalGeneration

    model = T5ForConditionalGeneration.from_pretrained(str(require(MODEL, "config.json")), dtype=torch.float32).eval()
    # the default sdpa kernel returns no attention weights (output_attentions gives empty tuples): use eager attention
    model.set_attn_implementation("eager")
    return model


@functools.lru_cache(maxsize=16)
def _analyse(sentence: str) -> dict:
    """Greedy generation, then the teacher-forced forward pass whose attentions are drawn (cached per sentence)."""
    import torch

    from ...teaching.seq2seq import MAX_SOURCE, MAX_TARGET

    tok, model = tokenizer(MODEL), _model()
    enc = tok(sentence, truncation=True, max_length=MAX_SOURCE, return_tensors="pt")
    # as in training (hfcourse.teaching.seq2seq.encode): drop the leading [CLS], keep the final [SEP]
    enc = {k: enc[k][:, 1:] for k in ("input_ids", "attention_mask")}  # (1, N)
    calls = []
    with _hook_lock, torch.no_grad():
        hook = model.get_encoder().register_forward_hook(lambda *_: calls.append(1))
        try:
            sequence = model.generate(**enc, max_new_tokens=MAX_TARGET, do_sample=False)  # (1, 1 + T): starts at [PAD]
        finally:
            hook.remove()
    # teacher forcing: decoder position i reads the tokens up to i and predicts token i + 1 of the generated sequence;
    # the last generated token (normally [SEP]) is never an input whose prediction was used, so it is left out
    decoder_input_ids = sequence[:, :-1]  # (1, T)
    with torch.no_grad():
        out = model(**enc, decoder_input_ids=decoder_input_ids, output_attentions=True)
    return {"source_ids": enc["input_ids"][0].tolist(), "sequence": sequence[0].tolist(),
            "encoder_calls": len(calls),
            "reproduces_generate": out.logits[0].argmax(-1).tolist() == sequence[0, 1:].tolist(),
            **{key: tuple(a.detach() for a in getattr(out, key)) for key in VIEWS.values()}}


class Seq2SeqParams(BaseModel):
    sentence: str = Field(SENTENCE, min_length=2, max_length=94, description="输入句子（《人民日报》风格的中文句子）")
    view: Literal["交叉注意力", "编码器自注意力", "解码器自注意力"] = Field(
        "交叉注意力", description="注意力类型（交叉注意力 = 解码器查询 × 编码器源句）")
    layer: int = Field(3, ge=1, description="层（1 到模型的层数，本模型 3 层）")
    head: int = Field(0, ge=0, description="注意力头（0 = 所有头的平均，1 到头数 = 单个头）")


def _label(token: str) -> str:
    return token if token.strip() else repr(token)


@component("Seq2SeqArchitecture", params=Seq2SeqParams, title="Encoder-Decoder 注意力流可视化", chapter=6,
           description="课程训练的小型 T5（句子 → 实体列表）：贪心生成一次，再用教师强制前向取出真实的交叉注意力、"
                       "编码器与解码器自注意力。")
def seq2seq_architecture(p: Seq2SeqParams) -> dict:
    from ...teaching.seq2seq import parse_entities

    sentence = p.sentence.strip()
    if len(sentence) < 2:
        raise ComponentError("请输入至少 2 个字的句子（空白不算）")
    model = _model()
    layers, heads = model.config.num_layers, model.config.num_heads
    if p.layer > layers:
        raise ComponentError(f"本模型的编码器和解码器各只有 {layers} 层：layer 取 1 到 {layers}")
    if p.head > heads:
        raise ComponentError(f"本模型每层只有 {heads} 个注意力头：head 取 0（平均）或 1 到 {heads}")

    tok, a = tokenizer(MODEL), _analyse(sentence)
    source = [_label(t) for t in tok.convert_ids_to_tokens(a["source_ids"])]
    decoder = [_label(t) for t in tok.convert_ids_to_tokens(a["sequence"][:-1])]
    produced = [_label(t) for t in tok.convert_ids_to_tokens(a["sequence"][1:])]
    text = tok.decode(a["sequence"], skip_special_tokens=True).replace(" ", "")
    key = VIEWS[p.view]
    tensor = a[key][p.layer - 1]  # (1, heads, queries, keys)
    weights = tensor[0].mean(0) if p.head == 0 else tensor[0, p.head - 1]  # (queries, keys)
    matrix = [[round(float(w), 5) for w in row] for row in weights]

    if p.view == "编码器自注意力":
        rows, cols = source, source
        row_hover = [f"查询：源位置 {i}「{t}」" for i, t in enumerate(source)]
        col_hover = [f"键：源位置 {j}「{t}」" for j, t in enumerate(source)]
        y_title, x_title = "源句词元（查询）", "源句词元（键 / 值）"
    else:
        rows = [f"→{t}" for t in produced]
        row_hover = [f"查询：解码位置 {i}（输入「{d}」，在此预测出「{t}」）" for i, (d, t) in enumerate(zip(decoder, produced))]
        y_title = "解码器位置（标注 = 该位置预测出的词元）"
        if p.view == "交叉注意力":
            cols = source
            col_hover = [f"键：源位置 {j}「{t}」（编码器输出）" for j, t in enumerate(source)]
            x_title = "源句词元（编码器输出，键 / 值）"
        else:
            cols = decoder
            col_hover = [f"键：解码位置 {j}（输入「{t}」）" for j, t in enumerate(decoder)]
            x_title = "解码器输入词元（键 / 值；只能看到自己和之前的位置）"
    n_rows, n_cols = len(rows), len(cols)
    hover = [[f"{rh}<br>{ch}" for ch in col_hover] for rh in row_hover]
    head_name = "平均" if p.head == 0 else f"第{p.head}头"
    shape = tuple(tensor.shape)
    shown_text = text if len(text) <= 32 else text[:32] + "…"

    def font(n: int) -> int:
        return 12 if n <= 30 else 10 if n <= 60 else 8

    cell = 26 if n_rows <= 20 else 18 if n_rows <= 48 else 10
    trace = {"type": "heatmap", "z": matrix, "x": list(range(n_cols)), "y": list(range(n_rows)), "customdata": hover,
             "hovertemplate": "%{customdata}<br>权重 %{z:.4f}<extra></extra>",
             "colorscale": "Blues", "reversescale": True, "zmin": 0,
             "colorbar": {"title": {"text": "权重"}, "thickness": 12}, "xgap": 1, "ygap": 1}
    if n_cols <= 32 and n_rows <= 40:  # small enough to print every weight in its cell
        trace.update({"texttemplate": "%{z:.2f}", "textfont": {"size": 8}})
    data = [trace]
    numbers = {"view": p.view, "layer": p.layer, "head": p.head, "sentence": sentence, "source_tokens": source,
               "decoder_tokens": decoder, "output_tokens": produced, "generated_text": text,
               "entities": [list(e) for e in parse_entities(text).elements()],
               "shapes": {k: [list(t.shape) for t in a[k]] for k in VIEWS.values()},
               "shape": list(shape), "matrix": matrix, "row_sums": [round(float(s), 5) for s in weights.sum(-1)],
               "encoder_calls": a["encoder_calls"], "teacher_forcing_reproduces_generate": a["reproduces_generate"]}
    if p.view == "交叉注意力":
        best = weights.argmax(-1).tolist()
        numbers["argmax_source"] = best
        numbers["alignment"] = [[r, source[j]] for r, j in zip(rows, best)]
        data.append({"type": "scatter", "mode": "markers", "x": best, "y": list(range(n_rows)),
                     "name": "每行最大权重（对齐）", "hoverinfo": "skip",
                     "marker": {"symbol": "square-open", "size": max(5, min(cell, 720 // n_cols) - 3),
                                "color": "#dc2626", "line": {"width": 2}}})
    figure = {"data": data, "layout": {
        "title": {"text": f"{p.view} 第{p.layer}层 {head_name} · {shape} · 输出：{shown_text}"},
        "xaxis": {"title": {"text": x_title}, "tickmode": "array", "tickvals": list(range(n_cols)), "ticktext": cols,
                  "tickangle": 0, "tickfont": {"size": font(n_cols)}, "showgrid": False,
                  "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "tickmode": "array", "tickvals": list(range(n_rows)), "ticktext": rows,
                  "autorange": "reversed", "tickfont": {"size": font(n_rows)}, "showgrid": False, "zeroline": False},
        "height": 170 + cell * n_rows, "showlegend": p.view == "交叉注意力",
        "legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        "margin": {"t": 80, "l": 90, "r": 20, "b": 70}}}
    return {"figure": figure, "numbers": numbers}
