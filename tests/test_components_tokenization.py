"""Chapter 2 components checked against the libraries they show (transformers' fast tokenizers, tokenizers' trainers,
transformers' own attention-mask builder)."""

import pytest
import torch
from pydantic import ValidationError

from conftest import run_component as run
from hfcourse.viz.registry import get

TEXT = "Transformers 让 NLP 变简单了！unbelievable 🤗"
TOKENIZERS = {
    "bert-base-uncased (WordPiece)": "google-bert/bert-base-uncased",
    "GPT-2 (BPE)": "openai-community/gpt2",
    "Qwen2.5 (BPE)": "Qwen/Qwen2.5-0.5B-Instruct",
    "Llama-2 (SentencePiece)": "meta-llama/Llama-2-7b-hf",
    "bert-zh-mini (课程中文 WordPiece)": "hfcourse/bert-zh-mini",
}


@pytest.fixture(scope="module")
def load(workspace):
    from transformers import AutoTokenizer

    cache = {}

    def load_(name: str):
        if name not in cache:
            if not (workspace / name / "tokenizer.json").exists():
                pytest.skip(f"{name} missing from the workspace")
            cache[name] = AutoTokenizer.from_pretrained(str(workspace / name))
        return cache[name]

    return load_


# -- TokenizationVisualizer ----------------------------------------------------------------------------------

@pytest.mark.parametrize("label", list(TOKENIZERS))
def test_visualizer_tokens_ids_and_offsets_are_the_tokenizers(load, label):
    tok = load(TOKENIZERS[label])
    got = run("TokenizationVisualizer", text=TEXT, tokenizer=label)
    ids = tok(TEXT)["input_ids"]
    assert got["ids"] == ids
    assert got["tokens"] == tok.convert_ids_to_tokens(ids)
    assert got["decoded"] == tok.decode(ids)
    assert got["offsets"] == [list(o) for o in tok(TEXT, return_offsets_mapping=True)["offset_mapping"]]
    assert len(got["kinds"]) == len(ids)
    for token_id, kind, (a, b) in zip(ids, got["kinds"], got["offsets"]):
        if kind == "特殊":
            assert token_id in tok.all_special_ids
        else:  # every non-special token points at a non-empty piece of the text
            assert 0 <= a < b <= len(TEXT)
    # the text is covered: every non-space character lies inside some token's offsets
    covered = set()
    for a, b in got["offsets"]:
        covered.update(range(a, b))
    assert all(i in covered for i, c in enumerate(TEXT) if not c.isspace())


def test_visualizer_offsets_slice_back_to_the_text(load):
    tok = load("google-bert/bert-base-uncased")
    got = run("TokenizationVisualizer", text="Tokenizers are unbelievably useful",
              tokenizer="bert-base-uncased (WordPiece)")
    for token, kind, (a, b) in zip(got["tokens"], got["kinds"], got["offsets"]):
        if kind == "普通":
            assert token.removeprefix("##") == "Tokenizers are unbelievably useful"[a:b].lower()
    gpt2 = run("TokenizationVisualizer", text="Hello world, hello tokenizers", tokenizer="GPT-2 (BPE)")
    for token_id, (a, b) in zip(gpt2["ids"], gpt2["offsets"]):
        assert load("openai-community/gpt2").decode([token_id]).strip() == "Hello world, hello tokenizers"[a:b].strip()
    assert tok("Tokenizers are unbelievably useful")["input_ids"] == got["ids"]


def test_visualizer_counts_every_tokenizer(load):
    for special in (True, False):
        got = run("TokenizationVisualizer", text=TEXT, add_special_tokens=special)
        assert set(got["counts_by_tokenizer"]) == set(TOKENIZERS)
        for label, name in TOKENIZERS.items():
            assert got["counts_by_tokenizer"][label] == len(load(name)(TEXT, add_special_tokens=special)["input_ids"])


def test_visualizer_kinds(load):
    bert = run("TokenizationVisualizer", text=TEXT, tokenizer="bert-base-uncased (WordPiece)")
    unk = load("google-bert/bert-base-uncased").unk_token_id
    assert bert["kinds"][0] == bert["kinds"][-1] == "特殊" and bert["tokens"][0] == "[CLS]"
    assert [k == "未知" for k in bert["kinds"]] == [i == unk for i in bert["ids"]] and "未知" in bert["kinds"]
    no_special = run("TokenizationVisualizer", text=TEXT, tokenizer="bert-base-uncased (WordPiece)",
                     add_special_tokens=False)
    assert "特殊" not in no_special["kinds"] and len(no_special["ids"]) == len(bert["ids"]) - 2

    gpt2 = load("openai-community/gpt2")
    got = run("TokenizationVisualizer", text=TEXT, tokenizer="GPT-2 (BPE)")
    for token_id, kind in zip(got["ids"], got["kinds"]):
        assert (kind == "字节回退") == ("\ufffd" in gpt2.decode([token_id]))
    assert "字节回退" in got["kinds"] and got["decoded"] == TEXT  # byte pieces still decode back to the text

    llama = run("TokenizationVisualizer", text=TEXT, tokenizer="Llama-2 (SentencePiece)")
    for token, kind in zip(llama["tokens"], llama["kinds"]):
        if token.startswith("<0x"):
            assert kind == "字节回退"
    assert "<0xF0>" in llama["tokens"]  # 🤗 is not in Llama-2's vocabulary: four UTF-8 bytes

    zh = run("TokenizationVisualizer", text="今天天气很好", tokenizer="bert-zh-mini (课程中文 WordPiece)")
    assert zh["tokens"][1:-1] == list("今天天气很好")  # the course's Chinese WordPiece: one token per character


def test_visualizer_draws_at_most_300_cells_but_reports_every_token(load):
    spec = get("TokenizationVisualizer")
    result = spec.compute(spec.params.model_validate({"text": "🤗" * 300, "tokenizer": "Llama-2 (SentencePiece)"}))
    ids = load("meta-llama/Llama-2-7b-hf")("🤗" * 300)["input_ids"]
    assert result["numbers"]["ids"] == ids and len(ids) > 1000
    cells = result["figure"]["data"][0]["z"]
    assert sum(v is not None for row in cells for v in row) == 300
    assert "只画前 300 个" in result["figure"]["layout"]["title"]["text"]


def test_visualizer_rejects_empty_and_too_long_text():
    spec = get("TokenizationVisualizer")
    with pytest.raises(ValidationError, match="不能为空"):
        spec.params.model_validate({"text": "   "})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"text": "长" * 301})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"tokenizer": "no-such-tokenizer"})


# -- TokenAlgorithmComparison --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(workspace):
    if not (workspace / "datasets/zh-sentiment/train.csv").exists():
        pytest.skip("zh-sentiment missing from the workspace")
    return run("TokenAlgorithmComparison", text="Transformers 让自然语言处理变简单了！今天天气很好", vocab_size=1000)


def test_algorithms_are_trained_with_the_requested_vocabulary(trained):
    from hfcourse.viz.components.tokenization import trained_tokenizers

    assert trained["corpus_lines"] > 1000
    assert set(trained["algorithms"]) == {"WordPiece", "BPE", "Unigram"}
    toks = trained_tokenizers(1000)
    for algo, d in trained["algorithms"].items():
        assert 0 < d["vocab_size"] <= 1000
        assert d["vocab_size"] == toks[algo].get_vocab_size()
        assert d["count"] == len(d["tokens"]) == len(d["ids"])
        enc = toks[algo].encode("Transformers 让自然语言处理变简单了！今天天气很好")
        assert d["tokens"] == enc.tokens and d["ids"] == enc.ids
    # the three models really differ: WordPiece marks word-internal pieces with ##, the others do not
    assert any(t.startswith("##") for t in trained["algorithms"]["WordPiece"]["tokens"])
    assert not any(t.startswith("##") for t in trained["algorithms"]["BPE"]["tokens"])


def test_each_algorithms_tokens_cover_the_text(trained):
    text = "Transformers 让自然语言处理变简单了！今天天气很好"
    for algo, d in trained["algorithms"].items():
        pieces = [text[a:b] for a, b in d["offsets"]]
        assert "".join(pieces) == "".join(text.split()), algo
        for token, piece in zip(d["tokens"], pieces):
            if token != "[UNK]" and algo != "Unigram":
                assert token.removeprefix("##") == piece
            elif algo == "Unigram":
                assert token == piece  # Unigram keeps the text of an unknown piece (its id is the [UNK] id)


def test_algorithm_vocab_size_changes_the_split(trained):
    small = run("TokenAlgorithmComparison", text="Transformers 让自然语言处理变简单了！今天天气很好", vocab_size=500)
    assert all(d["vocab_size"] <= 500 for d in small["algorithms"].values())
    assert sum(d["unknown"] for d in small["algorithms"].values()) >= sum(
        d["unknown"] for d in trained["algorithms"].values())
    spec = get("TokenAlgorithmComparison")
    with pytest.raises(ValidationError):
        spec.params.model_validate({"vocab_size": 100})


# -- AttentionMaskBuilder ------------------------------------------------------------------------------------

MASK_TEXTS = ["我喜欢这本书", "今天天气很好，适合出去走走", "好"]


@pytest.mark.parametrize("side", ["right", "left"])
def test_mask_padding_is_the_tokenizers_and_on_the_right_side(load, side):
    tok = load("HuggingFaceTB/SmolLM2-135M-Instruct")
    got = run("AttentionMaskBuilder", texts="|".join(MASK_TEXTS), padding_side=side, sample=2)
    ref = tok(MASK_TEXTS, padding=True, padding_side=side, return_tensors="pt")
    assert got["input_ids"] == ref["input_ids"].tolist() and got["attention_mask"] == ref["attention_mask"].tolist()
    short = got["attention_mask"][2]
    assert 0 in short
    if side == "right":
        assert short[0] == 1 and short[-1] == 0 and short == sorted(short, reverse=True)
    else:
        assert short[0] == 0 and short[-1] == 1 and short == sorted(short)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("label", ["SmolLM2-135M-Instruct（解码器）", "bert-base-uncased（编码器）"])
def test_mask_combination_equals_the_library_mask(workspace, load, side, label):
    from transformers import AutoConfig
    from transformers.masking_utils import create_causal_mask

    load("HuggingFaceTB/SmolLM2-135M-Instruct")
    for sample in range(len(MASK_TEXTS)):
        got = run("AttentionMaskBuilder", texts="|".join(MASK_TEXTS), padding_side=side, tokenizer=label, sample=sample)
        assert got["matches_library"] is True
        mask = torch.tensor(got["attention_mask"])
        t = mask.shape[1]
        causal = torch.tensor(got["causal_mask"])
        assert torch.equal(causal, torch.tril(torch.ones(t, t, dtype=torch.long)))
        # our own reference, computed independently: query i sees key j iff j <= i and key j is a real token
        expected = [[int(j <= i and mask[sample, j] == 1) for j in range(t)] for i in range(t)]
        assert got["combined_mask"] == expected
    # and directly against transformers' builder with the SmolLM2 (Llama) config, eager attention
    config = AutoConfig.from_pretrained(str(workspace / "HuggingFaceTB/SmolLM2-135M-Instruct"))
    config._attn_implementation = "eager"
    lib = create_causal_mask(config=config, inputs_embeds=torch.zeros(mask.shape[0], t, 1), attention_mask=mask,
                             cache=None, position_ids=None)
    assert got["combined_mask"] == (lib[got["sample"], 0] == 0).int().tolist()


def test_left_padding_leaves_pad_queries_with_nothing_to_attend(load):
    got = run("AttentionMaskBuilder", texts="|".join(MASK_TEXTS), padding_side="left", sample=2)
    n_pad = got["attention_mask"][2].count(0)
    assert got["fully_masked_query_rows"] == list(range(n_pad))
    right = run("AttentionMaskBuilder", texts="|".join(MASK_TEXTS), padding_side="right", sample=2)
    assert right["fully_masked_query_rows"] == []
    assert right["pad_token"] == load("HuggingFaceTB/SmolLM2-135M-Instruct").pad_token
    assert right["pad_token_set_to_eos"] is False


def test_mask_builder_rejects_bad_input():
    spec = get("AttentionMaskBuilder")
    with pytest.raises(ValidationError, match="2 到 4"):
        spec.params.model_validate({"texts": "只有一条"})
    with pytest.raises(ValidationError, match="2 到 4"):
        spec.params.model_validate({"texts": "a|b|c|d|e"})
    with pytest.raises(ValidationError):
        spec.params.model_validate({"padding_side": "middle"})


def test_mask_builder_explains_a_sample_out_of_range(workspace):
    from hfcourse.viz.components.config import ComponentError

    with pytest.raises(ComponentError, match="只有 2 条文本"):
        run("AttentionMaskBuilder", texts="你好|再见", sample=3)


def test_api_explains_invalid_input_in_chinese(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web.app import create_app

    client = TestClient(create_app())
    r = client.post("/api/components/AttentionMaskBuilder", json={"texts": "只有一条"})
    assert r.status_code == 422 and "2 到 4" in r.text
    r = client.post("/api/components/TokenizationVisualizer", json={"text": "   "})
    assert r.status_code == 422 and "不能为空" in r.text
