"""GradientAccumulationDemo against an independent computation with the same model and reviews."""

import csv

import pytest
import torch

from conftest import run_component
from hfcourse.viz.registry import get


def run(**params) -> dict:
    return run_component("GradientAccumulationDemo", **params)


def independent_gradient(workspace, texts, labels):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = workspace / "hfcourse/bert-zh-mini-sentiment"
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    tok = AutoTokenizer.from_pretrained(path)
    enc = tok(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    model(**enc, labels=torch.tensor(labels)).loss.backward()
    return {n: p.grad for n, p in model.named_parameters() if p.grad is not None}


def test_accumulated_gradient_equals_the_big_batch_and_the_scaling_mistake_is_k_times(workspace):
    with open(workspace / "datasets/zh-sentiment/train.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[50:62]
    texts, labels = [r["text"] for r in rows], [int(r["label"]) for r in rows]
    ref = independent_gradient(workspace, texts, labels)
    ref_norm = torch.cat([g.flatten() for g in ref.values()]).double().norm().item()  # fp32 norm is off by ~1e-4

    good = run(micro_batches=3, micro_batch_size=4, start=50)
    assert good["max_abs_diff"] < 1e-5 and good["norm_ratio"] == pytest.approx(1.0, abs=1e-5)
    assert good["cosine"] == pytest.approx(1.0, abs=1e-7)
    total = sum(v ** 2 for v in good["groups"].values()) ** 0.5  # the component's big-batch gradient norm
    assert total == pytest.approx(ref_norm, rel=1e-4)

    wrong = run(micro_batches=3, micro_batch_size=4, start=50, loss_scaling="不除以 k")
    assert wrong["norm_ratio"] == pytest.approx(3.0, rel=1e-4) and wrong["cosine"] == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("run", ["bert-zh-mini-sentiment（情感微调，Trainer）", "minillm-zh（SFT，自写循环）"])
def test_training_metrics_plot_reads_the_committed_logs(run):
    import json

    from hfcourse.paths import REPO_ROOT
    from hfcourse.viz.components.training import RUN_LOGS

    spec = get("TrainingMetricsPlot")
    got = spec.compute(spec.params.model_validate({"run": run, "smoothing": 3}))["numbers"]
    text = (REPO_ROOT / "models" / RUN_LOGS[run][0]).read_text(encoding="utf-8")
    rows = ([r for r in json.loads(text) if "loss" in r] if text.lstrip().startswith("[")
            else [json.loads(line) for line in text.splitlines() if line])
    assert got["steps"] == [r["step"] for r in rows] and got["loss"] == [r["loss"] for r in rows]
    assert got["lr"] == [r.get("learning_rate", r.get("lr")) for r in rows]
    assert got["smoothed"][2] == pytest.approx(sum(got["loss"][:3]) / 3)


def test_training_loop_events_follow_the_training_arguments(workspace):
    spec = get("TrainingLoopVisualizer")
    got = spec.compute(spec.params.model_validate(
        {"max_steps": 6, "gradient_accumulation_steps": 3, "logging_steps": 2, "eval_steps": 3}))["numbers"]
    counts = got["counts"]
    assert counts["on_step_end"] == counts["on_optimizer_step"] == 6
    assert counts["on_substep_end"] == 6 * (3 - 1)  # every micro-batch but the last of each step
    assert counts["on_train_begin"] == counts["on_train_end"] == 1
    assert sorted(got["logged_loss"]) == [2, 4, 6] and sorted(got["eval_loss"]) == [3, 6]
    steps_of = [e for e in got["events"] if e.startswith("on_step_end@")]
    assert steps_of == [f"on_step_end@{i}" for i in range(1, 7)]


def test_training_loop_logs_the_mean_loss_over_the_accumulation_window(workspace):
    """One optimizer step over 4 micro-batches of 4 reviews logs the mean loss of those 16 reviews, not 4 times it."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfcourse.viz.components.training import _reviews

    spec = get("TrainingLoopVisualizer")
    got = spec.compute(spec.params.model_validate(
        {"max_steps": 1, "gradient_accumulation_steps": 4, "logging_steps": 1, "eval_steps": 1}))["numbers"]
    path = workspace / "hfcourse/bert-zh-mini-sentiment"
    model = AutoModelForSequenceClassification.from_pretrained(path)  # no dropout in this model: train == eval
    tok = AutoTokenizer.from_pretrained(path)
    texts, labels = _reviews()
    with torch.no_grad():
        expected = model(**tok(texts[:16], truncation=True, max_length=48, padding=True, return_tensors="pt"),
                         labels=torch.tensor(labels[:16])).loss.item()
    assert got["logged_loss"][1] == pytest.approx(expected, abs=2e-3)
