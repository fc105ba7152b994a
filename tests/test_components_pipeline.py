"""Chapter 1 and 3 pipeline components checked against transformers itself (pipelines, registry, forward passes)."""

import pytest
import torch

from conftest import run_component as run
from hfcourse.viz.registry import get

SENTIMENT, NER = "hfcourse/bert-zh-mini-sentiment", "hfcourse/bert-zh-mini-ner"
SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def local(workspace):
    """Skip cleanly when one of the models these components use is not in the workspace."""
    from hfcourse.viz.components.pipeline import INSPECT_MODELS, RUNNABLE

    for name in {SENTIMENT, NER, *RUNNABLE.values(), *(n for n, _ in INSPECT_MODELS.values())}:
        if not (workspace / name / "config.json").exists():
            pytest.skip(f"{name} missing from the workspace (run `hfcourse assets sync`)")
    return workspace


# -- PipelineFlowVisualizer ---------------------------------------------------------------------------------------


def test_flow_by_hand_equals_the_real_sentiment_pipeline(local):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    text = "物流很快，质量也很好，下次还来买"
    got = run("PipelineFlowVisualizer", text=text, task="情感分析")
    ref = pipeline("text-classification", model=str(local / SENTIMENT))(text)
    assert got["matches_pipeline"] is True
    assert got["result_pipeline"][0]["label"] == ref[0]["label"] == got["result_by_hand"][0]["label"]
    assert got["result_by_hand"][0]["score"] == pytest.approx(ref[0]["score"], abs=1e-5)
    # the stages themselves, recomputed independently
    tok = AutoTokenizer.from_pretrained(local / SENTIMENT)
    model = AutoModelForSequenceClassification.from_pretrained(local / SENTIMENT).eval()
    enc = tok(text, return_tensors="pt")
    assert got["input_ids"] == enc["input_ids"][0].tolist()
    assert got["tokens"] == tok.convert_ids_to_tokens(enc["input_ids"][0])
    with torch.no_grad():
        logits = model(**enc).logits[0]
    assert got["logits"] == pytest.approx(logits.tolist(), abs=1e-4)
    assert got["probabilities"] == pytest.approx(torch.softmax(logits, -1).tolist(), abs=1e-6)
    assert sum(got["probabilities"]) == pytest.approx(1, abs=1e-5)
    assert got["labels"] == [model.config.id2label[i] for i in range(model.config.num_labels)]


def test_a_clearly_positive_review_is_classified_positive(local):
    from transformers import AutoConfig

    got = run("PipelineFlowVisualizer", text="质量很好，非常满意，强烈推荐", task="情感分析")
    positive = AutoConfig.from_pretrained(local / SENTIMENT).id2label[1]  # model card: 1 = 正面
    assert positive == "正面"
    assert got["result_pipeline"][0]["label"] == got["result_by_hand"][0]["label"] == positive
    assert got["result_by_hand"][0]["score"] > 0.5


@pytest.mark.parametrize("text", ["物流很快，质量也很好，下次还来买", "张伟昨天去北京参观了故宫博物院和清华大学",
                                  "我在Apple总部见到了Tim Cook😀，他说上海很好"])  # subwords and [UNK]
def test_flow_by_hand_equals_the_real_ner_pipeline(local, text):
    from transformers import pipeline

    got = run("PipelineFlowVisualizer", text=text, task="命名实体识别")
    ref = pipeline("token-classification", model=str(local / NER))(text)
    assert got["matches_pipeline"] is True
    assert [(r["entity"], r["index"], r["word"], r["start"], r["end"]) for r in got["result_by_hand"]] == \
        [(r["entity"], r["index"], r["word"], r["start"], r["end"]) for r in ref]
    assert [r["score"] for r in got["result_by_hand"]] == pytest.approx([float(r["score"]) for r in ref], abs=1e-5)
    assert len(got["probabilities"]) == len(got["tokens"]) and len(got["probabilities"][0]) == 7
    assert all(sum(row) == pytest.approx(1, abs=1e-5) for row in got["probabilities"])


def test_flow_rejects_blank_text_in_chinese():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="非空"):
        get("PipelineFlowVisualizer").params.model_validate({"text": "   "})
    with pytest.raises(ValidationError):
        get("PipelineFlowVisualizer").params.model_validate({"task": "摘要"})


# -- TaskGallery ----------------------------------------------------------------------------------------------------


def test_gallery_lists_exactly_the_installed_registry():
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES, get_supported_tasks

    from hfcourse.viz.components.pipeline import STATUS_REMOVED, task_table

    rows = task_table()
    listed = {r["task"] for r in rows if r["status"] != STATUS_REMOVED}
    assert listed == set(SUPPORTED_TASKS) | set(TASK_ALIASES) == set(get_supported_tasks())
    assert {r["task"]: r["alias_of"] for r in rows if r["alias_of"] and r["status"] != STATUS_REMOVED} == \
        dict(TASK_ALIASES)


def test_removed_tasks_are_really_absent_and_include_the_seq2seq_ones():
    from transformers import pipelines
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES, check_task
    from transformers.utils import logging as tf_logging

    from hfcourse.viz.components.pipeline import STATUS_REMOVED, task_table

    removed = [r for r in task_table() if r["status"] == STATUS_REMOVED]
    names = {r["task"] for r in removed}
    # transformers 5.24 logs the image-to-text redirect as `warning_once(msg, UserWarning)`, a %-format error under
    # pytest's log capture: keep its logger quiet while asking the registry
    level = tf_logging.get_verbosity()
    tf_logging.set_verbosity_error()
    try:
        for name in names:
            assert name not in SUPPORTED_TASKS and name not in TASK_ALIASES
            try:  # removed: the registry refuses the name, or (image-to-text) redirects it to its replacement
                normalized, _, _ = check_task(name)
            except KeyError as e:
                assert "removed" in str(e)
            else:
                assert normalized != name and normalized in SUPPORTED_TASKS
    finally:
        tf_logging.set_verbosity(level)
    assert {"summarization", "translation", "text2text-generation"} <= names  # removed in v5 (checked here)
    assert set(getattr(pipelines, "REMOVED_TASKS", {})) <= names  # the library's own list is covered
    assert all(r["replacement"] for r in removed)


def test_every_local_task_really_runs_offline(local):
    from transformers import pipeline

    from hfcourse.viz.components.pipeline import RUNNABLE, STATUS_LOCAL, task_table

    local_rows = [r for r in task_table() if r["status"] == STATUS_LOCAL]
    assert {r["alias_of"] or r["task"] for r in local_rows} == set(RUNNABLE)
    for task, name in RUNNABLE.items():
        pipe = pipeline(task, model=str(local / name))
        text = {"fill-mask": f"这家店的质量很{pipe.tokenizer.mask_token}。",
                "token-classification": "张伟昨天去北京参观了故宫"}.get(task, "质量很好")
        kwargs = {"max_new_tokens": 2, "do_sample": False} if task == "text-generation" else {}
        assert pipe(text, **kwargs), task


def test_gallery_live_output_is_the_pipelines_output(local):
    from transformers import pipeline

    got = run("TaskGallery", task="token-classification", text="张伟昨天去北京参观了故宫")
    ref = pipeline("token-classification", model=str(local / NER))("张伟昨天去北京参观了故宫")
    assert got["live_task"] == "token-classification"
    assert [(r["entity"], r["index"]) for r in got["live_output"]] == [(r["entity"], r["index"]) for r in ref]
    cls = run("TaskGallery", task="text-classification", text="质量很好，非常满意，强烈推荐")
    assert cls["live_output"][0]["label"] == "正面"
    gen = run("TaskGallery", task="text-generation", text="What is 2+2?")
    assert gen["live_output"]["reply"]["role"] == "assistant" and gen["live_output"]["reply"]["content"]
    feat = run("TaskGallery", task="feature-extraction", text="质量很好")
    assert feat["live_output"]["shape"][0] == 1 and feat["live_output"]["shape"][2] == 384


def test_gallery_fill_mask_needs_the_mask_token(local):
    from transformers import pipeline

    from hfcourse.viz.components.config import ComponentError

    with pytest.raises(ComponentError, match="掩码"):
        run("TaskGallery", task="fill-mask", text="这家店的质量很好")
    pipe = pipeline("fill-mask", model=str(local / "hfcourse/bert-zh-mini"))
    text = f"这家店的质量很{pipe.tokenizer.mask_token}。"
    got = run("TaskGallery", task="fill-mask", text=text)
    ref = pipe(text, top_k=5)
    assert [r["token"] for r in got["live_output"]] == [r["token"] for r in ref]


# -- ModelOutputInspector -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("label,path,auto", [("bert-zh-mini (编码器)", "hfcourse/bert-zh-mini", "AutoModelForMaskedLM"),
                                             ("SmolLM2-135M (解码器)", SMOL, "AutoModelForCausalLM")])
def test_inspector_fields_equal_a_direct_forward(local, label, path, auto):
    import transformers

    text = "今天天气很好"
    got = run("ModelOutputInspector", model=label, text=text, output_hidden_states=True, output_attentions=True)
    tok = transformers.AutoTokenizer.from_pretrained(local / path)
    model = getattr(transformers, auto).from_pretrained(local / path, dtype=torch.float32,
                                                       attn_implementation="eager").eval()
    enc = tok(text, return_tensors="pt")
    enc.pop("token_type_ids", None)
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True, output_attentions=True)
    assert got["output_class"] == type(out).__name__
    assert list(got["fields"]) == list(out.keys())
    assert got["fields"]["logits"]["shape"] == list(out.logits.shape)
    assert got["fields"]["logits"]["mean"] == pytest.approx(float(out.logits.mean()), abs=1e-4)
    assert got["fields"]["logits"]["max"] == pytest.approx(float(out.logits.max()), abs=1e-4)
    hs = got["fields"]["hidden_states"]
    assert hs["length"] == model.config.num_hidden_layers + 1 == len(out.hidden_states)
    assert hs["shapes"] == [list(h.shape) for h in out.hidden_states]
    att = got["fields"]["attentions"]
    assert att["length"] == model.config.num_hidden_layers
    assert att["shapes"] == [list(a.shape) for a in out.attentions]
    assert got["attn_implementation"] == "eager"
    assert got["attention_row_sum_max_error"] < 1e-5
    for a in out.attentions:
        assert torch.allclose(a.sum(-1), torch.ones(()), atol=1e-5)


def test_inspector_without_extras_lists_the_decoders_own_fields_and_cache(local):
    from transformers import AutoModelForCausalLM, AutoTokenizer, Cache

    got = run("ModelOutputInspector", model="SmolLM2-135M (解码器)", text="Hello",
              output_hidden_states=False, output_attentions=False)
    tok = AutoTokenizer.from_pretrained(local / SMOL)
    model = AutoModelForCausalLM.from_pretrained(local / SMOL, dtype=torch.float32).eval()
    with torch.no_grad():
        out = model(**tok("Hello", return_tensors="pt"))
    assert list(got["fields"]) == list(out.keys())
    assert "hidden_states" not in got["fields"] and "attentions" not in got["fields"]
    assert got["fields"]["logits"]["shape"] == list(out.logits.shape)
    assert got["fields"]["logits"]["shape"][-1] == model.config.vocab_size
    (key,) = [k for k, v in out.items() if isinstance(v, Cache)]  # the KV cache field (its name is version-specific)
    cache = got["fields"][key]
    assert cache["kind"] == type(out[key]).__name__
    assert cache["length"] == model.config.num_hidden_layers
    assert cache["seq_length"] == out.logits.shape[1] == out[key].get_seq_length()
    assert cache["shapes"][0]["keys"] == list(out[key].layers[0].keys.shape)


def test_inspector_rejects_unknown_models_and_blank_text():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        get("ModelOutputInspector").params.model_validate({"model": "gpt2"})
    with pytest.raises(ValidationError, match="非空"):
        get("ModelOutputInspector").params.model_validate({"text": ""})


@pytest.fixture
def client_api(tmp_path, monkeypatch, workspace):
    from fastapi.testclient import TestClient

    home = tmp_path / "home"
    home.mkdir()
    (home / "workspace").symlink_to(workspace, target_is_directory=True)
    monkeypatch.setenv("HFCOURSE_HOME", str(home))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web.app import create_app

    return TestClient(create_app())


def test_the_api_explains_bad_input_in_chinese(local, client_api):
    r = client_api.post("/api/components/TaskGallery", json={"task": "fill-mask", "text": "这家店的质量很好"})
    assert r.status_code == 422 and "[MASK]" in r.json()["error"]
    r = client_api.post("/api/components/PipelineFlowVisualizer", json={"text": "   "})
    assert r.status_code == 422 and "非空" in r.text
    r = client_api.post("/api/components/ModelOutputInspector", json={"model": "gpt2"})
    assert r.status_code == 422
