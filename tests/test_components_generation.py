"""Chapter 7 components checked against the models and transformers' generation utilities they show."""

import pytest
import torch

from conftest import run_component as run
from hfcourse.viz.registry import get

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(scope="module")
def smol(workspace):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = workspace / SMOL
    return AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()


def test_temperature_slider_matches_the_model_and_a_hand_written_warp(smol):
    tok, model = smol
    prompt = "The capital of France is"
    got = run("TemperatureSlider", prompt=prompt, temperature=0.7, top_k=10)
    with torch.no_grad():
        logits = model(**tok(prompt, return_tensors="pt")).logits[0, -1]  # (vocab,)
    base = torch.softmax(logits, -1)
    assert got["token_ids"] == torch.topk(base, 20).indices.tolist()
    assert got["original"] == pytest.approx(base[got["token_ids"]].tolist(), abs=1e-5)
    scaled = logits / 0.7
    keep = torch.topk(scaled, 10).indices
    manual = torch.zeros_like(scaled).fill_(float("-inf"))
    manual[keep] = scaled[keep]
    manual = torch.softmax(manual, -1)
    assert got["processed"] == pytest.approx(manual[got["token_ids"]].tolist(), abs=1e-5)
    assert got["candidates"] == 10


def test_kv_cache_steps_follow_the_config_and_match_generate(smol):
    tok, model = smol
    prompt, n = "The capital of France is", 5
    got = run("KVCacheVisualizer", prompt=prompt, new_tokens=n)
    inputs = tok(prompt, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=n, do_sample=False)
    assert got["generated_ids"] == out[0, inputs["input_ids"].shape[1]:].tolist()
    cfg = model.config
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    t0 = inputs["input_ids"].shape[1]
    for step in got["steps"]:
        seq = t0 + step["step"]
        assert step["key_shape"] == [1, cfg.num_key_value_heads, seq, head_dim]
        assert step["bytes"] == 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * seq * head_dim * 4


@pytest.mark.parametrize("template,path", [("Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct"),
                                           ("SmolLM2-135M-Instruct", SMOL), ("minillm-zh", "hfcourse/minillm-zh")])
def test_chat_template_builder_is_apply_chat_template(workspace, template, path):
    import hfcourse.minillm  # noqa: F401
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(workspace / path)
    messages = [{"role": "system", "content": "你是助手。"}, {"role": "user", "content": "你好"}]
    got = run("ChatTemplateBuilder", template=template, messages="system: 你是助手。|user: 你好")
    assert got["text"] == tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert got["input_ids"] == tok.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]
    assert "<|im_start|>" in got["special_tokens"]


def test_chat_template_builder_rejects_unknown_roles():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="角色"):
        get("ChatTemplateBuilder").params.model_validate({"messages": "robot: hi"})


def test_beam_candidates_scores_are_length_normalised_sums_and_the_best_is_generates(smol):
    tok, model = smol
    prompt = "The capital of France is"
    got = run("BeamSearchVisualizer", prompt=prompt, num_beams=3, max_new_tokens=5, length_penalty=1.0)["candidates"]
    assert len(got) == 3
    for c in got:
        assert c["sum_logprob"] / c["length"] == pytest.approx(c["sequence_score"], abs=1e-4)
    inputs = tok(prompt, return_tensors="pt")
    best = model.generate(**inputs, num_beams=3, max_new_tokens=5, do_sample=False, pad_token_id=tok.eos_token_id)
    assert got[0]["tokens"] == best[0, inputs["input_ids"].shape[1]:].tolist()


def test_strategy_comparator_greedy_row_and_its_score(smol):
    tok, model = smol
    prompt = "Once upon a time,"
    rows = {r["strategy"]: r for r in run("GenerationStrategyComparator", prompt=prompt, max_new_tokens=8)["outputs"]}
    inputs = tok(prompt, return_tensors="pt")
    greedy = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tok.eos_token_id)
    new = greedy[0, inputs["input_ids"].shape[1]:]
    assert rows["greedy"]["text"] == tok.decode(new, skip_special_tokens=True)
    with torch.no_grad():
        logp = torch.log_softmax(model(greedy).logits[0, :-1].double(), -1)
    start = inputs["input_ids"].shape[1]
    manual = sum(float(logp[start - 1 + i, t]) for i, t in enumerate(new.tolist())) / len(new)
    assert rows["greedy"]["mean_logprob"] == pytest.approx(manual, abs=1e-3)
    # greedy maximises each step, not the sequence: beam search finds an output the model rates at least as high
    assert rows["beam (num_beams=4)"]["mean_logprob"] >= rows["greedy"]["mean_logprob"] - 1e-3
