"""Assemble the teaching checkpoint folder from a pretrain run and an SFT run: weights, tokenizer, logs,
loss curve, and a model card whose numbers (perplexity, samples) are measured here by running the model.

    python -m hfcourse.minillm.card --pretrain RUN/pretrain --sft RUN/sft --out models/minillm-zh
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
from pathlib import Path

import torch

from . import corpus
from .data import PretrainDataset
from .generate import generate
from .model import MiniLLMForCausalLM
from .train import perplexity

NEWS_PROMPT = "新华社北京１月１日电"
CHAT_PROMPTS = ["判断这条评论的情感：质量很好，非常满意", "续写这句新闻：今天，全国各地"]


def read_log(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot(pre: list[dict], sft: list[dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot([r["step"] for r in pre], [r["loss"] for r in pre], label="pretrain")
    offset = pre[-1]["step"] if pre else 0
    ax.plot([offset + r["step"] for r in sft], [r["loss"] for r in sft], label="SFT (assistant tokens)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def samples(model, tok) -> list[tuple[str, str]]:
    out = []
    ids = tok(NEWS_PROMPT, return_tensors="pt")["input_ids"]
    ids = torch.cat([torch.tensor([[tok.bos_token_id]]), ids], dim=1)
    gen = generate(model, ids, max_new_tokens=60, repetition_penalty=1.2, eos_token_id=tok.eos_token_id)
    out.append((NEWS_PROMPT, tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)))
    for prompt in CHAT_PROMPTS:
        ids = tok.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                      return_dict=True, return_tensors="pt")["input_ids"]
        gen = generate(model, ids, max_new_tokens=40, repetition_penalty=1.2, eos_token_id=tok.eos_token_id)
        out.append((prompt, tok.decode(gen[0, ids.shape[1]:], skip_special_tokens=True)))
    return out


def sentiment_accuracy(model, tok, n: int = 200) -> dict:
    """Greedy answers to the SFT sentiment instruction on held-out reviews (validation split, never trained on)."""
    rows = [(t, y) for t, y in corpus._reviews("validation") if len(t) <= 60][:n]
    correct = invalid = 0
    for text, label in rows:
        ids = tok.apply_chat_template([{"role": "user", "content": f"判断这条评论的情感：{text}"}],
                                      add_generation_prompt=True, return_dict=True, return_tensors="pt")["input_ids"]
        answer = tok.decode(generate(model, ids, max_new_tokens=3, eos_token_id=tok.eos_token_id)[0, ids.shape[1]:],
                            skip_special_tokens=True).strip()
        pred = 1 if answer.startswith("正面") else 0 if answer.startswith("负面") else None
        invalid += pred is None
        correct += pred == label
    positives = sum(y for _, y in rows)
    return {"reviews": len(rows), "accuracy": round(correct / len(rows), 4), "invalid_answers": invalid,
            "majority_baseline": round(max(positives, len(rows) - positives) / len(rows), 4)}


def write_card(m: dict, out: Path) -> None:
    pre, sft, ppl = m["pretrain"], m["sft"], m["validation_perplexity"]
    shown = "\n".join(f"{i}. 输入：`{p}`\n   输出：`{o}`" for i, (p, o) in enumerate(m["samples"], 1))
    text = f"""# hfcourse/minillm-zh

本课程从零训练的 MiniMind 风格中文小语言模型（trained by this course），仅用于教学：代码见
`src/hfcourse/minillm/`。**不是**任何公开发布的预训练模型。

## 加载

```python
import hfcourse.minillm  # 注册 model_type "minillm"（AutoConfig / AutoModelForCausalLM）
from transformers import AutoModelForCausalLM, AutoTokenizer
tok = AutoTokenizer.from_pretrained("models/minillm-zh")
model = AutoModelForCausalLM.from_pretrained("models/minillm-zh")
```

没有保存 `auto_map` 与代码副本：模型代码只有一份（`hfcourse.minillm.model`），导入包即完成注册，
因此不需要也不建议 `trust_remote_code=True`。

## 模型

- 结构：decoder-only，RMSNorm，RoPE，分组查询注意力（8 个查询头、2 个键值头，`repeat_kv`），SwiGLU 前馈，
  词嵌入与输出层共享权重；参数量 {m["parameters"]:,}。配置见 `config.json`。
- 分词器：字节级 BPE，词表 6400，特殊符号 `<|endoftext|>`（pad）、`<|im_start|>`（bos）、`<|im_end|>`（eos），
  ChatML 风格对话模板（`chat_template.jinja`），在预训练文本上训练。

## 数据

- 预训练：工作区 `datasets/peoples-daily-text/train.txt`（《人民日报》1998 年 1 月语料，去掉词性标注，
  相邻句子拼成不超过 200 字的片段）与 `datasets/zh-sentiment/train.csv` 的评论文本。
- SFT：由同一批真实数据构造的指令集（`hfcourse.minillm.corpus.sft_conversations`），答案都来自数据本身：
  “判断这条评论的情感：…” → 评论标签（正面/负面）；“找出这句话中的地名/人名：…” → `datasets/peoples-daily-ner`
  中的 LOC/PER 标注；“续写这句新闻：前半句” → 该句真实的后半句。损失只计算助手回复（及其 `<|im_end|>`）。

## 训练（实测）

- 硬件：{m["hardware"]}，与其他任务共享；torch {m["torch"]}；fp32（该 CPU 不支持 AVX-512 BF16/AMX，
  bf16 autocast 反而更慢）。
- 预训练：{pre["step"]} 步，batch {m["batch_size"]} × 序列 ≤ {m["max_length"]}，耗时 {pre["elapsed_s"]} 秒，最后记录的损失 {pre["loss"]}，
  {pre["tokens_per_s"]} target tokens/s。
- SFT：{sft["step"]} 步，耗时 {sft["elapsed_s"]} 秒，最后记录的损失 {sft["loss"]}。
- 日志：`train_log_pretrain.jsonl`、`train_log_sft.jsonl`；曲线：`loss_curve.png`。

## 验证集困惑度

在 `validation.txt` 与评论验证集的前 {m["validation_samples"]} 个样本上（与训练集不重叠）：
预训练后 **{ppl["pretrain"]:.1f}**，SFT 后 **{ppl["sft"]:.1f}**（SFT 只训练对话格式的回答，
续写普通文本的能力随之下降，困惑度变大是预期的现象）。

## SFT 指令的实测效果

验证集中 {m["sentiment"]["reviews"]} 条不超过 60 字的评论（训练时从未见过），按 SFT 的格式提问“判断这条评论的情感：…”，
贪心解码：准确率 **{m["sentiment"]["accuracy"]}**（多数类基线 {m["sentiment"]["majority_baseline"]}），
{m["sentiment"]["invalid_answers"]} 个回答既不是“正面”也不是“负面”。

## 生成样例（由 `python -m hfcourse.minillm.card` 运行模型得到，贪心解码，repetition_penalty 1.2）

{shown}

## 局限

- 训练预算极小（共享的 2 核 CPU 上约十几分钟），模型远未收敛：只能写出局部像新闻的片段，事实不可信，
  长文本会重复或跑题。
- 只见过 1998 年 1 月的新闻与商品评论；SFT 只覆盖上述三类指令，其他问题的回答没有意义。
- 仅用于演示分词、RoPE、GQA、KV cache、采样与训练流程，不可用于任何实际用途。

复现：`python -m hfcourse.minillm.train pretrain ...`、`python -m hfcourse.minillm.train sft ...`、
`python -m hfcourse.minillm.card --pretrain RUN/pretrain --sft RUN/sft --out models/minillm-zh`（需要先 `hfcourse assets sync`）。
"""
    (out / "README.md").write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    from transformers import AutoTokenizer

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pretrain", type=Path, required=True)
    ap.add_argument("--sft", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--ppl-batches", type=int, default=8)
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(args.sft)
    sft_model = MiniLLMForCausalLM.from_pretrained(args.sft).eval()
    sft_model.save_pretrained(args.out)
    tok.save_pretrained(args.out)
    pre_log, sft_log = read_log(args.pretrain / "train_log.jsonl"), read_log(args.sft / "train_log.jsonl")
    shutil.copy(args.pretrain / "train_log.jsonl", args.out / "train_log_pretrain.jsonl")
    shutil.copy(args.sft / "train_log.jsonl", args.out / "train_log_sft.jsonl")
    plot(pre_log, sft_log, args.out / "loss_curve.png")

    # Held-out perplexity on the validation text (news + reviews not seen in training), same tokens for both.
    val = PretrainDataset(corpus.pretrain_texts("validation"), tok, sft_model.config.max_position_embeddings // 2)
    pre_model = MiniLLMForCausalLM.from_pretrained(args.pretrain).eval()
    ppl = {"pretrain": perplexity(pre_model, val, batch_size=32, max_batches=args.ppl_batches),
           "sft": perplexity(sft_model, val, batch_size=32, max_batches=args.ppl_batches)}
    metrics = {"parameters": sft_model.num_parameters(), "validation_perplexity": ppl,
               "validation_samples": min(len(val), 32 * args.ppl_batches),
               "pretrain": {k: pre_log[-1][k] for k in ("step", "loss", "elapsed_s", "tokens_per_s")},
               "sft": {k: sft_log[-1][k] for k in ("step", "loss", "elapsed_s", "tokens_per_s")},
               "samples": samples(sft_model, tok),
               "sentiment": sentiment_accuracy(sft_model, tok),
               "batch_size": json.loads((args.pretrain / "run.json").read_text())["batch_size"],
               "max_length": sft_model.config.max_position_embeddings // 2,
               "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads (CPU only)",
               "torch": torch.__version__}
    write_card(metrics, args.out)
    (args.out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(metrics, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
