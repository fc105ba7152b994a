import os

import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

MODEL_DIR = "tiny-llama"  # relative to the sandbox's scratch dir


def _model():
    if not os.path.isdir(MODEL_DIR):
        torch.manual_seed(0)
        cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                          num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                          bos_token_id=1, eos_token_id=2, pad_token_id=0)
        LlamaForCausalLM(cfg).save_pretrained(MODEL_DIR)
    return AutoModelForCausalLM.from_pretrained(MODEL_DIR).eval()


PROMPT = torch.tensor([[5, 17, 33, 9]])


def test_greedy_matches_generate(mod):
    model = _model()
    want = model.generate(PROMPT, max_new_tokens=12, do_sample=False, eos_token_id=None,
                          min_new_tokens=12, pad_token_id=0)
    got = mod.generate(MODEL_DIR, PROMPT, 12)
    assert got.tolist() == want.tolist(), f"got {got.tolist()} expected {want.tolist()}"


def test_top_k_1_is_greedy(mod):
    _model()
    greedy = mod.generate(MODEL_DIR, PROMPT, 8)
    sampled = mod.generate(MODEL_DIR, PROMPT, 8, do_sample=True, temperature=0.7, top_k=1, seed=3)
    assert sampled.tolist() == greedy.tolist()


def test_sampling_seeded_and_valid(mod):
    _model()
    a = mod.generate(MODEL_DIR, PROMPT, 10, do_sample=True, temperature=1.5, seed=123)
    b = mod.generate(MODEL_DIR, PROMPT, 10, do_sample=True, temperature=1.5, seed=123)
    assert a.shape == (1, 14) and a[:, :4].tolist() == PROMPT.tolist()
    assert a.tolist() == b.tolist(), "same seed must give the same sample"
    assert int(a.max()) < 64 and int(a.min()) >= 0
