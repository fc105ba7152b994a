"""The offline workspace: each asset loads with the real libraries and behaves like what it claims to be;
the sync machinery is idempotent, atomic and detects corruption."""

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from hfcourse.assets import sources as src_mod
from hfcourse.assets.sources import Source, fetch, sha256_file
from hfcourse.assets.sync import Asset, build_asset, up_to_date, verify_asset

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# -- the real workspace -----------------------------------------------------------------------------------
def test_manifest_lists_every_asset_with_an_identity(workspace):
    from hfcourse.assets.sync import assets

    manifest = json.loads((workspace / "manifest.json").read_text())["assets"]
    for a in assets():
        assert manifest[a.name]["identity"] == a.identity
    assert manifest["HuggingFaceTB/SmolLM2-135M-Instruct"]["identity"] == "dequantized from Q4_1"
    assert manifest["sentence-transformers/all-MiniLM-L6-v2"]["identity"] == "exact files"


def test_every_asset_verifies(workspace):
    from hfcourse.assets.sync import assets

    problems = [p for a in assets() for p in verify_asset(a)]
    assert problems == []


def test_minilm_embeddings_put_paraphrases_closer_than_unrelated_sentences(workspace):
    import torch
    from transformers import AutoModel, AutoTokenizer

    path = workspace / "sentence-transformers/all-MiniLM-L6-v2"
    tok, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)
    texts = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today."]
    batch = tok(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    para, unrelated = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert para > unrelated + 0.3, (para, unrelated)


def test_smollm2_answers_a_chat_prompt(workspace):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = workspace / "HuggingFaceTB/SmolLM2-135M-Instruct"
    cfg = json.loads((path / "config.json").read_text())
    assert not any("gguf" in k.lower() or "quant" in k.lower() for k in cfg)
    tok, model = AutoTokenizer.from_pretrained(path), AutoModelForCausalLM.from_pretrained(path)
    assert model.num_parameters() > 130e6 and model.config.num_hidden_layers == 30
    inputs = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                     add_generation_prompt=True, return_dict=True, return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    answer = tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in answer, answer


@pytest.mark.parametrize("name", ["openai-community/gpt2", "Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-2-7b-hf",
                                  "google-bert/bert-base-uncased"])
def test_tokenizers_reproduce_their_test_vectors(workspace, name):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(workspace / name)
    vectors = json.loads((workspace / name / "test_vectors.json").read_text())
    assert len(vectors) >= 30
    for v in vectors:
        assert tok(v["text"], add_special_tokens=False)["input_ids"] == v["ids"], v["text"]


def test_qwen_chat_template_and_llama_bos(workspace):
    from transformers import AutoTokenizer

    qwen = AutoTokenizer.from_pretrained(workspace / "Qwen/Qwen2.5-0.5B-Instruct")
    text = qwen.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False, add_generation_prompt=True)
    assert text.endswith("<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n")
    llama = AutoTokenizer.from_pretrained(workspace / "meta-llama/Llama-2-7b-hf")
    assert llama("Hello")["input_ids"][0] == llama.bos_token_id == 1


def test_sentiment_split_matches_its_card_and_is_stratified(workspace):
    from datasets import load_dataset

    d = workspace / "datasets/zh-sentiment"
    ds = load_dataset("csv", data_files={s: str(d / f"{s}.csv") for s in ("train", "validation", "test")})
    card = (d / "README.md").read_text()
    ratios = {}
    for split in ("train", "validation", "test"):
        labels = Counter(ds[split]["label"])
        assert f"| {split} | {ds[split].num_rows} | {labels[0]} | {labels[1]} |" in card
        ratios[split] = labels[1] / ds[split].num_rows
    assert max(ratios.values()) - min(ratios.values()) < 0.01
    texts = [t for s in ds.values() for t in s["text"]]
    assert len(texts) == len(set(texts))  # deduplicated across splits
    pq = load_dataset("parquet", data_files=str(d / "test.parquet"))["train"]
    assert pq["text"] == ds["test"]["text"]


def test_ner_tags_are_valid_bio(workspace):
    from datasets import load_dataset

    d = workspace / "datasets/peoples-daily-ner"
    labels = json.loads((d / "labels.json").read_text())
    ds = load_dataset("json", data_files=str(d / "validation.jsonl"))["train"]
    kinds = Counter()
    for row in ds:
        assert len(row["tokens"]) == len(row["ner_tags"])
        prev = "O"
        for t in (labels[i] for i in row["ner_tags"]):
            if t.startswith("I-"):
                assert prev[2:] == t[2:], row["tokens"]
            kinds[t] += 1
            prev = t
    assert all(kinds[f"B-{k}"] > 100 for k in ("PER", "LOC", "ORG"))


def test_people_daily_person_names_are_merged():
    from hfcourse.assets.datasets_zh import bio, parse_tagged_line

    chars, tags = bio(parse_tagged_line("国家/n  主席/n  江/nr  泽民/nr  在/p  北京/ns  会见/v  新华社/nt"))
    spans = "".join(chars), tags
    assert tags[4:8] == ["B-PER", "I-PER", "I-PER", "O"]
    assert tags[8:10] == ["B-LOC", "I-LOC"] and tags[12:15] == ["B-ORG", "I-ORG", "I-ORG"], spans


# -- the machinery, on a small fake asset -----------------------------------------------------------------
@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def fake_asset(calls: list, fail: bool = False, recipe: str = "1") -> Asset:
    def build(srcs, out: Path):
        calls.append(out)
        (out / "data.txt").write_text("hello " * 10)
        if fail:
            (out / "half.txt").write_text("half")
            raise KeyboardInterrupt  # an interrupted build
        return {"n": 1}

    return Asset("org/fake", "dataset", "derived dataset", "test", [], build, recipe=recipe)


def test_sync_is_idempotent_and_verifies(home):
    calls = []
    a = fake_asset(calls)
    dest = build_asset(a)
    assert up_to_date(a, dest) and verify_asset(a) == []
    assert not up_to_date(fake_asset(calls, recipe="2"), dest)  # a new recipe rebuilds
    (dest / "data.txt").write_text("tampered")
    assert verify_asset(a) == ["org/fake/data.txt: sha256 differs from the manifest"]
    (dest / "extra.bin").write_text("x")
    assert "org/fake/extra.bin: not in the manifest" in verify_asset(a)


def test_interrupted_build_leaves_no_partial_asset(home):
    calls = []
    good = build_asset(fake_asset(calls))
    before = (good / "MANIFEST.json").read_text()
    with pytest.raises(KeyboardInterrupt):
        build_asset(fake_asset(calls, fail=True))
    assert (good / "MANIFEST.json").read_text() == before and not (good / "half.txt").exists()
    assert [p.name for p in good.parent.iterdir()] == ["fake"]  # no .partial / .old left behind


def test_corrupted_download_is_fetched_again(home, monkeypatch):
    """Uses pip to download a tiny real wheel (registry access, as the set-up command has)."""
    first = Source("six", "1.17.0", "six-1.17.0-py2.py3-none-any.whl", "0" * 64)
    with pytest.raises(src_mod.DownloadError, match="does not match the pinned"):
        fetch(first)
    # Learn the real checksum from a clean download, then corrupt the cached file.
    import subprocess
    import sys

    tmp = home / "probe"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(tmp), first.spec], check=True)
    real = Source(first.package, first.version, first.filename, sha256_file(tmp / first.filename))
    path = fetch(real)
    path.write_bytes(b"corrupted")
    messages = []
    again = fetch(real, log=messages.append)
    assert sha256_file(again) == real.sha256 and "checksum mismatch" in messages[0]
