"""API-currency lint of one code example: resolve what it uses against the installed libraries.

- `from pkg import name` / `import pkg.mod`: the name or module must exist in the installed version
  (or, for packages that cannot be imported here, in the static source index, see `index.py`, which also
  checks keyword arguments against the indexed signatures);
- `pkg.attr` chains on imported modules;
- keyword arguments of calls whose callee resolves to a function or class with an explicit signature;
  callables taking **kwargs (`from_pretrained`, `generate`, `pipeline`) are checked against the table of
  removed keywords instead;
- removed methods on any receiver (`tokenizer.batch_encode_plus`), `return_tensors="tf"`, and
  `pipeline("<task>")` against the installed task registry.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from functools import cache
from importlib import metadata

from . import migrations as M
from .index import StaticIndex

CHECKED = {"transformers", "tokenizers", "datasets", "peft", "accelerate", "trl", "bitsandbytes", "torch",
           "safetensors", "huggingface_hub", "optimum", "evaluate", "sentence_transformers", "vllm", "flash_attn",
           "deepspeed", "tensorrt_llm", "auto_gptq", "gptqmodel", "awq", "text_generation", "torchao", "hqq",
           "onnxruntime", "executorch"}
DIST_NAME = {"flash_attn": "flash-attn", "huggingface_hub": "huggingface_hub", "tensorrt_llm": "tensorrt-llm"}


@dataclass(frozen=True)
class StaticRef:
    """A name imported from a package that is only known through the static index."""
    path: str  # vllm.SamplingParams


@dataclass
class Finding:
    line: int  # 1-based line inside the example's code
    severity: str  # error | warning
    message: str
    rule: str


@cache
def _import(module: str):
    """The imported module, or None when it is not installed / cannot be imported here."""
    if importlib.util.find_spec(module.split(".")[0]) is None:
        return None
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a package that fails to import is 'not importable here'
        return None


def _version(top: str) -> str:
    try:
        return metadata.version(DIST_NAME.get(top, top))
    except metadata.PackageNotFoundError:
        return "?"


def _has(module_obj, module_name: str, name: str) -> bool:
    try:
        if hasattr(module_obj, name):
            return True
    except Exception:  # noqa: BLE001 - a lazy attribute that exists but fails to import here (optional deps)
        return True
    try:
        return importlib.util.find_spec(f"{module_name}.{name}") is not None
    except (ImportError, ValueError):
        return False


@cache
def _signature_params(obj) -> tuple[set[str], bool] | None:
    """(parameter names, accepts **kwargs) of a callable, or None when it has no usable signature."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    names = {p.name for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    var_kw = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
    return names, var_kw


@cache
def _pipeline_tasks() -> set[str] | None:
    mod = _import("transformers.pipelines")
    if mod is None:
        return None
    return set(mod.SUPPORTED_TASKS) | set(getattr(mod, "TASK_ALIASES", {}))


class _Checker(ast.NodeVisitor):
    def __init__(self, index: StaticIndex):
        self.index = index
        self.findings: list[Finding] = []
        self.bound: dict[str, object] = {}  # local name → resolved object (module, class, function)
        self.bound_path: dict[str, str] = {}  # local name → dotted path, for messages

    def add(self, node, severity, message, rule):
        self.findings.append(Finding(getattr(node, "lineno", 1), severity, message, rule))

    # -- imports -----------------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.split(".")[0]
            if top not in CHECKED:
                continue
            mod = _import(alias.name)
            if mod is None:
                self._unimportable(node, alias.name, lambda: self._static_module(node, alias.name))
                continue
            local = alias.asname or top
            self.bound[local] = mod if alias.asname else _import(top)
            self.bound_path[local] = alias.name if alias.asname else top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not node.module or node.level:
            return
        top = node.module.split(".")[0]
        if top not in CHECKED:
            return
        mod = _import(node.module)
        if mod is None:
            self._unimportable(node, node.module, lambda: self._static_names(node))
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            if not _has(mod, node.module, alias.name):
                hint = M.NAMES.get(alias.name)
                close = difflib.get_close_matches(alias.name, [n for n in dir(mod) if not n.startswith("_")], 1)
                extra = f"; use {hint}" if hint else (f"; did you mean {close[0]}?" if close else "")
                self.add(node, "error", f"cannot import {alias.name} from {node.module} "
                                        f"({top} {_version(top)}){extra}", "removed-name")
                continue
            try:
                obj = getattr(mod, alias.name, None)
            except Exception:  # noqa: BLE001 - exists but needs an optional dependency: nothing to check
                obj = None
            self.bound[alias.asname or alias.name] = obj
            self.bound_path[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def _unimportable(self, node, module: str, check_static) -> None:
        """`module` did not import: its package is not installed here (use the static index), or the
        installed package has no such module (removed)."""
        top = module.split(".")[0]
        if _import(top) is None:
            check_static()
        else:
            self.add(node, "error", f"module {module} does not exist in {top} {_version(top)}", "removed-module")

    def _static_module(self, node, module: str) -> None:
        top = module.split(".")[0]
        if not self.index.has_package(top):
            self.add(node, "warning", f"{top} is not installed here and has no static index; not checked", "unchecked")
        elif not self.index.has_module(module):
            self.add(node, "error", f"module {module} does not exist in {top} {self.index.version(top)} (static index)",
                     "removed-module")

    def _static_names(self, node: ast.ImportFrom) -> None:
        top = node.module.split(".")[0]
        if not self.index.has_package(top):
            self.add(node, "warning", f"{top} is not installed here and has no static index; not checked", "unchecked")
            return
        if not self.index.has_module(node.module):
            self.add(node, "error", f"module {node.module} does not exist in {top} {self.index.version(top)} "
                                    "(static index)", "removed-module")
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            if not self.index.has_name(node.module, alias.name):
                self.add(node, "error", f"cannot import {alias.name} from {node.module} "
                                        f"({top} {self.index.version(top)}, static index)", "removed-name")
            else:
                self.bound[alias.asname or alias.name] = StaticRef(f"{node.module}.{alias.name}")

    # -- attributes --------------------------------------------------------------------------------------
    def _resolve(self, node):
        """Resolve `name` or `name.attr.attr` to an object, reporting a missing attribute of a module."""
        if isinstance(node, ast.Name):
            return self.bound.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value)
            if base is None:
                return None
            if inspect.ismodule(base):
                if not _has(base, base.__name__, node.attr):
                    top = base.__name__.split(".")[0]
                    hint = M.NAMES.get(node.attr)
                    self.add(node, "error", f"{base.__name__} has no attribute {node.attr} ({top} {_version(top)})"
                                            + (f"; use {hint}" if hint else ""), "removed-name")
                    return None
                try:
                    return getattr(base, node.attr)
                except Exception:  # noqa: BLE001 - a submodule not yet imported, or one needing optional deps
                    return _import(f"{base.__name__}.{node.attr}")
            return getattr(base, node.attr, None) if inspect.isclass(base) else None
        return None

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in M.METHODS and isinstance(node.ctx, ast.Load):
            new, version = M.METHODS[node.attr]
            severity = "warning" if "deprecated" in version else "error"
            self.add(node, severity, f".{node.attr}() was removed/deprecated ({version}); use {new}", "removed-method")
        if isinstance(node.value, (ast.Name, ast.Attribute)):
            self._resolve(node)
        else:
            self.generic_visit(node)

    # -- calls -------------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        callee_name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        target = self._resolve(node.func) if isinstance(node.func, (ast.Name, ast.Attribute)) else None
        kw_names = [k.arg for k in node.keywords if k.arg]
        for k in node.keywords:
            if k.arg == "return_tensors" and isinstance(k.value, ast.Constant) and k.value.value in M.TENSOR_TYPES_REMOVED:
                self.add(k.value, "error", f'return_tensors="{k.value.value}" was removed in '
                                           f'{M.TENSOR_TYPES_REMOVED[k.value.value]} (valid: "pt", "np", "mlx")',
                         "removed-tensor-type")
            if k.arg == "torch_dtype":
                self.add(k.value, "warning", "torch_dtype= is deprecated in transformers 5.x; use dtype=", "deprecated-kwarg")
        if isinstance(target, StaticRef):
            self._static_call(node, target, kw_names)
            target = None
        params = _signature_params(target) if target is not None and callable(target) else None
        path = self.bound_path.get(getattr(node.func, "id", ""), callee_name)
        if params is not None and not params[1]:
            allowed = params[0]
            for name in kw_names:
                if name not in allowed:
                    hint = M.suggestion_for_kwarg(name) or (
                        f"did you mean {m[0]}?" if (m := difflib.get_close_matches(name, sorted(allowed), 1)) else "")
                    self.add(node, "error", f"{path}() got an unexpected keyword argument '{name}'"
                                            + (f" ({hint})" if hint else ""), "unknown-kwarg")
        elif callee_name in M.KWARG_SENSITIVE_METHODS or callee_name in M.TRAINERS:
            for name in kw_names:
                if name in M.KWARGS and name != "torch_dtype":
                    if name in M.TRAINER_ONLY_KWARGS and callee_name not in M.TRAINERS:
                        continue
                    self.add(node, "error", f"{callee_name}(..., {name}=...): {M.suggestion_for_kwarg(name)}",
                             "removed-kwarg")
        for k in node.keywords:
            if (callee_name, k.arg) in M.CALLEE_KWARGS:
                new, version = M.CALLEE_KWARGS[callee_name, k.arg]
                self.add(node, "error", f"{callee_name}(..., {k.arg}=...) was removed in {version}; {new}",
                         "removed-kwarg")
        if callee_name == "pipeline":
            task_node = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "task"), None)
            task = task_node.value if isinstance(task_node, ast.Constant) else None
            tasks = _pipeline_tasks()
            if isinstance(task, str) and tasks is not None and task not in tasks:
                hint = M.suggestion_for_task(task)
                self.add(node, "error", f'pipeline task "{task}" does not exist in transformers '
                                        f'{_version("transformers")}' + (f"; use {hint}" if hint else ""),
                         "removed-task")
        self.generic_visit(node)


    def _static_call(self, node: ast.Call, ref: StaticRef, kw_names: list[str]) -> None:
        allowed = self.index.signature(ref.path)
        if allowed is None:  # open (**kwargs) or not indexed: nothing to say
            return
        top = ref.path.split(".")[0]
        for name in kw_names:
            if name not in allowed:
                close = difflib.get_close_matches(name, [a for a in allowed if not a.startswith("_")], 1)
                self.add(node, "error", f"{ref.path}() got an unexpected keyword argument '{name}' "
                                        f"({top} {self.index.version(top)}, static index"
                                        + (f"; did you mean {close[0]}?)" if close else ")"), "unknown-kwarg")


def check_code(code: str, index: StaticIndex | None = None) -> list[Finding]:
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [Finding(e.lineno or 1, "error", f"syntax error: {e.msg}", "syntax")]
    checker = _Checker(index or StaticIndex.load())
    checker.visit(tree)
    return checker.findings
