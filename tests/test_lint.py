"""Each lint rule fires on a bad example and stays quiet on a good one."""

import textwrap

import pytest

from hfcourse.check.currency import check_code
from hfcourse.check.lint import lint_course
from hfcourse.content import load_course

from test_content import make_course


def rules(code: str) -> list[tuple[str, str]]:
    return [(f.rule, f.message) for f in check_code(textwrap.dedent(code))]


def test_removed_training_argument_is_an_error_with_the_new_spelling():
    found = rules("""
        from transformers import TrainingArguments
        args = TrainingArguments(output_dir="out", evaluation_strategy="epoch")
    """)
    assert any(r == "unknown-kwarg" and "evaluation_strategy" in m and "eval_strategy" in m for r, m in found), found


def test_removed_names_and_attributes():
    assert any(r == "removed-name" and "AdamW" in m and "torch.optim.AdamW" in m
               for r, m in rules("from transformers import AdamW"))
    assert any(r == "removed-name" and "TFAutoModel" in m
               for r, m in rules("import transformers\nm = transformers.TFAutoModel.from_pretrained('x')"))
    assert any(r == "removed-module" for r, m in rules("from transformers.onnx import export"))


def test_removed_pipeline_tasks_methods_and_tensor_types():
    assert any(r == "removed-task" and "summarization" in m
               for r, m in rules("from transformers import pipeline\np = pipeline('summarization')"))
    assert rules("from transformers import pipeline\np = pipeline('sentiment-analysis')") == []
    assert any(r == "removed-method" for r, m in rules("enc = tokenizer.batch_encode_plus(['a'])"))
    assert any(r == "removed-method" for r, m in rules("model.to_bettertransformer()"))
    assert any(r == "removed-tensor-type" for r, m in rules("x = tok('a', return_tensors='tf')"))
    assert any(r == "removed-tensor-type" for r, m in rules("x = tok('a', return_tensors='jax')"))
    assert rules("x = tok('a', return_tensors='np')") == []
    assert any(r == "removed-method" and "tokenizer(text" in m for r, m in rules("enc = tok.encode_plus('a')"))
    assert any(r == "removed-task" for r, m in rules("from transformers import pipeline\np = pipeline('translation_en_to_fr')"))
    assert any(r == "removed-task" for r, m in rules("from transformers import pipeline\np = pipeline('question-answering')"))


def test_pipeline_tasks_follow_the_installed_registry():
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    for task in [*SUPPORTED_TASKS, *TASK_ALIASES]:
        assert rules(f"from transformers import pipeline\np = pipeline(task={task!r})") == [], task
    found = rules("from transformers import pipeline\np = pipeline(task='summarization', model='x')")
    assert [r for r, _ in found] == ["removed-task"] and "text-generation" in found[0][1]


def test_load_dataset_trust_remote_code_is_an_error():
    assert [r for r, _ in rules("from datasets import load_dataset\nload_dataset('x', trust_remote_code=True)")] == [
        "removed-kwarg"]
    assert rules("from datasets import load_dataset\nload_dataset('csv', data_files='a.csv', split='train')") == []


def test_removed_from_pretrained_kwargs_and_trainer_tokenizer():
    found = rules("""
        from transformers import AutoModelForCausalLM, Trainer
        m = AutoModelForCausalLM.from_pretrained("x", load_in_4bit=True, use_auth_token="t")
        t = Trainer(model=m, tokenizer=None)
    """)
    msgs = " ".join(m for _, m in found)
    assert "load_in_4bit" in msgs and "BitsAndBytesConfig" in msgs and "use_auth_token" in msgs
    assert "processing_class" in msgs


def test_deprecated_torch_dtype_is_a_warning():
    found = check_code("import torch\nfrom transformers import AutoModel\nm = AutoModel.from_pretrained('x', torch_dtype=torch.bfloat16)")
    assert [(f.severity, f.rule) for f in found] == [("warning", "deprecated-kwarg")]


def test_packages_that_cannot_be_imported_are_checked_against_the_static_index():
    assert rules("from vllm import LLM, SamplingParams") == []
    assert any(r == "removed-name" and "NotAThing" in m and "static index" in m
               for r, m in rules("from vllm import NotAThing"))
    assert rules("from flash_attn import flash_attn_func") == []
    # keyword arguments against the indexed signatures (SamplingParams is a msgspec struct, LLM takes **kwargs)
    assert rules("""
        from vllm import LLM, SamplingParams
        llm = LLM(model="m", dtype="bfloat16", gpu_memory_utilization=0.8, anything_goes=1)
        sp = SamplingParams(temperature=0.8, top_p=0.95, max_tokens=64)
    """) == []
    found = rules("from vllm import SamplingParams\nsp = SamplingParams(use_beam_search=True, max_token=8)")
    assert [r for r, _ in found] == ["unknown-kwarg", "unknown-kwarg"] and "max_tokens" in found[1][1], found
    assert [r for r, _ in rules("from flash_attn import flash_attn_func\nflash_attn_func(q, k, v, is_causal=True)")] \
        == ["unknown-kwarg"]
    assert any(r == "unchecked" for r, m in rules("import tensorrt_llm"))


def test_a_realistic_modern_example_is_clean():
    assert rules("""
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import (AutoModelForSequenceClassification, AutoTokenizer, BitsAndBytesConfig,
                                  DataCollatorWithPadding, Trainer, TrainingArguments)
        tok = AutoTokenizer.from_pretrained("x")
        bnb = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        model = AutoModelForSequenceClassification.from_pretrained("x", num_labels=2, dtype="auto", quantization_config=bnb)
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="SEQ_CLS"))
        args = TrainingArguments(output_dir="o", eval_strategy="epoch", use_cpu=True, report_to="none",
                                 learning_rate=2e-5, per_device_train_batch_size=8)
        trainer = Trainer(model=model, args=args, processing_class=tok, data_collator=DataCollatorWithPadding(tok))
        enc = tok(["a", "b"], padding=True, truncation=True, return_tensors="pt")
    """) == []


SECTION = """\
---
id: "1.1"
title: Pipeline 架构解析
---

## 1.1.1 三阶段流水线（Tokenization → Model → Post-processing）

### 概念说明

旧版本中常写 `evaluation_strategy`。

### 代码示例

```{code-cell} python
from transformers import TrainingArguments
TrainingArguments(output_dir="o", evaluation_strategy="epoch")
```

```{output}
x
```

### 运行输出

:::{migration} v5.0
`evaluation_strategy` 改名为 `eval_strategy`。

```{code-cell} python
:profile: static
:reason: 旧 API，仅作对照
from transformers import TrainingArguments
TrainingArguments(output_dir="o", evaluation_strategy="epoch")
```
:::

## 常见问题与陷阱

无。

## 扩展阅读

- https://huggingface.co/docs/transformers/index
- http://example.com/not-official
"""


def test_course_lint_rules_and_migration_notes(tmp_path):
    course = load_course(make_course(tmp_path, SECTION), component_names=set())
    issues = lint_course(course)
    by_rule = {}
    for i in issues:
        by_rule.setdefault(i.rule, []).append(i)
    assert [i.line for i in by_rule["old-spelling"]] == [10]  # prose outside the note; the note itself is fine
    assert [i.line for i in by_rule["unknown-kwarg"]] == [16]  # the cell outside the note; the static one inside is fine
    assert any("1.1.2" in i.message and "1.1.3" in i.message for i in by_rule["outline"])
    assert [i.line for i in by_rule["link"]] == [43]
    assert "structure" not in by_rule


def test_a_chapter_in_progress_turns_missing_points_into_a_warning(tmp_path, monkeypatch):
    root = make_course(tmp_path, SECTION)
    yaml_path = root / "ch01" / "chapter.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8") + "in_progress: true\n", encoding="utf-8")
    outline = [i for i in lint_course(load_course(root, component_names=set())) if i.rule == "outline"]
    assert [i.severity for i in outline] == ["warning"] and "1.1.2" in outline[0].message

    from fastapi.testclient import TestClient

    from hfcourse.web.app import create_app

    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HFCOURSE_COURSE", str(root))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    html = TestClient(create_app()).get("/c/1").text
    assert "本章仍在编写" in html and "1.1.2" in html


def test_missing_part_heading_and_missing_output(tmp_path):
    bad = SECTION.replace("### 运行输出\n", "").replace("```{output}\nx\n```\n", "")
    issues = lint_course(load_course(make_course(tmp_path, bad), component_names=set()))
    assert any(i.rule == "structure" and "运行输出" in i.message for i in issues)
    assert any(i.rule == "missing-output" for i in issues)


@pytest.mark.parametrize("url, ok", [("https://huggingface.co/docs/peft/index", True),
                                     ("https://arxiv.org/abs/2106.09685", True),
                                     ("https://github.com/huggingface/peft", True),
                                     ("https://github.com/someone/peft-fork", False),
                                     ("https://blog.example.com/lora", False)])
def test_link_allow_list(tmp_path, url, ok):
    text = SECTION.replace("http://example.com/not-official", url)
    issues = [i for i in lint_course(load_course(make_course(tmp_path, text), component_names=set())) if i.rule == "link"]
    assert (issues == []) == ok


def test_deprecated_spelling_in_prose_is_a_warning_removed_one_an_error(tmp_path):
    text = SECTION.replace("旧版本中常写 `evaluation_strategy`。", "旧版本中常写 `evaluation_strategy` 与 `torch_dtype`。")
    found = {(i.severity, i.message.split("`")[1]) for i in lint_course(load_course(make_course(tmp_path, text),
                                                                                    component_names=set()))
             if i.rule == "old-spelling"}
    assert found == {("error", "evaluation_strategy"), ("warning", "torch_dtype")}


def test_cached_index_of_the_pinned_version_replaces_the_committed_one(tmp_path):
    import json

    from hfcourse.check.index import INDEX_DIR, PINS, StaticIndex

    vllm = next(p for p in PINS if p.module == "vllm")
    cached = tmp_path / "lint-index"
    cached.mkdir()
    fake = {"package": "vllm", "version": vllm.version, "modules": {"vllm": ["OnlyInCache"]}}
    (cached / "vllm.json").write_text(json.dumps(fake), encoding="utf-8")
    idx = StaticIndex.from_dirs(INDEX_DIR, cached)
    assert idx.has_name("vllm", "OnlyInCache") and not idx.has_name("vllm", "LLM")
    assert idx.has_name("flash_attn", "flash_attn_func")  # still the committed copy
    fake["version"] = "0.0.1"  # a cache from another version is ignored
    (cached / "vllm.json").write_text(json.dumps(fake), encoding="utf-8")
    assert StaticIndex.from_dirs(INDEX_DIR, cached).has_name("vllm", "LLM")


def test_cli_prints_findings_as_text_or_json_and_filters_by_path(tmp_path, capsys):
    import json

    from hfcourse.cli import main

    root = make_course(tmp_path, SECTION)
    assert main(["lint", "--course", str(root)]) == 1
    text = capsys.readouterr().out
    assert "1.1.md:16: error: example 1.1-1: " in text and "[unknown-kwarg]" in text
    assert main(["lint", "--course", str(root), "--json", str(root / "ch01" / "1.1.md")]) == 1
    found = json.loads(capsys.readouterr().out)
    assert {"path", "line", "severity", "message", "rule"} <= set(found[0])
    assert "outline" not in {f["rule"] for f in found}  # one section file: no chapter-wide outline check
    assert "unknown-kwarg" in {f["rule"] for f in found}
