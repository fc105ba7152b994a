"""The component registry.

A component is a function `compute(params) -> dict` with a pydantic parameter model. It returns
`{"figure": <Plotly figure JSON, optionally with "frames">, "numbers": {...what was drawn...}}`.
Component modules live in `hfcourse.viz.components`; importing them must stay cheap (no torch at
module level): heavy libraries are imported inside `compute`, and models load lazily once.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    title: str
    params: type[BaseModel]
    compute: Callable[[BaseModel], dict]
    description: str = ""
    chapter: int | None = None


REGISTRY: dict[str, ComponentSpec] = {}
_loaded = False


def component(name: str, *, params: type[BaseModel], title: str, description: str = "", chapter: int | None = None):
    """Decorator: register `compute` under `name` (the outline's component name)."""

    def wrap(fn: Callable[[BaseModel], dict]) -> Callable[[BaseModel], dict]:
        if name in REGISTRY and REGISTRY[name].compute is not fn:
            raise ValueError(f"component {name!r} registered twice")
        REGISTRY[name] = ComponentSpec(name, title, params, fn, description, chapter)
        return fn

    return wrap


def load_all() -> dict[str, ComponentSpec]:
    """Import every module of hfcourse.viz.components (each registers its components)."""
    global _loaded
    if not _loaded:
        from . import components

        for mod in pkgutil.iter_modules(components.__path__):
            importlib.import_module(f"{components.__name__}.{mod.name}")
        _loaded = True
    return REGISTRY


def names() -> set[str]:
    return set(load_all())


def get(name: str) -> ComponentSpec | None:
    return load_all().get(name)
