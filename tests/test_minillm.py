"""minillm is a correct transformer: masking, GQA, RoPE, KV cache, HF integration, losses, MoE, training."""

import math
from pathlib import Path

import pytest
import torch

import hfcourse.minillm as mm
from hfcourse.minillm.data import PretrainDataset, SFTDataset, masked_cross_entropy
from hfcourse.minillm.generate import generate, top_k_top_p_filter
from hfcourse.minillm.train import NonFiniteLoss, TrainConfig, check_finite, lr_at, train
from hfcourse.paths import REPO_ROOT

CHECKPOINT = REPO_ROOT / "models" / "minillm-zh"


def tiny(**kw) -> mm.MiniLLMForCausalLM:
    torch.manual_seed(0)
    cfg = dict(vocab_size=97, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
               max_position_embeddings=64)
    cfg.update(kw)
    return mm.MiniLLMForCausalLM(mm.MiniLLMConfig(**cfg)).eval()


def test_causal_mask_future_tokens_never_change_earlier_logits():
    model = tiny()
    x = torch.randint(3, 97, (1, 12))
    y = x.clone()
    y[0, 8:] = torch.randint(3, 97, (4,))
    with torch.no_grad():
        a, b = model(x).logits, model(y).logits
    assert torch.allclose(a[0, :8], b[0, :8], atol=1e-6) and not torch.allclose(a[0, 8:], b[0, 8:])


def test_gqa_equals_mha_when_kv_heads_are_repeated():
    gqa = tiny(num_key_value_heads=2)
    mha = tiny(num_key_value_heads=4)
    mha.load_state_dict({k: v for k, v in gqa.state_dict().items() if "k_proj" not in k and "v_proj" not in k},
                        strict=False)
    d = 64 // 4
    for lg, lm in zip(gqa.model.layers, mha.model.layers):
        for name in ("k_proj", "v_proj"):
            w = getattr(lg.self_attn, name).weight.view(2, d, 64)  # (K, D, C)
            getattr(lm.self_attn, name).weight.data = w.repeat_interleave(2, dim=0).reshape(4 * d, 64)
    x = torch.randint(3, 97, (2, 10))
    with torch.no_grad():
        assert torch.allclose(gqa(x).logits, mha(x).logits, atol=1e-5)


def test_repeat_kv_matches_repeat_interleave():
    x = torch.randn(2, 3, 5, 4)
    assert torch.equal(mm.repeat_kv(x, 2), x.repeat_interleave(2, dim=1))


def test_rope_scores_depend_only_on_relative_position():
    cos, sin = mm.precompute_rope(16, 64)
    q, k = torch.randn(1, 1, 1, 16), torch.randn(1, 1, 1, 16)

    def score(m: int, n: int) -> float:
        qm, _ = mm.apply_rotary_pos_emb(q, q, cos[m][None, None], sin[m][None, None])
        _, kn = mm.apply_rotary_pos_emb(k, k, cos[n][None, None], sin[n][None, None])
        return float((qm * kn).sum())

    assert math.isclose(score(3, 1), score(40, 38), rel_tol=1e-4)
    assert math.isclose(score(10, 10), score(0, 0), rel_tol=1e-4)
    assert not math.isclose(score(3, 1), score(3, 2), rel_tol=1e-3)


def test_yarn_scaling_extends_the_table_and_keeps_high_frequencies():
    model = tiny(max_position_embeddings=256,
                 rope_parameters={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64})
    assert model.model.rope_cos.shape[0] == 256
    # Trained on 4096 positions: wavelengths below 4096/32 are kept, those above 4096 are interpolated by 1/4.
    plain_cos, _ = mm.precompute_rope(64, 9000, theta=10000.0)
    yarn_cos, _ = mm.precompute_rope(64, 9000, scaling={"rope_type": "yarn", "factor": 4.0,
                                                         "original_max_position_embeddings": 4096})
    mscale = 0.1 * math.log(4.0) + 1
    assert torch.allclose(yarn_cos[:, 0] / mscale, plain_cos[:, 0], atol=1e-4)  # fastest frequency untouched
    assert torch.allclose(yarn_cos[4 * 1000, 31] / mscale, plain_cos[1000, 31], atol=1e-4)  # slowest: positions / 4
    x = torch.randint(3, 97, (1, 150))  # beyond the original 64 positions
    assert torch.isfinite(model(x).logits).all()


def test_kv_cache_own_generate_and_hf_generate_agree():
    model = tiny()
    x = torch.randint(3, 97, (1, 9))
    with_cache = generate(model, x, max_new_tokens=15)
    without = generate(model, x, max_new_tokens=15, use_cache=False)
    hf = model.generate(x, max_new_tokens=15, do_sample=False, pad_token_id=0)
    hf_nocache = model.generate(x, max_new_tokens=15, do_sample=False, use_cache=False, pad_token_id=0)
    assert torch.equal(with_cache, without) and torch.equal(with_cache, hf) and torch.equal(hf, hf_nocache)


def test_padding_in_generate_does_not_change_the_result():
    model = tiny()
    x = torch.randint(3, 97, (1, 7))
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), x], dim=1)
    mask = torch.cat([torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 7, dtype=torch.long)], dim=1)
    a = model.generate(x, max_new_tokens=6, do_sample=False, pad_token_id=0)[:, 7:]
    b = model.generate(padded, attention_mask=mask, max_new_tokens=6, do_sample=False, pad_token_id=0)[:, 10:]
    assert torch.equal(a, b)


def test_top_p_keeps_the_smallest_nucleus():
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = torch.isfinite(top_k_top_p_filter(logits, top_p=0.8))
    assert kept.tolist() == [[True, True, False, False]]
    assert torch.isfinite(top_k_top_p_filter(logits, top_k=3)).sum() == 3


def test_loss_mask_excludes_padding_and_all_padding_is_finite():
    logits = torch.randn(2, 5, 11)
    targets = torch.randint(0, 11, (2, 5))
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]])
    base = masked_cross_entropy(logits, targets, mask)
    changed = logits.clone()
    changed[0, 3:] = 100.0  # garbage at padded positions
    assert torch.allclose(base, masked_cross_entropy(changed, targets, mask))
    zero = masked_cross_entropy(logits, targets, torch.zeros_like(mask))
    assert torch.isfinite(zero) and zero.item() == 0.0
    model = tiny()
    out = model(torch.zeros(2, 6, dtype=torch.long), labels=torch.full((2, 6), -100))
    assert torch.isfinite(out.loss)


class CharTokenizer:
    """A stand-in with the tokenizer interface the datasets use (ids: 0 pad, 1 bos, 2 eos)."""

    pad_token_id, bos_token_id, eos_token_id = 0, 1, 2

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [3 + (ord(c) % 90) for c in text]}


def test_pretrain_dataset_shifts_and_filters_empty_samples():
    ds = PretrainDataset(["abc", "", "   ", "de"], CharTokenizer(), max_length=8)
    assert len(ds) == 2
    x, y, mask = ds[1]
    assert torch.equal(x[1:], y[:-1]) and mask.tolist() == [1, 1, 1, 0, 0, 0, 0]


def test_sft_dataset_puts_loss_only_on_assistant_replies(tmp_path):
    from hfcourse.minillm.tokenizer import train_tokenizer

    tok = train_tokenizer(["判断这条评论的情感：很好 正面", "负面 找出这句话中的地名"] * 50, vocab_size=300)
    conv = [{"role": "user", "content": "判断这条评论的情感：很好"}, {"role": "assistant", "content": "正面"}]
    x, y, mask = SFTDataset([conv], tok, max_length=64)[0]
    assert tok.decode(y[mask.bool()]) == "正面<|im_end|>"
    assert len(SFTDataset([[{"role": "user", "content": "只有提问"}]], tok, 64)) == 0  # no reply: filtered


def test_gradient_accumulation_equals_one_big_batch():
    model = tiny()
    x = torch.randint(3, 97, (4, 10))
    y = torch.randint(3, 97, (4, 10))
    mask = torch.ones_like(y)
    model.zero_grad()
    masked_cross_entropy(model(x).logits, y, mask).backward()
    big = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    for i in range(2):  # two micro-batches, each loss divided by 2
        sl = slice(2 * i, 2 * i + 2)
        (masked_cross_entropy(model(x[sl]).logits, y[sl], mask[sl]) / 2).backward()
    for a, b in zip(big, (p.grad for p in model.parameters())):
        assert torch.allclose(a, b, atol=1e-6)


def test_moe_routes_to_top_k_and_aux_loss_is_minimal_when_uniform():
    model = tiny(use_moe=True, num_experts=4, num_experts_per_tok=2)
    moe = model.model.layers[0].mlp
    x = torch.randn(50, 64)
    probs, weights, experts = moe.route(x)
    assert experts.shape == (50, 2) and (experts[:, 0] != experts[:, 1]).all()
    assert torch.allclose(weights.sum(-1), torch.ones(50))
    moe.router.weight.data.zero_()  # uniform router probabilities
    moe(x[None])
    assert math.isclose(moe.aux_loss.item(), 1.0, rel_tol=1e-5)
    moe.router.weight.data.zero_()
    moe.router.weight.data[0] = 1.0  # every token prefers expert 0: collapsed routing costs more
    moe(x.abs()[None] + 1)
    assert moe.aux_loss.item() > 1.5
    out = model(torch.randint(3, 97, (2, 8)), labels=torch.randint(3, 97, (2, 8)))
    assert torch.isfinite(out.loss)


def test_save_and_auto_from_pretrained_give_identical_logits(tmp_path):
    from transformers import AutoConfig, AutoModelForCausalLM

    model = tiny()
    model.save_pretrained(tmp_path)
    assert type(AutoConfig.from_pretrained(tmp_path)).__name__ == "MiniLLMConfig"
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path).eval()
    x = torch.randint(3, 97, (2, 9))
    with torch.no_grad():
        assert torch.equal(model(x).logits, loaded(x).logits)
    assert loaded.lm_head.weight.data_ptr() == loaded.model.embed_tokens.weight.data_ptr()  # tied


def test_peft_lora_wraps_and_trains():
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(tiny(), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == 2 * ((4 * 64 + 64 * 4) + (4 * 64 + 32 * 4))  # 2 layers × (q: 64→64, v: 64→32), r = 4
    x = torch.randint(3, 97, (2, 8))
    loss = model(input_ids=x, labels=x).loss
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_training_loop_learns_logs_and_resumes(tmp_path):
    model = tiny()
    ds = PretrainDataset(["abcabcabcabc", "abcabcab", "bcabcabca"] * 20, CharTokenizer(), max_length=12)
    cfg = TrainConfig(batch_size=8, accumulation_steps=2, lr=5e-3, warmup_steps=5, max_steps=30, max_minutes=2,
                      log_every=5, save_every=10, mixed_precision="bf16")
    first = train(model, ds, cfg, tmp_path)
    import json

    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    assert first["steps"] == 30 and log[-1]["loss"] < log[0]["loss"] * 0.6
    assert {"step", "loss", "lr", "tokens_per_s", "elapsed_s"} <= set(log[0])
    cfg.max_steps = 35
    second = train(tiny(), ds, cfg, tmp_path)  # resumes from the saved state, not from step 0
    assert second["steps"] == 35


def test_nan_is_caught_with_a_diagnosis():
    model = tiny()
    next(model.parameters()).grad = torch.full_like(next(model.parameters()), float("nan"))
    with pytest.raises(NonFiniteLoss, match="model.embed_tokens.weight"):
        check_finite(model, torch.tensor(1.0), step=7, lr=1e-3)


def test_lr_schedule_warmup_then_cosine():
    cfg = TrainConfig(lr=1.0, warmup_steps=10, max_steps=110, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55) and lr_at(110, cfg) == pytest.approx(0.1)


@pytest.mark.skipif(not (CHECKPOINT / "config.json").exists(), reason="teaching checkpoint not committed yet")
def test_committed_checkpoint_loads_and_answers_in_chat_format():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(CHECKPOINT)
    model = AutoModelForCausalLM.from_pretrained(CHECKPOINT).eval()
    assert tok.vocab_size == 6400 or len(tok) == 6400
    inputs = tok.apply_chat_template([{"role": "user", "content": "判断这条评论的情感：质量很好，非常满意"}],
                                     add_generation_prompt=True, return_dict=True, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=6, do_sample=False)
    assert tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip() == "正面"


def test_rope_settings_use_the_v5_rope_parameters_dict(tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the deprecated `rope_scaling` attribute would warn here
        cfg = mm.MiniLLMConfig(max_position_embeddings=256, rope_parameters={
            "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 64})
        cfg.save_pretrained(tmp_path)
        loaded = mm.MiniLLMConfig.from_pretrained(tmp_path)
    assert "rope_scaling" not in (tmp_path / "config.json").read_text()
    assert loaded.rope_parameters == cfg.rope_parameters and loaded.rope_parameters["rope_theta"] == 10000.0


@pytest.mark.skipif(not (CHECKPOINT / "config.json").exists(), reason="teaching checkpoint not committed yet")
def test_committed_checkpoint_beats_the_majority_class_on_held_out_reviews(workspace):
    """Re-measured here with the model, not read from the card: the card's number must be reproducible."""
    import json

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from hfcourse.minillm.card import sentiment_accuracy

    tok = AutoTokenizer.from_pretrained(CHECKPOINT)
    model = AutoModelForCausalLM.from_pretrained(CHECKPOINT).eval()
    got = sentiment_accuracy(model, tok)
    assert got["accuracy"] > got["majority_baseline"] + 0.03, got
    assert got == json.loads((CHECKPOINT / "metrics.json").read_text(encoding="utf-8"))["sentiment"]
