"""The course-trained teaching models load with the real API and do what their cards claim."""

import json

import pytest

from hfcourse.paths import REPO_ROOT

SENTIMENT = REPO_ROOT / "models" / "bert-zh-sentiment-tiny"


def test_sentiment_model_classifies_clear_reviews():
    from transformers import pipeline

    clf = pipeline("text-classification", model=str(SENTIMENT))
    out = clf(["质量很好，非常满意，下次还会再来买", "太差了，完全不能用，退货"])
    assert [o["label"] for o in out] == ["正面", "负面"], out


def test_sentiment_metrics_beat_the_majority_baseline_and_match_the_card():
    m = json.loads((SENTIMENT / "metrics.json").read_text())
    assert m["test_accuracy"] > m["majority_baseline_accuracy"] + 0.2
    card = (SENTIMENT / "README.md").read_text()
    assert f"accuracy **{m['test_accuracy']}**" in card and f"{m['parameters']:,}" in card


@pytest.mark.slow
def test_sentiment_accuracy_is_reproducible_on_the_test_split(workspace):
    """Re-measure the reported test accuracy from the model and the workspace's test split."""
    import torch
    from datasets import load_dataset
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    ds = load_dataset("csv", data_files=str(workspace / "datasets/zh-sentiment/test.csv"), split="train")
    tok = AutoTokenizer.from_pretrained(SENTIMENT)
    model = AutoModelForSequenceClassification.from_pretrained(SENTIMENT).eval()
    correct = 0
    for i in range(0, ds.num_rows, 256):
        batch = ds[i : i + 256]
        enc = tok(batch["text"], truncation=True, max_length=128, padding=True, return_tensors="pt")
        with torch.no_grad():
            pred = model(**enc).logits.argmax(-1)
        correct += int((pred == torch.tensor(batch["label"])).sum())
    acc = correct / ds.num_rows
    assert abs(acc - json.loads((SENTIMENT / "metrics.json").read_text())["test_accuracy"]) < 0.005, acc
