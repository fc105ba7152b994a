"""Chapter 3 components computed from real transformers models built on the meta device (no weights).

- ConfigEditor: edit the size fields of a config, see the parameter count and memory of the model that
  transformers really builds from it (invalid combinations return transformers' own error message).
- ArchitectureExplorer: the module tree of a real model class with per-module parameter counts.
"""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import BaseModel, Field

from ..registry import component

FAMILIES = {
    # family: (config class, model class, small but realistic defaults)
    "llama": ("LlamaConfig", "LlamaForCausalLM",
              dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3,
                   intermediate_size=1536, vocab_size=49152, tie_word_embeddings=True)),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM",
              dict(hidden_size=896, num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2,
                   intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True)),
    "bert": ("BertConfig", "BertForMaskedLM",
             dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                  vocab_size=30522)),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel",
             dict(n_embd=768, n_layer=12, n_head=12, vocab_size=50257)),
    "t5": ("T5Config", "T5ForConditionalGeneration",
           dict(d_model=512, num_layers=6, num_decoder_layers=6, num_heads=8, d_ff=2048, vocab_size=32128)),
}
GPT2_NAMES = {"hidden_size": "n_embd", "num_hidden_layers": "n_layer", "num_attention_heads": "n_head"}
T5_NAMES = {"hidden_size": "d_model", "num_hidden_layers": "num_layers", "num_attention_heads": "num_heads",
            "intermediate_size": "d_ff"}


def build_on_meta(family: str, overrides: dict):
    """(config, model) of `family` with `overrides`, instantiated on the meta device (no memory)."""
    import torch
    import transformers

    config, model_name = build_config(family, overrides)
    with torch.device("meta"):
        model = getattr(transformers, model_name)(config)
    return config, model


def build_config(family: str, overrides: dict):
    """(config, model class name) without building the model: validates the combination."""
    import transformers

    cfg_name, model_name, defaults = FAMILIES[family]
    names = GPT2_NAMES if family == "gpt2" else T5_NAMES if family == "t5" else {}
    return getattr(transformers, cfg_name)(**_kwargs(family, defaults, names, overrides)), model_name


def _kwargs(family: str, defaults: dict, names: dict, overrides: dict) -> dict:
    kwargs = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "num_key_value_heads" and family not in ("llama", "qwen2"):
            continue
        if key == "intermediate_size" and family == "gpt2":
            kwargs["n_inner"] = value
            continue
        kwargs[names.get(key, key)] = value
    return kwargs


@functools.lru_cache(maxsize=512)
def _counts(family: str, overrides: tuple, layers: int) -> tuple[str, dict[str, int]]:
    """Parameters per group (and "__total__") of the real model with `layers` layers, built on meta."""
    _, model = build_on_meta(family, {**dict(overrides), "num_hidden_layers": layers})
    groups: dict[str, int] = {"__total__": model.num_parameters()}
    for name, param in model.named_parameters():
        key = ("embedding" if "embed" in name or "wte" in name or "wpe" in name or "shared" in name
               else "attention" if any(k in name for k in ("attn", "attention", "q_proj", "k_proj", "v_proj", "o_proj"))
               else "mlp" if any(k in name for k in ("mlp", "intermediate", "output.dense", "DenseReluDense", "ffn"))
               else "norm" if "norm" in name or "ln_" in name or "LayerNorm" in name
               else "head / other")
        groups[key] = groups.get(key, 0) + param.numel()
    return type(model).__name__, groups


class ConfigParams(BaseModel):
    """Empty fields take the family's default (llama defaults = SmolLM2-135M's shape)."""

    family: Literal["llama", "qwen2", "bert", "gpt2", "t5"] = Field("llama", description="模型家族")
    hidden_size: int | None = Field(None, ge=8, le=8192, description="隐藏维度 hidden_size（留空为默认）")
    num_hidden_layers: int | None = Field(None, ge=1, le=96, description="层数")
    num_attention_heads: int | None = Field(None, ge=1, le=128, description="注意力头数")
    num_key_value_heads: int | None = Field(None, ge=1, le=128, description="KV 头数（GQA，仅 llama/qwen2）")
    intermediate_size: int | None = Field(None, ge=8, le=65536, description="前馈层维度")
    vocab_size: int | None = Field(None, ge=16, le=300000, description="词表大小")


class ComponentError(ValueError):
    """An invalid input the learner should see explained (transformers' own message)."""


@component("ConfigEditor", params=ConfigParams, title="配置编辑器：改动 config，看参数量与显存", chapter=3,
           description="在 meta 设备上用真实的 transformers 模型类构建模型，统计参数量与权重内存。")
def config_editor(p: ConfigParams) -> dict:
    overrides = p.model_dump(exclude={"family"})
    layers = overrides.pop("num_hidden_layers") or FAMILIES[p.family][2].get(
        GPT2_NAMES["num_hidden_layers"] if p.family == "gpt2" else T5_NAMES["num_hidden_layers"] if p.family == "t5"
        else "num_hidden_layers")
    try:
        config, _ = build_config(p.family, {**overrides, "num_hidden_layers": layers})
        # Decoder/encoder layers are identical copies, so the count is linear in the layer count: two real
        # builds (1 and 2 layers) give the exact total for any depth at a fraction of the cost of a deep build.
        model_class, one = _counts(p.family, tuple(sorted(overrides.items())), 1)
        _, two = _counts(p.family, tuple(sorted(overrides.items())), 2)
    except Exception as e:  # noqa: BLE001 - transformers' own validation message is the explanation
        raise ComponentError(str(e).strip().split("\n")[-1].strip()) from None
    groups = {k: one.get(k, 0) + (layers - 1) * (two.get(k, 0) - one.get(k, 0)) for k in two}
    total = groups.pop("__total__")
    memory = {"fp32 (GB)": total * 4 / 1e9, "bf16 (GB)": total * 2 / 1e9, "int8 (GB)": total / 1e9,
              "int4 (GB)": total / 2 / 1e9}
    figure = {
        "data": [{"type": "bar", "x": list(groups), "y": list(groups.values()), "name": "参数量",
                  "text": [f"{v / 1e6:.2f}M" for v in groups.values()], "textposition": "auto"}],
        "layout": {"title": {"text": f"{model_class}: {total / 1e6:.2f}M 参数"},
                   "yaxis": {"title": {"text": "参数个数"}}, "margin": {"t": 50, "l": 60, "r": 20, "b": 40}},
    }
    return {"figure": figure, "numbers": {"model_class": model_class, "num_parameters": total,
                                          "by_group": groups, "weights_memory": memory,
                                          "config": config.to_diff_dict() if hasattr(config, "to_diff_dict") else {}}}


class ArchitectureParams(BaseModel):
    family: Literal["bert", "gpt2", "t5", "llama", "qwen2"] = Field("bert", description="模型家族")
    depth: int = Field(3, ge=1, le=5, description="展开的层级深度")


@component("ArchitectureExplorer", params=ArchitectureParams, title="架构浏览器：模块树与参数分布", chapter=3,
           description="真实模型类（默认配置）在 meta 设备上的模块树与逐模块参数量。")
def architecture_explorer(p: ArchitectureParams) -> dict:
    _, model = build_on_meta(p.family, {})
    ids, labels, parents, values = [], [], [], []
    root = type(model).__name__

    seen: set[int] = set()  # tied weights (T5's shared embedding) are counted where they first appear

    def walk(module, path: str, parent: str, depth: int) -> None:
        for name, child in module.named_children():
            child_path = f"{path}.{name}" if path else name
            params = [x for x in child.parameters() if id(x) not in seen]
            count = sum(x.numel() for x in params)
            if count:
                ids.append(child_path)
                labels.append(f"{name} ({type(child).__name__})")
                parents.append(parent)
                values.append(count)
                if depth < p.depth:
                    walk(child, child_path, child_path, depth + 1)
            seen.update(id(x) for x in params)

    ids.append(root)
    labels.append(root)
    parents.append("")
    values.append(model.num_parameters())
    walk(model, "", root, 1)
    figure = {"data": [{"type": "treemap", "ids": ids, "labels": labels, "parents": parents, "values": values,
                        "branchvalues": "total", "hovertemplate": "%{label}<br>%{value:,} 参数<extra></extra>"}],
              "layout": {"title": {"text": f"{root}: {model.num_parameters() / 1e6:.1f}M 参数"},
                         "margin": {"t": 50, "l": 10, "r": 10, "b": 10}}}
    return {"figure": figure, "numbers": {"model_class": root, "num_parameters": model.num_parameters(),
                                          "modules": dict(zip(ids, values))}}
