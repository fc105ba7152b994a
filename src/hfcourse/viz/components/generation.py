"""Chapter 7 components computed from real models and transformers' own generation utilities.

- TemperatureSlider: the real next-token distribution of a prompt, reshaped by transformers' temperature /
  top-k / top-p logits warpers.
- KVCacheVisualizer: a real `DynamicCache` growing token by token during greedy decoding (shapes and bytes).
- ChatTemplateBuilder: messages -> the exact string and token ids of several real chat templates.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from ..assets import require, tokenizer
from ..registry import component
from .config import ComponentError

MODELS = {"SmolLM2-135M-Instruct": "HuggingFaceTB/SmolLM2-135M-Instruct", "minillm-zh": "hfcourse/minillm-zh"}
TEMPLATES = {"SmolLM2-135M-Instruct": "HuggingFaceTB/SmolLM2-135M-Instruct",
             "Qwen2.5-0.5B-Instruct": "Qwen/Qwen2.5-0.5B-Instruct", "minillm-zh": "hfcourse/minillm-zh"}


@functools.lru_cache(maxsize=2)
def _model(name: str):
    import torch

    import hfcourse.minillm  # noqa: F401
    from transformers import AutoModelForCausalLM

    # float32 on CPU: the stored bf16 weights are upcast once, so every number shown is computed in fp32
    return AutoModelForCausalLM.from_pretrained(str(require(name, "config.json")), dtype=torch.float32).eval()


@functools.lru_cache(maxsize=32)
def _next_token_logits(model_name: str, prompt: str):
    import torch

    tok, model = tokenizer(model_name), _model(model_name)
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        return model(input_ids=ids).logits[0, -1].clone()  # (vocab,)


class TemperatureParams(BaseModel):
    model: Literal["SmolLM2-135M-Instruct", "minillm-zh"] = Field("SmolLM2-135M-Instruct", description="模型")
    prompt: str = Field("The capital of France is", min_length=1, max_length=200, description="提示词")
    temperature: float = Field(1.0, ge=0.05, le=5.0, description="temperature")
    top_k: int = Field(0, ge=0, le=500, description="top_k（0 = 不限制）")
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="top_p（1 = 不限制）")


def warp(logits, temperature: float, top_k: int, top_p: float):
    """The processed next-token probabilities, by the same warpers `generate(do_sample=True)` applies."""
    import torch
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = LogitsProcessorList([TemperatureLogitsWarper(temperature)])
    if top_k:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    scores = warpers(torch.zeros(1, 1, dtype=torch.long), logits[None].clone())[0]  # (vocab,)
    return torch.softmax(scores, dim=-1)


@component("TemperatureSlider", params=TemperatureParams, title="Temperature / top-k / top-p：下一个词元的真实分布",
           chapter=7, description="真实模型对提示词给出的下一个词元分布，经 transformers 的 logits warper 处理前后对比。")
def temperature_slider(p: TemperatureParams) -> dict:
    import torch

    tok = tokenizer(MODELS[p.model])
    logits = _next_token_logits(MODELS[p.model], p.prompt)
    base = torch.softmax(logits, dim=-1)
    warped = warp(logits, p.temperature, p.top_k, p.top_p)
    top = torch.topk(base, 20).indices.tolist()
    labels = [repr(tok.decode([i]))[1:-1] or f"id {i}" for i in top]

    def entropy(q):
        nz = q[q > 0]
        return float(-(nz * nz.log()).sum())

    figure = {"data": [{"type": "bar", "x": labels, "y": [float(base[i]) for i in top], "name": "原始 softmax"},
                       {"type": "bar", "x": labels, "y": [float(warped[i]) for i in top],
                        "name": f"T={p.temperature}, top_k={p.top_k or '—'}, top_p={p.top_p}"}],
              "layout": {"title": {"text": f"{p.model}：候选词元 {int((warped > 0).sum())} 个，"
                                           f"熵 {entropy(base):.2f} → {entropy(warped):.2f} nats"},
                         "barmode": "group", "yaxis": {"title": {"text": "概率"}},
                         "xaxis": {"title": {"text": "原始分布中概率最高的 20 个词元"}},
                         "margin": {"t": 60, "l": 60, "r": 20, "b": 80}}}
    return {"figure": figure, "numbers": {
        "token_ids": top, "tokens": labels, "original": [round(float(base[i]), 6) for i in top],
        "processed": [round(float(warped[i]), 6) for i in top], "candidates": int((warped > 0).sum()),
        "entropy_original": round(entropy(base), 4), "entropy_processed": round(entropy(warped), 4)}}


class KVCacheParams(BaseModel):
    model: Literal["SmolLM2-135M-Instruct", "minillm-zh"] = Field("SmolLM2-135M-Instruct", description="模型")
    prompt: str = Field("The capital of France is", min_length=1, max_length=200, description="提示词")
    new_tokens: int = Field(8, ge=1, le=24, description="生成的新词元数")


@component("KVCacheVisualizer", params=KVCacheParams, title="KV Cache：DynamicCache 随解码逐步增长", chapter=7,
           description="贪心解码时逐步读取真实 DynamicCache 每层 key/value 的形状与占用字节。")
def kv_cache_visualizer(p: KVCacheParams) -> dict:
    import torch
    from transformers import DynamicCache

    tok, model = tokenizer(MODELS[p.model]), _model(MODELS[p.model])
    ids = tok(p.prompt, return_tensors="pt")["input_ids"]  # (1, T)
    cache = DynamicCache(config=model.config)
    steps, generated, step_input = [], [], ids
    with torch.no_grad():
        for step in range(p.new_tokens + 1):
            out = model(input_ids=step_input, cache=cache, use_cache=True)
            layer0 = cache.layers[0]
            total = sum(layer.keys.numel() * layer.keys.element_size() + layer.values.numel() * layer.values.element_size()
                        for layer in cache.layers)
            steps.append({"step": step, "input_len": step_input.shape[1], "seq_len": cache.get_seq_length(),
                          "key_shape": list(layer0.keys.shape), "value_shape": list(layer0.values.shape),
                          "bytes": total})
            if step == p.new_tokens:
                break
            step_input = out.logits[:, -1].argmax(-1, keepdim=True)  # (1, 1): greedy
            generated.append(int(step_input))
    labels = ["prefill"] + [repr(tok.decode([t]))[1:-1] for t in generated]
    figure = {"data": [{"type": "bar", "x": [f"{s['step']}: {lab}" for s, lab in zip(steps, labels)],
                        "y": [s["bytes"] / 2**10 for s in steps], "name": "KV cache (KiB)",
                        "text": [str(s["seq_len"]) for s in steps], "textposition": "outside",
                        "hovertemplate": "%{x}<br>%{y:.1f} KiB<extra></extra>"}],
              "layout": {"title": {"text": f"{len(cache.layers)} 层 × key/value {tuple(steps[-1]['key_shape'])}："
                                           f"{steps[-1]['bytes'] / 2**10:.1f} KiB"},
                         "yaxis": {"title": {"text": "KiB（柱上数字 = 缓存的序列长度）"}},
                         "xaxis": {"title": {"text": "解码步（词元）"}}, "margin": {"t": 60, "l": 60, "r": 20, "b": 90}}}
    return {"figure": figure, "numbers": {"layers": len(cache.layers), "dtype": str(cache.layers[0].keys.dtype),
                                          "generated_ids": generated, "text": tok.decode(generated),
                                          "steps": steps}}


class ChatParams(BaseModel):
    template: Literal["SmolLM2-135M-Instruct", "Qwen2.5-0.5B-Instruct", "minillm-zh"] = Field(
        "Qwen2.5-0.5B-Instruct", description="聊天模板（来自哪个分词器）")
    messages: str = Field("system: 你是一个简洁的助手。|user: 你好，介绍一下你自己。", max_length=500,
                          description="消息，格式 角色: 内容，用 | 分隔（角色为 system / user / assistant）")
    add_generation_prompt: bool = Field(True, description="add_generation_prompt")

    @field_validator("messages")
    @classmethod
    def _parse(cls, v: str) -> str:
        for part in v.split("|"):
            role, sep, content = part.partition(":")
            if not sep or role.strip() not in ("system", "user", "assistant") or not content.strip():
                raise ValueError(f"无法解析 {part.strip()!r}：每条消息写成 角色: 内容，角色为 system / user / assistant")
        return v


def parse_messages(text: str) -> list[dict]:
    return [{"role": r.strip(), "content": c.strip()} for r, _, c in (p.partition(":") for p in text.split("|"))]


@component("ChatTemplateBuilder", params=ChatParams, title="聊天模板：消息 → 模板字符串 → 词元", chapter=7,
           description="用真实分词器自带的 chat template 渲染消息，显示完整字符串与每个词元，特殊词元高亮。")
def chat_template_builder(p: ChatParams) -> dict:
    tok = tokenizer(TEMPLATES[p.template])
    messages = parse_messages(p.messages)
    try:
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=p.add_generation_prompt)
        ids = tok.apply_chat_template(messages, add_generation_prompt=p.add_generation_prompt)["input_ids"]
    except Exception as e:  # noqa: BLE001 - the template's own error (e.g. a role it does not accept)
        raise ComponentError(f"模板报错：{e}") from None
    tokens = tok.convert_ids_to_tokens(ids)
    # chat markers such as Qwen's <|im_start|> are added tokens flagged special, not always named special tokens
    special = set(tok.all_special_ids) | {i for i, t in tok.added_tokens_decoder.items() if t.special}
    width = 16
    rows = [ids[i:i + width] for i in range(0, len(ids), width)]
    z = [[1 if t in special else 0 for t in r] + [None] * (width - len(r)) for r in rows]
    shown = [[repr(tok.decode([t]))[1:-1] for t in r] + [""] * (width - len(r)) for r in rows]
    hover = [[f"{tokens[i * width + j]} (id {t})" for j, t in enumerate(r)] + [""] * (width - len(r))
             for i, r in enumerate(rows)]
    figure = {"data": [{"type": "heatmap", "z": z, "text": shown, "texttemplate": "%{text}", "customdata": hover,
                        "hovertemplate": "%{customdata}<extra></extra>", "showscale": False, "xgap": 2, "ygap": 2,
                        "colorscale": [[0, "#dbeafe"], [1, "#fca5a5"]], "zmin": 0, "zmax": 1}],
              "layout": {"title": {"text": f"{p.template}：{len(ids)} 个词元，其中特殊词元 "
                                           f"{sum(t in special for t in ids)} 个（红色）"},
                         "yaxis": {"autorange": "reversed", "showticklabels": False},
                         "xaxis": {"showticklabels": False}, "height": 120 + 36 * len(rows),
                         "margin": {"t": 60, "l": 20, "r": 20, "b": 20}}}
    return {"figure": figure, "numbers": {"text": text, "input_ids": ids, "tokens": tokens,
                                          "special_tokens": sorted({tokens[i] for i, t in enumerate(ids) if t in special})}}


class BeamParams(BaseModel):
    prompt: str = Field("The capital of France is", min_length=1, max_length=200, description="提示词")
    num_beams: int = Field(3, ge=2, le=5, description="num_beams")
    max_new_tokens: int = Field(6, ge=1, le=12, description="max_new_tokens")
    length_penalty: float = Field(1.0, ge=0.0, le=2.0, description="length_penalty")


@component("BeamSearchVisualizer", params=BeamParams, title="Beam Search：最终候选的搜索树与逐步得分", chapter=7,
           description="SmolLM2 的 generate(num_beams=…) 返回的全部候选，用 beam_indices 与逐步转移得分还原成前缀树。")
def beam_search_visualizer(p: BeamParams) -> dict:
    import torch

    name = MODELS["SmolLM2-135M-Instruct"]
    tok, model = tokenizer(name), _model(name)
    inputs = tok(p.prompt, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, num_beams=p.num_beams, num_return_sequences=p.num_beams,
                             max_new_tokens=p.max_new_tokens, do_sample=False, length_penalty=p.length_penalty,
                             output_scores=True, return_dict_in_generate=True, pad_token_id=tok.eos_token_id)
    steps = model.compute_transition_scores(out.sequences, out.scores, out.beam_indices)  # (beams, T_new)
    start = inputs["input_ids"].shape[1]
    # The returned hypotheses share prefixes: merge them into a tree whose edges carry each token's log-prob.
    node_ids, labels, parents, values, hover = ["root"], [p.prompt[-24:]], [""], [0.0], [p.prompt]
    candidates = []
    for b in range(out.sequences.shape[0]):
        n = int((out.beam_indices[b] >= 0).sum())
        tokens = out.sequences[b, start:start + n].tolist()
        logps = steps[b, :n].tolist()
        parent, total = "root", 0.0
        for t, (token, lp) in enumerate(zip(tokens, logps)):
            total += lp
            node = f"{parent}/{token}"
            if node not in node_ids:
                node_ids.append(node)
                labels.append(repr(tok.decode([token]))[1:-1] or f"id {token}")
                parents.append(parent)
                values.append(round(total, 4))
                hover.append(f"第 {t + 1} 步 · log p = {lp:.3f} · 累计 {total:.3f}")
            parent = node
        candidates.append({"text": tok.decode(tokens), "tokens": tokens, "token_logprobs": [round(x, 5) for x in logps],
                           "sum_logprob": round(sum(logps), 5), "length": n,
                           "sequence_score": round(float(out.sequences_scores[b]), 5)})
    figure = {"data": [{"type": "treemap", "ids": node_ids, "labels": labels, "parents": parents,
                        "customdata": hover, "hovertemplate": "%{label}<br>%{customdata}<extra></extra>",
                        "marker": {"colors": values, "colorscale": "Blues", "reversescale": True,
                                   "showscale": False}, "branchvalues": "remainder", "maxdepth": p.max_new_tokens + 1}],
              "layout": {"title": {"text": f"{p.num_beams} 个候选，最佳：{candidates[0]['text']!r}"
                                           f"（得分 {candidates[0]['sequence_score']}）"},
                         "margin": {"t": 60, "l": 10, "r": 10, "b": 10}}}
    return {"figure": figure, "numbers": {"candidates": candidates}}


STRATEGIES = {
    "greedy": dict(do_sample=False),
    "beam (num_beams=4)": dict(do_sample=False, num_beams=4),
    "sampling (T=1.0)": dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0),
    "sampling (T=0.7, top_p=0.9)": dict(do_sample=True, temperature=0.7, top_k=0, top_p=0.9),
    "sampling (top_k=20)": dict(do_sample=True, temperature=1.0, top_k=20, top_p=1.0),
    "sampling (min_p=0.1)": dict(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, min_p=0.1),
    "greedy + repetition_penalty=1.3": dict(do_sample=False, repetition_penalty=1.3),
    "greedy + no_repeat_ngram_size=2": dict(do_sample=False, no_repeat_ngram_size=2),
}


class StrategyParams(BaseModel):
    prompt: str = Field("Once upon a time, in a small village,", min_length=1, max_length=200, description="提示词")
    max_new_tokens: int = Field(24, ge=4, le=48, description="max_new_tokens")
    seed: int = Field(0, ge=0, le=10_000, description="采样的随机种子")


def score(model, prompt_ids, new_ids) -> list[float]:
    """log p(each new token | everything before it) under the unmodified model: one forward pass."""
    import torch

    ids = torch.cat([prompt_ids, new_ids], dim=1)  # (1, T + N)
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0, :-1].double(), dim=-1)  # (T + N - 1, vocab)
    start = prompt_ids.shape[1]
    return [float(logp[start - 1 + i, t]) for i, t in enumerate(new_ids[0].tolist())]


@component("GenerationStrategyComparator", params=StrategyParams, title="解码策略对比：同一提示词，八种策略",
           chapter=7, description="SmolLM2 用 greedy、beam、各种采样与重复惩罚生成，再用同一个模型给每个输出打分。")
def generation_strategy_comparator(p: StrategyParams) -> dict:
    import torch

    name = MODELS["SmolLM2-135M-Instruct"]
    tok, model = tokenizer(name), _model(name)
    inputs = tok(p.prompt, return_tensors="pt")
    rows = []
    for label, kwargs in STRATEGIES.items():
        torch.manual_seed(p.seed)
        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=p.max_new_tokens, pad_token_id=tok.eos_token_id, **kwargs)
        new = out[:, inputs["input_ids"].shape[1]:]
        logps = score(model, inputs["input_ids"], new)
        words = new[0].tolist()
        bigrams = list(zip(words, words[1:]))
        rows.append({"strategy": label, "text": tok.decode(new[0], skip_special_tokens=True), "tokens": len(words),
                     "mean_logprob": round(sum(logps) / max(1, len(logps)), 4),
                     "distinct_2": round(len(set(bigrams)) / max(1, len(bigrams)), 3)})
    figure = {"data": [{"type": "bar", "y": [r["strategy"] for r in rows], "x": [r["mean_logprob"] for r in rows],
                        "orientation": "h", "text": [r["text"][:60] for r in rows], "textposition": "inside",
                        "insidetextanchor": "start", "hovertemplate": "%{y}<br>%{x:.3f}<extra></extra>",
                        "name": "平均 log p"}],
              "layout": {"title": {"text": "模型给每个输出的平均 log-prob（越接近 0，模型越“认可”）"},
                         "xaxis": {"title": {"text": "平均每词元 log p（同一模型、未经处理的分布）"}},
                         "yaxis": {"autorange": "reversed"}, "height": 460,
                         "margin": {"t": 60, "l": 230, "r": 20, "b": 50}}}
    return {"figure": figure, "numbers": {"prompt": p.prompt, "seed": p.seed, "outputs": rows}}
