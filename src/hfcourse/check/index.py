"""A static index of packages that cannot be imported here (vllm, flash-attn: they need CUDA to build).

The source archive of a pinned version is downloaded from the package registry's simple index — only
downloaded, never built or installed — and every module's public top-level names are read with `ast`:
definitions, assignments, imports (re-exports), `__all__`, and the string keys of lazy-import tables
(`{"LLM": "vllm.entrypoints.llm:LLM"}` style). The result is committed as JSON beside this file, so lint
works offline and in CI; `hfcourse lint --build-index` rebuilds it.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import tarfile
import urllib.request
from dataclasses import dataclass
from functools import cache
from pathlib import Path

INDEX_DIR = Path(__file__).parent / "index"
SIMPLE = "https://pypi.org/simple/{}/"
MAX_DEPTH = 4  # vllm.entrypoints.openai.api_server


@dataclass(frozen=True)
class Pin:
    module: str  # import name
    dist: str  # distribution name on the registry
    version: str
    filename: str
    sha256: str


PINS = [
    Pin("vllm", "vllm", "0.33.0", "vllm-0.33.0.tar.gz",
        "f4c33c2503d52bb411146afa9618a4f48bed68912f617e6803ac8d76e4c74112"),
    Pin("flash_attn", "flash-attn", "2.8.3.post2", "flash_attn-2.8.3.post2.tar.gz",
        "d0f9f0b08a986cdeadbffcf5ec8b3a8f514366c68ad1853d3ab061bc83cc340b"),
]


def _download(pin: Pin) -> bytes:
    html = urllib.request.urlopen(SIMPLE.format(pin.dist), timeout=60).read().decode()
    for url, name in re.findall(r'href="([^"]+)"[^>]*>([^<]+)</a>', html):
        if name == pin.filename:
            data = urllib.request.urlopen(url.split("#")[0], timeout=300).read()
            digest = hashlib.sha256(data).hexdigest()
            if digest != pin.sha256:
                raise RuntimeError(f"{pin.filename}: sha256 {digest} != pinned {pin.sha256}")
            return data
    raise RuntimeError(f"{pin.filename} not found in the registry's index of {pin.dist}")


def module_names(source: str) -> set[str]:
    tree = ast.parse(source)
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    names.add(t.id)
                    if t.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
                        names.update(e.value for e in node.value.elts if isinstance(e, ast.Constant))
            if isinstance(node.value, ast.Dict):  # lazy-import tables
                names.update(k.value for k in node.value.keys
                             if isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.isidentifier())
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    names.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks list the lazily exported names
            for sub in node.body:
                if isinstance(sub, ast.ImportFrom):
                    names.update(a.asname or a.name for a in sub.names if a.name != "*")
    return {n for n in names if not n.startswith("_") or n == "__all__"}


def build(pin: Pin) -> dict:
    data = _download(pin)
    modules: dict[str, list[str]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            parts = m.name.split("/")[1:]  # drop "<dist>-<version>/"
            if not m.isfile() or not parts or parts[0] != pin.module or not m.name.endswith(".py"):
                continue
            mod_parts = parts[:-1] + ([] if parts[-1] == "__init__.py" else [parts[-1][:-3]])
            if len(mod_parts) > MAX_DEPTH or any(p.startswith("_") and p != "__init__" for p in mod_parts[1:]):
                continue
            try:
                names = module_names(tar.extractfile(m).read().decode("utf-8", "replace"))
            except SyntaxError:
                names = set()
            modules[".".join(mod_parts)] = sorted(names)
    return {"package": pin.module, "distribution": pin.dist, "version": pin.version, "source": pin.filename,
            "sha256": pin.sha256, "modules": dict(sorted(modules.items()))}


def build_all(log=print) -> list[Path]:
    INDEX_DIR.mkdir(exist_ok=True)
    out = []
    for pin in PINS:
        idx = build(pin)
        path = INDEX_DIR / f"{pin.module}.json"
        path.write_text(json.dumps(idx, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
        log(f"{pin.module} {pin.version}: {len(idx['modules'])} modules → {path} ({path.stat().st_size:,} bytes)")
        out.append(path)
    return out


class StaticIndex:
    def __init__(self, packages: dict[str, dict]):
        self.packages = packages

    @classmethod
    @cache
    def load(cls) -> "StaticIndex":
        pkgs = {}
        for f in sorted(INDEX_DIR.glob("*.json")):
            d = json.loads(f.read_text(encoding="utf-8"))
            pkgs[d["package"]] = d
        return cls(pkgs)

    def has_package(self, top: str) -> bool:
        return top in self.packages

    def version(self, top: str) -> str:
        return self.packages[top]["version"]

    def has_module(self, module: str) -> bool:
        top = module.split(".")[0]
        mods = self.packages[top]["modules"]
        return module in mods or module.count(".") >= MAX_DEPTH  # deeper modules are not indexed

    def has_name(self, module: str, name: str) -> bool:
        mods = self.packages[module.split(".")[0]]["modules"]
        if module not in mods:
            return module.count(".") >= MAX_DEPTH
        return name in mods[module] or f"{module}.{name}" in mods
