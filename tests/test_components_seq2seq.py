"""The chapter 6 encoder-decoder component checked against independent calls to the course's T5 model.

Nothing here hard-codes a generated text or an attention value: the checkpoint is retrained from time to time.
"""

import pytest
import torch

from conftest import run_component as run
from hfcourse.viz.registry import get

T5 = "hfcourse/t5-zh-mini-entities"
SENTENCE = "新华社北京电，国务院总理李鹏今天会见了客人。"


def close(got: list, expected: torch.Tensor) -> bool:
    """The component's matrix (rounded to 5 decimals) equals the reference within 1e-5."""
    got = torch.tensor(got)
    return got.shape == expected.shape and bool((got - expected).abs().max() <= 1e-5)


@pytest.fixture(scope="module")
def t5(workspace):
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    path = workspace / T5
    model = T5ForConditionalGeneration.from_pretrained(path, dtype=torch.float32, attn_implementation="eager").eval()
    return AutoTokenizer.from_pretrained(path), model


@pytest.fixture(scope="module")
def reference(t5):
    """Independent greedy generate + one teacher-forced forward pass with output_attentions=True."""
    tok, model = t5
    enc = tok(SENTENCE, truncation=True, max_length=96, return_tensors="pt")
    enc = {k: enc[k][:, 1:] for k in ("input_ids", "attention_mask")}  # no [CLS], as in training
    with torch.no_grad():
        seq = model.generate(**enc, max_new_tokens=64, do_sample=False)
        out = model(**enc, decoder_input_ids=seq[:, :-1], output_attentions=True)
    return {"enc": enc, "seq": seq, "out": out,
            "text": tok.decode(seq[0], skip_special_tokens=True).replace(" ", "")}


def test_generated_text_and_tokens_are_generates(t5, reference):
    from hfcourse.teaching.seq2seq import generate_texts, parse_entities

    tok, model = t5
    got = run("Seq2SeqArchitecture", sentence=SENTENCE)
    assert got["generated_text"] == reference["text"] == generate_texts(model, tok, [SENTENCE])[0]
    assert sorted(map(tuple, got["entities"])) == sorted(parse_entities(reference["text"]).elements())
    source_ids = reference["enc"]["input_ids"][0].tolist()
    assert got["source_tokens"] == tok.convert_ids_to_tokens(source_ids)
    assert got["source_tokens"][-1] == tok.sep_token and tok.cls_token not in got["source_tokens"]
    seq = reference["seq"][0].tolist()
    assert seq[0] == model.config.decoder_start_token_id == tok.pad_token_id
    assert got["decoder_tokens"] == tok.convert_ids_to_tokens(seq[:-1])
    assert got["output_tokens"] == tok.convert_ids_to_tokens(seq[1:])
    # teacher forcing over the generated tokens predicts exactly those tokens again (greedy = argmax)
    assert reference["out"].logits[0].argmax(-1).tolist() == seq[1:]
    assert got["teacher_forcing_reproduces_generate"] is True


@pytest.mark.parametrize("layer,head", [(3, 0), (1, 1), (2, 8)])
def test_cross_attention_is_the_models_cross_attentions(reference, layer, head):
    got = run("Seq2SeqArchitecture", sentence=SENTENCE, view="交叉注意力", layer=layer, head=head)
    cross = reference["out"].cross_attentions[layer - 1][0]  # (heads, T, N)
    expected = cross.mean(0) if head == 0 else cross[head - 1]
    assert close(got["matrix"], expected)
    assert got["shape"] == list(reference["out"].cross_attentions[layer - 1].shape)
    assert got["row_sums"] == pytest.approx([1.0] * expected.shape[0], abs=1e-4)
    # the alignment: each decoder row's most-attended source token (up to exact ties)
    best = got["argmax_source"]
    assert len(best) == expected.shape[0]
    assert all(expected[i, j] >= expected[i].max() - 1e-6 for i, j in enumerate(best))


def test_shapes_and_self_attentions(t5, reference):
    _, model = t5
    cfg = model.config
    n = reference["enc"]["input_ids"].shape[1]
    t = reference["seq"].shape[1] - 1
    enc = run("Seq2SeqArchitecture", sentence=SENTENCE, view="编码器自注意力", layer=2, head=3)
    assert enc["shapes"] == {"cross_attentions": [[1, cfg.num_heads, t, n]] * cfg.num_decoder_layers,
                             "encoder_attentions": [[1, cfg.num_heads, n, n]] * cfg.num_layers,
                             "decoder_attentions": [[1, cfg.num_heads, t, t]] * cfg.num_decoder_layers}
    assert torch.tensor(enc["matrix"]).shape == (n, n)
    assert close(enc["matrix"], reference["out"].encoder_attentions[1][0, 2])
    assert "argmax_source" not in enc
    for layer in range(1, cfg.num_decoder_layers + 1):
        dec = run("Seq2SeqArchitecture", sentence=SENTENCE, view="解码器自注意力", layer=layer)
        m = torch.tensor(dec["matrix"])
        assert m.shape == (t, t)
        assert torch.equal(m, m.tril())  # causal: no decoder position sees a later one
        assert dec["row_sums"] == pytest.approx([1.0] * t, abs=1e-4)
        assert close(dec["matrix"], reference["out"].decoder_attentions[layer - 1][0].mean(0))


def test_encoder_runs_once_per_generate(t5):
    _, model = t5
    assert run("Seq2SeqArchitecture", sentence=SENTENCE)["encoder_calls"] == 1
    # the independent model agrees: generate encodes the source once and reuses it at every decoding step
    tok = t5[0]
    calls = []
    hook = model.get_encoder().register_forward_hook(lambda *_: calls.append(1))
    try:
        enc = tok("李鹏会见美国客人", return_tensors="pt")
        with torch.no_grad():
            seq = model.generate(input_ids=enc["input_ids"][:, 1:], attention_mask=enc["attention_mask"][:, 1:],
                                 max_new_tokens=64, do_sample=False)
    finally:
        hook.remove()
    assert calls == [1] and seq.shape[1] >= 2


@pytest.mark.parametrize("params,message", [({"sentence": "   "}, "至少 2 个字"), ({"layer": 9}, "只有 3 层"),
                                            ({"head": 9}, "8 个注意力头")])
def test_bad_input_is_explained(workspace, params, message):
    from hfcourse.viz.components.config import ComponentError

    spec = get("Seq2SeqArchitecture")
    with pytest.raises(ComponentError, match=message):
        spec.compute(spec.params.model_validate(params))
