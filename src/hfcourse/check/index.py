"""A static index of packages that cannot be imported here (vllm, flash-attn: they need CUDA to build).

The source archive of a pinned version is downloaded from the package registry's simple index — only
downloaded, never built or installed — and every module's public top-level names are read with `ast`:
definitions, assignments, imports (re-exports), `__all__`, and the string keys of lazy-import tables
(`{"LLM": "vllm.entrypoints.llm:LLM"}` style); for the public modules (PUBLIC) the keyword parameters of
exported functions and classes (`__init__`, or the fields of a dataclass / msgspec struct), followed through
re-exports, when the signature is closed (no **kwargs). The registry's simple index is read directly, with the
archive's sha256 pinned: `pip download` of an sdist would prepare its metadata, i.e. start a build.
`hfcourse lint --build-index` writes the result to
`cache_dir()/lint-index/` and refreshes the copy committed beside this file, so lint works offline and in CI.
Loading prefers a cached index of the pinned version over the committed one.
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


# modules whose exported callables get their keyword parameters indexed (what course examples import)
PUBLIC = {"vllm": ["vllm", "vllm.sampling_params", "vllm.lora.request"],
          "flash_attn": ["flash_attn", "flash_attn.flash_attn_interface"]}
STRUCT_BASES = {"object", "Struct", "msgspec.Struct", "BaseModel"}  # classes whose annotated fields are __init__
# behaviour-only mixins (checked in the pinned source: no instance fields), harmless beside a struct base
FIELDLESS_MIXINS = {"PydanticMsgspecMixin"}


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, drop_first: bool) -> list[str] | None:
    """Keyword-usable parameter names, or None when **kwargs makes the signature open."""
    if fn.args.kwarg is not None:
        return None
    args = fn.args.posonlyargs + fn.args.args
    return [a.arg for a in args[1 if drop_first else 0:]] + [a.arg for a in fn.args.kwonlyargs]


def _class_params(cls: ast.ClassDef) -> list[str] | None:
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "__init__":
            return _params(node, drop_first=True)
    bases = {ast.unparse(b) for b in cls.bases}
    is_dataclass = any("dataclass" in ast.unparse(d) for d in cls.decorator_list)
    if not bases <= STRUCT_BASES | FIELDLESS_MIXINS or not (is_dataclass or bases & {"Struct", "msgspec.Struct", "BaseModel"}):
        return None  # inherited fields or a custom __init__ elsewhere: unknown
    fields = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
              and "ClassVar" not in ast.unparse(n.annotation)]
    return fields or None


def module_api(source: str, module: str, is_package: bool) -> tuple[dict, dict]:
    """(definitions: name → keyword parameters or None, re-exports: name → "module:attr")."""
    tree = ast.parse(source)
    defs: dict[str, list[str] | None] = {}
    exports: dict[str, str] = {}
    package = module if is_package else module.rpartition(".")[0]

    def absolute(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))

    body = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.If):
            body += node.body
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs[node.name] = _params(node, drop_first=False)
        elif isinstance(node, ast.ClassDef):
            defs[node.name] = _class_params(node)
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name != "*":
                    exports[a.asname or a.name] = f"{absolute(node)}:{a.name}"
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):  # lazy-import tables
            for k, v in zip(node.value.keys, node.value.values):
                if isinstance(k, ast.Constant) and isinstance(v, ast.Constant) and isinstance(v.value, str) \
                        and ":" in v.value:
                    mod, _, attr = v.value.partition(":")
                    if mod.startswith("."):
                        mod = package + mod if mod != "." else package
                    exports[str(k.value)] = f"{mod}:{attr}"
    return defs, exports


def signatures(apis: dict[str, tuple[dict, dict]], public: list[str]) -> dict[str, list[str]]:
    """`module.Name` → keyword parameters, for the names of the public modules with a closed signature."""
    def resolve(module: str, name: str, hops: int = 4):
        defs, exports = apis.get(module, ({}, {}))
        if name in defs:
            return defs[name]
        if name in exports and hops:
            mod, _, attr = exports[name].partition(":")
            return resolve(mod, attr, hops - 1)
        return None

    out = {}
    for module in public:
        defs, exports = apis.get(module, ({}, {}))
        for name in sorted(set(defs) | set(exports)):
            if not name.startswith("_") and (params := resolve(module, name)) is not None:
                out[f"{module}.{name}"] = params
    return out


def build(pin: Pin) -> dict:
    data = _download(pin)
    modules: dict[str, list[str]] = {}
    apis: dict[str, tuple[dict, dict]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            parts = m.name.split("/")[1:]  # drop "<dist>-<version>/"
            if not m.isfile() or not parts or parts[0] != pin.module or not m.name.endswith(".py"):
                continue
            mod_parts = parts[:-1] + ([] if parts[-1] == "__init__.py" else [parts[-1][:-3]])
            if len(mod_parts) > MAX_DEPTH or any(p.startswith("_") and p != "__init__" for p in mod_parts[1:]):
                continue
            name = ".".join(mod_parts)
            source = tar.extractfile(m).read().decode("utf-8", "replace")
            try:
                names = module_names(source)
                apis[name] = module_api(source, name, parts[-1] == "__init__.py")
            except SyntaxError:
                names = set()
            modules[name] = sorted(names)
    return {"package": pin.module, "distribution": pin.dist, "version": pin.version, "source": pin.filename,
            "sha256": pin.sha256, "modules": dict(sorted(modules.items())),
            "signatures": signatures(apis, PUBLIC.get(pin.module, [pin.module]))}


def cache_index_dir() -> Path:
    from ..paths import cache_dir

    return cache_dir() / "lint-index"


def build_all(log=print, committed: bool = True) -> list[Path]:
    """Rebuild every pinned index into the cache, and (by default) refresh the committed copy."""
    out = []
    for pin in PINS:
        text = json.dumps(build(pin), separators=(",", ":"), ensure_ascii=False)
        for folder in [cache_index_dir()] + ([INDEX_DIR] if committed else []):
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{pin.module}.json"
            path.write_text(text, encoding="utf-8")
            log(f"{pin.module} {pin.version} → {path} ({path.stat().st_size:,} bytes)")
            out.append(path)
    return out


class StaticIndex:
    def __init__(self, packages: dict[str, dict]):
        self.packages = packages

    @classmethod
    @cache
    def load(cls) -> "StaticIndex":
        return cls.from_dirs(INDEX_DIR, cache_index_dir())

    @classmethod
    def from_dirs(cls, committed: Path, cached: Path) -> "StaticIndex":
        """The committed indexes, each replaced by a cached one built from the same pinned version."""
        pinned = {p.module: p.version for p in PINS}
        pkgs = {}
        for folder in (committed, cached):
            for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                try:
                    d = json.loads(f.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    continue  # a half-written cache file: keep the committed copy
                if folder == committed or pinned.get(d.get("package")) == d.get("version"):
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

    def signature(self, path: str) -> list[str] | None:
        """Keyword parameters of `module.Name` when indexed with a closed signature, else None."""
        pkg = self.packages.get(path.split(".")[0], {})
        return pkg.get("signatures", {}).get(path)

    def has_name(self, module: str, name: str) -> bool:
        mods = self.packages[module.split(".")[0]]["modules"]
        if module not in mods:
            return module.count(".") >= MAX_DEPTH
        return name in mods[module] or f"{module}.{name}" in mods
