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


# ---------------------------------------------------------------- bert-zh-mini family (hfcourse.teaching.encoders)

MINI = REPO_ROOT / "models" / "bert-zh-mini"
MINI_SENTIMENT = REPO_ROOT / "models" / "bert-zh-mini-sentiment"
MINI_NER = REPO_ROOT / "models" / "bert-zh-mini-ner"
# The checkpoints are trained by `python -m hfcourse.teaching.encoders all --out models/` and are not committed
# yet (a shared 2-core CPU gave them ~20 steps: untrained). Until they are, their tests skip, saying why.
def needs(*folders):
    missing = [f.name for f in folders if not (f / "config.json").exists()]
    return pytest.mark.skipif(bool(missing), reason=f"not trained yet: models/{', '.join(missing)}")


def _metrics(folder):
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("folder", [pytest.param(f, marks=needs(f), id=f.name) for f in (MINI, MINI_SENTIMENT, MINI_NER)])
def test_mini_folder_is_complete_and_small(folder):
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json", "README.md",
                 "metrics.json", "train_log.json"):
        assert (folder / name).is_file(), name
    assert (folder / "model.safetensors").stat().st_size < 25 * 2**20
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "English:" in card and f"{_metrics(folder)['parameters']:,}" in card


def test_span_scorer_hand_made_cases():
    from hfcourse.teaching.encoders import span_scores, spans

    assert spans(["B-PER", "I-PER", "O", "B-LOC"]) == {("PER", 0, 2), ("LOC", 3, 4)}
    assert spans(["I-ORG", "I-ORG", "B-ORG"]) == {("ORG", 0, 2), ("ORG", 2, 3)}  # stray I- opens a span
    assert spans(["B-PER", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 2)}  # type change ends the span
    assert spans(["O", "O"]) == set()
    gold = [["B-PER", "I-PER", "O", "B-LOC", "I-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "B-LOC", "O"], ["B-ORG", "I-ORG", "I-ORG"]]
    s = span_scores(gold, pred)  # 2 of 3 predicted spans exactly right, 2 of 3 gold spans found
    assert s["precision"] == pytest.approx(2 / 3) and s["recall"] == pytest.approx(2 / 3)
    assert s["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert s["per_type"]["PER"]["f1"] == 1.0
    assert span_scores([["O"]], [["O"]])["f1"] == 0.0


@needs(MINI)
def test_mini_fill_mask_ranks_a_sensible_token():
    from transformers import pipeline

    # A few minutes of MLM on CPU mostly teach sentence structure: a mask at the end of a complete clause
    # must be filled with sentence-final punctuation (an untrained model ranks tokens at random).
    fill = pipeline("fill-mask", model=str(MINI))
    top = fill("我们要坚持改革开[MASK]", top_k=1)[0]
    assert top["token_str"] in "。！？" and top["score"] > 0.3, top


@needs(MINI_SENTIMENT)
def test_mini_sentiment_classifies_clear_reviews():
    from transformers import pipeline

    clf = pipeline("text-classification", model=str(MINI_SENTIMENT))
    out = clf(["质量很好，非常满意，下次还会再来买", "太差了，完全不能用，退货"])
    assert [o["label"] for o in out] == ["正面", "负面"], out


@needs(MINI_NER)
def test_mini_ner_finds_person_and_place():
    from transformers import pipeline

    tagger = pipeline("token-classification", model=str(MINI_NER), aggregation_strategy="simple")
    found = {(e["entity_group"], e["word"].replace(" ", "")) for e in tagger("江泽民在北京会见了来访的美国客人。")}
    assert ("PER", "江泽民") in found and ("LOC", "北京") in found, found


@needs(MINI)
def test_mini_mlm_beats_the_most_frequent_token():
    m = _metrics(MINI)
    assert m["heldout_mlm_accuracy"] > m["most_frequent_token_baseline"] + 0.05


@needs(MINI_SENTIMENT)
def test_mini_sentiment_beats_the_majority_class():
    s = _metrics(MINI_SENTIMENT)
    assert s["test_accuracy"] > s["majority_baseline_accuracy"] + 0.1
    assert s["test_macro_f1"] > s["majority_baseline_macro_f1"]


@needs(MINI_NER)
def test_mini_ner_beats_its_baselines():
    n = _metrics(MINI_NER)
    assert n["test_f1"] > 0.5
    # The dictionary baseline memorises place and organisation names that recur within one month of news; on
    # person names (mostly unseen in training) the model must generalise, and there it has to win clearly.
    assert n["per_type"]["PER"]["f1"] > n["gazetteer_baseline"]["per_type"]["PER"]["f1"] + 0.1


@needs(MINI_SENTIMENT)
def test_mini_sentiment_accuracy_recomputed_on_test_split(workspace):
    """Re-measure on the first 300 test reviews: a real check against the model, not a copied number."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from hfcourse.teaching.encoders import read_sentiment

    texts, labels = (x[:300] for x in read_sentiment("test"))
    tok = AutoTokenizer.from_pretrained(MINI_SENTIMENT)
    model = AutoModelForSequenceClassification.from_pretrained(MINI_SENTIMENT).eval()
    enc = tok(texts, truncation=True, max_length=128, padding=True, return_tensors="pt")
    with torch.no_grad():
        pred = model(**enc).logits.argmax(-1)  # (300,)
    acc = float((pred == torch.tensor(labels)).float().mean())
    assert abs(acc - _metrics(MINI_SENTIMENT)["test_accuracy"]) < 0.06, acc


# -- the chapter 6 seq2seq task (hfcourse.teaching.seq2seq) --------------------------------------------------------
def test_seq2seq_target_text_follows_the_bio_tags():
    from hfcourse.teaching.seq2seq import NONE, TAGS, target_text

    tokens = list("新华社北京电李鹏讲话")
    tags = [TAGS.index(t) for t in
            ["B-ORG", "I-ORG", "I-ORG", "B-LOC", "I-LOC", "O", "B-PER", "I-PER", "O", "O"]]
    assert target_text(tokens, tags) == "机构：新华社；地名：北京；人名：李鹏"
    assert target_text(list("今天"), [0, 0]) == NONE
    # an I- tag that does not continue an entity of its type starts one (strict BIO, as the span scorer does)
    assert target_text(list("北京"), [TAGS.index("I-LOC"), TAGS.index("I-PER")]) == "地名：北；人名：京"


def test_seq2seq_scores_hand_made_cases():
    from hfcourse.teaching.seq2seq import parse_entities, scores

    assert parse_entities("机构：新华社；乱码；地名：北京；地名：北京") == {("机构", "新华社"): 1, ("地名", "北京"): 2}
    perfect = scores(["人名：李鹏"], ["人名：李鹏"])
    assert perfect["entity_f1"] == perfect["exact_match"] == perfect["rougeL"] == 1.0
    half = scores(["人名：李鹏；地名：上海"], ["人名：李鹏；地名：北京"])
    assert half["entity_precision"] == half["entity_recall"] == half["entity_f1"] == 0.5 and half["exact_match"] == 0
    # Chinese is scored per character by ROUGE-L (rouge-score's own tokenizer would drop every Chinese character)
    assert 0 < scores(["人名：李"], ["人名：李鹏"])["rougeL"] < 1


T5_ENTITIES = REPO_ROOT / "models" / "t5-zh-mini-entities"


def test_seq2seq_model_card_beats_every_baseline():
    m = _metrics(T5_ENTITIES)
    t, none, copy, untrained = (m[k] for k in ("test", "always_none_baseline", "copy_input_baseline", "untrained_model"))
    assert t["entity_f1"] > 0.2 > max(none["entity_f1"], copy["entity_f1"], untrained["entity_f1"])
    # more than the "无" half of the test sentences: the margin is small (0.547 vs 0.528 on 1,000), and the chapter says so
    assert t["exact_match"] > none["exact_match"] + 0.01
    assert t["bleu"] > max(copy["bleu"], none["bleu"], untrained["bleu"]) + 10
    assert t["rougeL"] > max(copy["rougeL"], none["rougeL"], untrained["rougeL"]) + 0.1
    card = (T5_ENTITIES / "README.md").read_text(encoding="utf-8")
    assert f"| 训练后的模型 | {t['entity_f1']} |" in card and f"{m['parameters']:,}" in card
    assert (T5_ENTITIES / "model.safetensors").stat().st_size < 35 * 2**20


@pytest.mark.slow
def test_seq2seq_model_recomputed_on_test_sentences(workspace):
    """Regenerate the first 200 test sentences: the card's examples come back, and the model beats the baselines."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    from hfcourse.teaching.seq2seq import NONE, generate_texts, pairs, scores

    torch.manual_seed(0)
    test = pairs("test", limit=200)
    sources, references = [p["source"] for p in test], [p["target"] for p in test]
    tok = AutoTokenizer.from_pretrained(T5_ENTITIES)
    model = AutoModelForSeq2SeqLM.from_pretrained(T5_ENTITIES)
    predictions = generate_texts(model, tok, sources)
    card_examples = _metrics(T5_ENTITIES)["examples"]
    assert predictions[:len(card_examples)] == [e["prediction"] for e in card_examples]
    got, none = scores(predictions, references), scores([NONE] * len(references), references)
    assert got["entity_f1"] > 0.2 and got["exact_match"] >= none["exact_match"]
    assert got["rougeL"] > max(none["rougeL"], scores(sources, references)["rougeL"])
