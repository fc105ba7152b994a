"""Chapter 2 components: what a tokenizer really does to a text, computed with the real libraries.

- TokenizationVisualizer: one text through one of five real fast tokenizers (WordPiece, byte-level BPE,
  SentencePiece BPE with byte fallback, the course's Chinese WordPiece): tokens, ids, offsets, special /
  unknown / byte tokens, and the token count of the same text under all five.
- TokenAlgorithmComparison: WordPiece, BPE and Unigram trained with the `tokenizers` library on the same
  corpus with the same vocabulary size, then applied to the learner's text.
- AttentionMaskBuilder: the padding mask of a real batch, the causal mask, and their combination for one
  sample, cross-checked against the mask transformers itself builds (`masking_utils.create_causal_mask`).
"""

from __future__ import annotations

import functools
import re
from typing import Literal, get_args

from pydantic import BaseModel, Field, field_validator

from ..assets import require, tokenizer
from ..registry import component
from .config import ComponentError

# label shown in the select -> workspace folder
TOKENIZERS = {
    "bert-base-uncased (WordPiece)": "google-bert/bert-base-uncased",
    "GPT-2 (BPE)": "openai-community/gpt2",
    "Qwen2.5 (BPE)": "Qwen/Qwen2.5-0.5B-Instruct",
    "Llama-2 (SentencePiece)": "meta-llama/Llama-2-7b-hf",
    "bert-zh-mini (课程中文 WordPiece)": "hfcourse/bert-zh-mini",
}
TokenizerLabel = Literal["bert-base-uncased (WordPiece)", "GPT-2 (BPE)", "Qwen2.5 (BPE)", "Llama-2 (SentencePiece)",
                         "bert-zh-mini (课程中文 WordPiece)"]
assert set(get_args(TokenizerLabel)) == set(TOKENIZERS)
# byte-level BPE: a token may be only part of a character's UTF-8 bytes
BYTE_LEVEL = {"openai-community/gpt2", "Qwen/Qwen2.5-0.5B-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct"}
BYTE_FALLBACK = re.compile(r"<0x[0-9A-Fa-f]{2}>")  # SentencePiece byte-fallback pieces (Llama)
KINDS = ["普通", "特殊", "未知", "字节回退"]
KIND_COLORS = ["#dbeafe", "#fde68a", "#fca5a5", "#c4b5fd"]
COLS = 10  # token cells per row
MAX_CELLS = 300  # token cells drawn at most (300 emoji are 1,200 Llama-2 byte tokens)


def _discrete_scale(colors: list[str]) -> list:
    """A Plotly colour scale giving the integers 0..n-1 flat colours (use it with zmin -0.5, zmax n - 0.5)."""
    n = len(colors)
    scale = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def _cells(labels: list[str], codes: list[int], hover: list[str], cols: int = COLS):
    """Wrap a token sequence into rows of `cols` cells: (z, text, hover) with None in the empty tail cells."""
    z, text, custom = [], [], []
    for start in range(0, max(1, len(labels)), cols):
        row = slice(start, start + cols)
        pad = cols - len(labels[row])
        z.append(codes[row] + [None] * pad)
        text.append(labels[row] + [""] * pad)
        custom.append(hover[row] + [""] * pad)
    return z, text, custom


def _esc(s: str) -> str:
    """Escape text for Plotly labels, which read a small HTML subset (a bare `<s>` would start strikethrough)."""
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _visible(s: str) -> str:
    """A token for a cell: escaped, with whitespace made visible (a leading space is part of many BPE tokens)."""
    return _esc(s.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥"))


@functools.lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Byte-level BPE's printable stand-ins for the 256 byte values (GPT-2's table), inverted: char -> byte."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[chr(b)] = b
        else:
            table[chr(256 + extra)] = b
            extra += 1
    return table


def _shown(name: str, token: str) -> str:
    """A token as a learner can read it: byte-level BPE tokens as their text (undecodable bytes as \\xNN)."""
    if name in BYTE_LEVEL:
        table = _byte_decoder()
        if all(c in table for c in token):
            token = bytes(table[c] for c in token).decode("utf-8", errors="backslashreplace")
    return _visible(token)


@functools.lru_cache(maxsize=65536)
def _decode_one(name: str, token_id: int) -> str:
    return tokenizer(name).decode([token_id])


def _text_not_blank(cls, v: str) -> str:
    if not v.strip():
        raise ValueError("请输入要分词的文本（不能为空）")
    return v


class TokenizationParams(BaseModel):
    text: str = Field("Transformers 让 NLP 变简单了！unbelievable 🤗", max_length=300, description="要分词的文本")
    tokenizer: TokenizerLabel = Field("bert-base-uncased (WordPiece)", description="分词器")
    add_special_tokens: bool = Field(True, description="添加特殊 token（[CLS]/[SEP]、<s> 等）")

    _not_blank = field_validator("text")(_text_not_blank)


def encode(name: str, text: str, add_special_tokens: bool) -> dict:
    """Tokens, ids, character offsets and kinds (普通 / 特殊 / 未知 / 字节回退) of `text` under the tokenizer `name`."""
    tok = tokenizer(name)
    enc = tok(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True,
              return_special_tokens_mask=True, verbose=False)
    ids = list(enc["input_ids"])
    tokens = tok.convert_ids_to_tokens(ids)
    special = set(tok.all_special_ids)
    kinds = []
    for token_id, token, flag in zip(ids, tokens, enc["special_tokens_mask"]):
        if flag or (token_id in special and token_id != tok.unk_token_id):
            kinds.append("特殊")
        elif tok.unk_token_id is not None and token_id == tok.unk_token_id:
            kinds.append("未知")
        elif (name in BYTE_LEVEL and "\ufffd" in _decode_one(name, token_id)) or BYTE_FALLBACK.fullmatch(token):
            kinds.append("字节回退")
        else:
            kinds.append("普通")
    return {"ids": ids, "tokens": tokens, "offsets": [list(o) for o in enc["offset_mapping"]], "kinds": kinds}


@component("TokenizationVisualizer", params=TokenizationParams, title="分词可视化：同一句话在不同分词器下的 token",
           chapter=2, description="用真实的 fast tokenizer 切分你的文本：token、id、字符偏移，"
                                  "特殊 / 未知 / 字节回退 token 分色显示，并比较五种分词器的 token 数。")
def tokenization_visualizer(p: TokenizationParams) -> dict:
    name = TOKENIZERS[p.tokenizer]
    got = encode(name, p.text, p.add_special_tokens)
    ids, tokens, kinds, offsets = got["ids"], got["tokens"], got["kinds"], got["offsets"]
    tok = tokenizer(name)
    counts = {label: len(tokenizer(n)(p.text, add_special_tokens=p.add_special_tokens, verbose=False)["input_ids"])
              for label, n in TOKENIZERS.items()}
    shown = [_shown(name, t) for t in tokens]
    labels = [f"{s}<br>{i}" for s, i in zip(shown, ids)]
    hover = [f"token {_esc(repr(t))} · id {i}<br>{k} · 字符 [{a}, {b}) {_esc(repr(p.text[a:b]))}"
             for t, i, k, (a, b) in zip(tokens, ids, kinds, offsets)]
    drawn = min(len(ids), MAX_CELLS)  # a very long sequence: the numbers keep every token, the figure the first ones
    z, text, custom = _cells(labels[:drawn], [KINDS.index(k) for k in kinds[:drawn]], hover[:drawn])
    n_rows = len(z)
    by_kind = {k: kinds.count(k) for k in KINDS}
    legend_counts = "，".join(f"{k} {v}" for k, v in by_kind.items() if v)
    cells = {"type": "heatmap", "z": z, "text": text, "texttemplate": "%{text}", "customdata": custom,
             "hovertemplate": "%{customdata}<extra></extra>", "colorscale": _discrete_scale(KIND_COLORS),
             "zmin": -0.5, "zmax": len(KINDS) - 0.5, "showscale": False, "xgap": 3, "ygap": 3,
             "name": "token", "xaxis": "x", "yaxis": "y"}
    bars = {"type": "bar", "x": list(counts), "y": list(counts.values()), "text": list(counts.values()),
            "textposition": "auto", "name": "token 数", "xaxis": "x2", "yaxis": "y2",
            "marker": {"color": ["#2563eb" if label == p.tokenizer else "#94a3b8" for label in counts]}}
    cell_h, bar_h, gap = 46 * n_rows, 220, 90
    plot_h = cell_h + gap + bar_h
    split = (bar_h + gap) / plot_h  # the cells sit above this fraction of the plot area, the bars below
    legend = "　".join(f'<span style="color:{c}">■</span> {k}' for k, c in zip(KINDS, KIND_COLORS))
    figure = {
        "data": [cells, bars],
        "layout": {
            "title": {"text": f"{p.tokenizer}：{len(ids)} 个 token（{legend_counts}）"
                              + (f"，图中只画前 {drawn} 个" if drawn < len(ids) else "")},
            "height": plot_h + 90, "margin": {"t": 60, "l": 50, "r": 20, "b": 30}, "showlegend": False,
            "xaxis": {"visible": False, "range": [-0.5, COLS - 0.5]},
            "yaxis": {"autorange": "reversed", "domain": [split, 1.0], "visible": False},
            "xaxis2": {"anchor": "y2"},
            "yaxis2": {"domain": [0.0, bar_h / plot_h], "anchor": "x2", "title": {"text": "token 数"}},
            "annotations": [
                {"text": f"颜色：{legend}", "xref": "paper", "yref": "paper", "x": 0, "y": split - 12 / plot_h,
                 "xanchor": "left", "yanchor": "top", "showarrow": False},
                {"text": "同一段文本在五种分词器下的 token 数", "xref": "paper", "yref": "paper", "x": 0.5,
                 "y": bar_h / plot_h + 8 / plot_h, "xanchor": "center", "yanchor": "bottom", "showarrow": False},
            ],
        },
    }
    return {"figure": figure, "numbers": {
        "tokenizer": name, "tokens": tokens, "ids": ids, "offsets": offsets, "kinds": kinds,
        "kind_counts": by_kind, "counts_by_tokenizer": counts, "decoded": tok.decode(ids)}}


# -- TokenAlgorithmComparison ------------------------------------------------------------------------------
REVIEWS = "datasets/zh-sentiment/train.csv"
PEOPLES_DAILY = "datasets/peoples-daily-text/train.txt"
CORPUS_LINES = 2000  # from each source: keeps the three trainings to a few seconds on two CPU cores
ALGORITHMS = ["WordPiece", "BPE", "Unigram"]
ALPHABET_SHARE = 0.4  # share of the vocabulary given to single characters (the same alphabet for all three)
UNK = "[UNK]"


@functools.lru_cache(maxsize=1)
def _training_corpus() -> tuple[str, ...]:
    """The first CORPUS_LINES review texts and the first CORPUS_LINES People's Daily sentences."""
    import csv

    with open(require(REVIEWS), encoding="utf-8", newline="") as f:
        reviews = [row["text"] for _, row in zip(range(CORPUS_LINES), csv.DictReader(f))]
    with open(require(PEOPLES_DAILY), encoding="utf-8") as f:
        news = [line.strip() for _, line in zip(range(CORPUS_LINES), f)]
    return tuple(t for t in reviews + news if t.strip())


def _alphabet(vocab_size: int) -> set[str]:
    """ASCII letters and digits plus the most frequent corpus characters: int(ALPHABET_SHARE * vocab_size) in all.

    Chinese has thousands of characters; a Unigram vocabulary must hold every training character, so all three
    algorithms are trained on the corpus restricted to this shared alphabet (other characters become spaces).
    """
    import string
    from collections import Counter

    base = set(string.ascii_letters + string.digits)
    freq = Counter(c for line in _training_corpus() for c in line if not c.isspace() and c not in base)
    return base | {c for c, _ in freq.most_common(int(ALPHABET_SHARE * vocab_size) - len(base))}


@functools.lru_cache(maxsize=4)
def trained_tokenizers(vocab_size: int) -> dict:
    """{algorithm: tokenizers.Tokenizer} trained on the same restricted corpus with the same vocab_size."""
    import string

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    alphabet = _alphabet(vocab_size)
    corpus = ["".join(c if c in alphabet else " " for c in line) for line in _training_corpus()]
    initial = sorted(string.ascii_letters + string.digits)
    specs = {
        "WordPiece": (models.WordPiece(unk_token=UNK),
                      trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=[UNK], initial_alphabet=initial,
                                                show_progress=False)),
        "BPE": (models.BPE(unk_token=UNK),
                trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[UNK], initial_alphabet=initial,
                                    show_progress=False)),
        "Unigram": (models.Unigram(),
                    trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=[UNK], unk_token=UNK,
                                            initial_alphabet=initial, max_piece_length=6, shrinking_factor=0.5,
                                            n_sub_iterations=1, show_progress=False)),
    }
    out = {}
    for algo, (model, trainer) in specs.items():
        tok = Tokenizer(model)
        tok.pre_tokenizer = pre_tokenizers.Whitespace()  # the same word split for all three
        tok.train_from_iterator(corpus, trainer)
        out[algo] = tok
    return out


class AlgorithmParams(BaseModel):
    text: str = Field("Transformers 让自然语言处理变简单了！今天天气很好", max_length=200, description="要分词的文本")
    vocab_size: int = Field(2000, ge=500, le=8000, description="词表大小 vocab_size（三种算法相同）")

    _not_blank = field_validator("text")(_text_not_blank)


@component("TokenAlgorithmComparison", params=AlgorithmParams, title="分词算法对比：WordPiece / BPE / Unigram",
           chapter=2, description="用 tokenizers 库在同一份中文语料上以相同词表大小训练三种分词器，"
                                  "再切分你的文本，比较 token 与数量。")
def token_algorithm_comparison(p: AlgorithmParams) -> dict:
    toks = trained_tokenizers(p.vocab_size)
    per = {}
    for algo in ALGORITHMS:
        enc = toks[algo].encode(p.text)
        unk_id = toks[algo].token_to_id(UNK)
        per[algo] = {"tokens": enc.tokens, "ids": enc.ids, "offsets": [list(o) for o in enc.offsets],
                     "count": len(enc.ids), "unknown": enc.ids.count(unk_id),
                     "vocab_size": toks[algo].get_vocab_size()}
    width = max(1, max(d["count"] for d in per.values()))
    z, text, custom = [], [], []
    for algo in ALGORITHMS:
        d = per[algo]
        pad = width - d["count"]
        unk_id = toks[algo].token_to_id(UNK)
        z.append([2 if i == unk_id else (1 if t.startswith("##") else 0) for t, i in zip(d["tokens"], d["ids"])]
                 + [None] * pad)
        text.append([_visible(t) for t in d["tokens"]] + [""] * pad)
        custom.append([f"{algo} · id {i}{'（未知 [UNK]）' if i == unk_id else ''} · 字符 [{a}, {b}) "
                       f"{_esc(repr(p.text[a:b]))}"
                       for i, (a, b) in zip(d["ids"], d["offsets"])] + [""] * pad)
    counts = "，".join(f"{a} {per[a]['count']}" for a in ALGORITHMS)
    figure = {
        "data": [{"type": "heatmap", "z": z, "text": text, "texttemplate": "%{text}", "customdata": custom,
                  "hovertemplate": "%{customdata}<extra></extra>", "y": [f"{a}（{per[a]['count']}）" for a in ALGORITHMS],
                  "colorscale": _discrete_scale(["#dbeafe", "#bbf7d0", "#fca5a5"]), "zmin": -0.5, "zmax": 2.5,
                  "textfont": {"size": 12 if width <= 20 else 10},
                  "showscale": False, "xgap": 3, "ygap": 3}],
        "layout": {
            "title": {"text": f"vocab_size={p.vocab_size}：token 数 {counts}"},
            "height": 300, "margin": {"t": 60, "l": 130, "r": 20, "b": 50},
            "xaxis": {"title": {"text": "token 位置（蓝 词首 · 绿 ## 续接 · 红 [UNK]）"}},
            "yaxis": {"autorange": "reversed"},
        },
    }
    corpus = _training_corpus()
    return {"figure": figure, "numbers": {
        "vocab_size": p.vocab_size,
        "corpus": f"{REVIEWS} 前 {CORPUS_LINES} 条 + {PEOPLES_DAILY} 前 {CORPUS_LINES} 行",
        "corpus_lines": len(corpus), "corpus_chars": sum(len(t) for t in corpus),
        "alphabet_size": len(_alphabet(p.vocab_size)),
        "alphabet_note": f"三种算法共用同一字符表：ASCII 字母数字 + 语料中最常见的字符，共 {ALPHABET_SHARE:.0%} × vocab_size 个；"
                         "表外字符在训练语料中替换为空格（Unigram 的词表必须容纳全部训练字符），切分时成为 [UNK]",
        "algorithms": per}}


# -- AttentionMaskBuilder ----------------------------------------------------------------------------------
MASK_TOKENIZERS = {
    "SmolLM2-135M-Instruct（解码器）": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "bert-base-uncased（编码器）": "google-bert/bert-base-uncased",
}
MaskTokenizerLabel = Literal["SmolLM2-135M-Instruct（解码器）", "bert-base-uncased（编码器）"]
assert set(get_args(MaskTokenizerLabel)) == set(MASK_TOKENIZERS)
MASK_CONFIG = "HuggingFaceTB/SmolLM2-135M-Instruct"  # a Llama config: the library builds its decoder mask from it


@functools.lru_cache(maxsize=4)
def _padding_tokenizer(name: str):
    """(tokenizer, pad_was_set): the cached tokenizer, or an own copy with pad_token = eos_token if it has none."""
    tok = tokenizer(name)
    if tok.pad_token is not None:
        return tok, False
    from transformers import AutoTokenizer

    own = AutoTokenizer.from_pretrained(str(require(name, "tokenizer.json")))
    own.pad_token = own.eos_token
    return own, True


@functools.lru_cache(maxsize=1)
def _mask_config():
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(str(require(MASK_CONFIG, "config.json")))
    config._attn_implementation = "eager"  # eager: the library materializes the full 4D mask
    return config


def library_causal_mask(attention_mask):
    """The (B, T, T) boolean mask transformers' `create_causal_mask` builds for a decoder (True = may attend)."""
    import torch
    from transformers.masking_utils import create_causal_mask

    b, t = attention_mask.shape
    mask = create_causal_mask(config=_mask_config(), inputs_embeds=torch.zeros(b, t, 1), attention_mask=attention_mask,
                              cache=None, position_ids=None)
    return (mask == 0)[:, 0]  # eager: additive float mask, 0 where attending, dtype-min where blocked


class MaskParams(BaseModel):
    texts: str = Field("我喜欢这本书|今天天气很好|好", max_length=300,
                       description="若干条文本，用 | 分隔（2–4 条）")
    padding_side: Literal["right", "left"] = Field("right", description="填充方向 padding_side")
    tokenizer: MaskTokenizerLabel = Field("SmolLM2-135M-Instruct（解码器）", description="分词器")
    sample: int = Field(0, ge=0, le=3, description="查看第几个样本的组合掩码（从 0 开始）")

    @field_validator("texts")
    @classmethod
    def _two_to_four(cls, v: str) -> str:
        parts = [t.strip() for t in v.split("|") if t.strip()]
        if not 2 <= len(parts) <= 4:
            raise ValueError("需要 2 到 4 条非空文本，用 | 分隔")
        return "|".join(parts)


@component("AttentionMaskBuilder", params=MaskParams, title="注意力掩码：padding 掩码 × 因果掩码", chapter=2,
           description="真实 batch 的 padding 掩码、下三角因果掩码，以及解码器对某个样本实际使用的组合掩码，"
                       "并与 transformers 自己构造的掩码逐元素核对。")
def attention_mask_builder(p: MaskParams) -> dict:
    import torch

    name = MASK_TOKENIZERS[p.tokenizer]
    tok, pad_set = _padding_tokenizer(name)
    texts = p.texts.split("|")
    if p.sample >= len(texts):
        raise ComponentError(f"只有 {len(texts)} 条文本，sample 应在 0 到 {len(texts) - 1} 之间")
    batch = tok(texts, padding=True, padding_side=p.padding_side, return_tensors="pt")
    padding = batch["attention_mask"].bool()  # (B, T): True = real token
    t = padding.shape[1]
    causal = torch.tril(torch.ones(t, t, dtype=torch.bool))  # query i may see keys j <= i
    combined = causal[None] & padding[:, None, :]  # (B, T, T): causal AND the key is not padding
    library = library_causal_mask(batch["attention_mask"])
    matches = bool(torch.equal(combined, library))
    ids = batch["input_ids"].tolist()
    tokens = [tok.convert_ids_to_tokens(r) for r in ids]
    mine = combined[p.sample].int().tolist()
    row_tokens = [_shown(name, x) for x in tokens[p.sample]]
    blocked_rows = [i for i, r in enumerate(mine) if not any(r)]
    scale = [[0, "#e5e7eb"], [1, "#2563eb"]]
    common = {"type": "heatmap", "zmin": 0, "zmax": 1, "showscale": False, "colorscale": scale, "xgap": 1, "ygap": 1}
    positions = list(range(t))
    figure = {
        "data": [
            {**common, "z": padding.int().tolist(), "x": positions, "y": [f"样本 {i}" for i in range(len(texts))],
             "text": [[_shown(name, x) for x in r] for r in tokens],
             "hovertemplate": "%{y} · 位置 %{x}<br>%{text}<br>掩码 %{z}<extra></extra>",
             "xaxis": "x", "yaxis": "y"},
            {**common, "z": causal.int().tolist(), "x": positions, "y": positions,
             "hovertemplate": "query %{y} → key %{x}：%{z}<extra></extra>", "xaxis": "x2", "yaxis": "y2"},
            {**common, "z": mine, "x": positions, "y": positions,
             "customdata": [[f"{row_tokens[i]} → {row_tokens[j]}" for j in positions] for i in positions],
             "hovertemplate": "query %{y} → key %{x}<br>%{customdata}：%{z}<extra></extra>",
             "xaxis": "x3", "yaxis": "y3"},
        ],
        "layout": {
            "title": {"text": f"{p.padding_side} 填充，batch 形状 {tuple(padding.shape)}；样本 {p.sample} 的组合掩码"
                              f"{'与 transformers 一致' if matches else '与 transformers 不一致'}"},
            "height": 420, "margin": {"t": 80, "l": 60, "r": 20, "b": 50},
            "xaxis": {"domain": [0.0, 0.3], "title": {"text": "padding 掩码（位置）"}},
            "yaxis": {"autorange": "reversed", "anchor": "x"},
            "xaxis2": {"domain": [0.36, 0.66], "title": {"text": "因果掩码（key）"}, "anchor": "y2"},
            "yaxis2": {"autorange": "reversed", "anchor": "x2", "title": {"text": "query"}},
            "xaxis3": {"domain": [0.72, 1.0], "title": {"text": f"样本 {p.sample}：因果 ∧ padding（key）"}, "anchor": "y3"},
            "yaxis3": {"autorange": "reversed", "anchor": "x3"},
        },
    }
    return {"figure": figure, "numbers": {
        "tokenizer": name, "padding_side": p.padding_side, "pad_token": tok.pad_token,
        "pad_token_set_to_eos": pad_set, "tokens": tokens, "input_ids": ids,
        "attention_mask": padding.int().tolist(), "causal_mask": causal.int().tolist(),
        "sample": p.sample, "combined_mask": mine, "fully_masked_query_rows": blocked_rows,
        "library_function": "transformers.masking_utils.create_causal_mask（eager）",
        "matches_library": matches}}
