"""Chapter 4 components checked against the libraries they show (datasets, tokenizers, transformers' collators)."""

import csv

import pytest
import torch
from conftest import run_component as run


@pytest.fixture
def tokenizer(workspace):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(workspace / "hfcourse/bert-zh-mini")


def test_dataset_pipeline_matches_tokenizer_and_padding(workspace, tokenizer):
    got = run("DatasetPipeline", start=100, batch_size=5, max_length=24)
    with open(workspace / "datasets/zh-sentiment/train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[100:105]
    assert got["texts"] == [r["text"] for r in rows] and got["labels"] == [int(r["label"]) for r in rows]
    enc = tokenizer([r["text"] for r in rows], truncation=True, max_length=24)
    assert got["token_lengths"] == [len(x) for x in enc["input_ids"]]
    padded = tokenizer([r["text"] for r in rows], truncation=True, max_length=24, padding=True)
    assert got["input_ids"] == padded["input_ids"] and got["attention_mask"] == padded["attention_mask"]
    assert got["padding_positions"] == sum(m.count(0) for m in padded["attention_mask"])


def test_collator_demo_padding_and_multiple_of_eight(tokenizer):
    texts = ["质量很好", "物流很快，包装也很用心", "太差了"]
    got = run("DataCollatorDemo", texts="|".join(texts), collator="动态填充")
    assert got["input_ids"] == tokenizer(texts, padding=True)["input_ids"]
    eight = run("DataCollatorDemo", texts="|".join(texts), collator="填充到 8 的倍数")
    assert eight["shape"][1] % 8 == 0 and eight["shape"][1] >= got["shape"][1]
    assert eight["counts"]["填充"] == sum(m.count(0) for m in eight["attention_mask"])


def test_collator_demo_mlm_is_the_real_collator_with_the_same_seed(tokenizer):
    from transformers import DataCollatorForLanguageModeling

    texts = ["中华人民共和国成立了", "人民日报报道今天的新闻", "质量很好，非常满意"]
    got = run("DataCollatorDemo", texts="|".join(texts), collator="MLM 掩码", mlm_probability=0.4, seed=7)
    torch.manual_seed(7)
    ref = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.4)([tokenizer(t) for t in texts])
    assert got["input_ids"] == ref["input_ids"].tolist() and got["labels"] == ref["labels"].tolist()
    n_mask = int((ref["input_ids"] == tokenizer.mask_token_id).sum())
    assert got["counts"]["[MASK]"] == n_mask > 0


def test_collator_demo_rejects_a_single_text(client_api):
    r = client_api.post("/api/components/DataCollatorDemo", json={"texts": "只有一条"})
    assert r.status_code == 422 and "2 到 6" in r.text


@pytest.fixture
def client_api(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web.app import create_app

    return TestClient(create_app())
