"""Workspace assets for the components: one place that finds them, explains a missing one, and caches loads.

Heavy libraries are imported inside the functions: component modules must stay cheap to import.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..paths import workspace
from .components.config import ComponentError


def require(name: str, marker: str | None = None) -> Path:
    """`workspace()/name` (a folder holding `marker`, or a file), or an error telling the learner what to run."""
    path = workspace() / name
    if not (path / marker if marker else path).exists():
        raise ComponentError(f"工作区中没有 {name}：先运行 `hfcourse assets sync`")
    return path


@functools.lru_cache(maxsize=8)
def tokenizer(name: str):
    import hfcourse.minillm  # noqa: F401  (registers model_type "minillm" for the course's own checkpoint)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(require(name, "tokenizer.json")))
