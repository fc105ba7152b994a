"""`hfcourse verify`: run the selected examples, compare, optionally update, and write the report."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from ..content.model import CodeExample, Course
from ..paths import REPO_ROOT, cache_dir, report_path, workspace
from .compare import diff, outputs_match
from .runner import Captured, Runner
from .store import NewOutput, atomic_write, update_file

VERSIONED = ("torch", "transformers", "tokenizers", "datasets", "accelerate", "peft", "trl", "bitsandbytes",
             "safetensors", "huggingface_hub")
FAILING = ("failed", "error", "timeout")


@dataclass
class Result:
    example: CodeExample
    status: str  # passed | failed | error | timeout | needs-gpu | static
    duration: float = 0.0
    message: str | None = None
    cached: bool = False
    updated: bool = False


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def hardware(gpu: bool = False) -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().split("\n"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    hw = f"cpu: {model}, {os.cpu_count()} cores"
    if gpu:
        import torch

        if torch.cuda.is_available():
            hw += f"; gpu: {torch.cuda.get_device_name(0)}"
    return hw


def _workspace_stamp() -> str:
    m = workspace() / "manifest.json"
    return hashlib.sha256(m.read_bytes()).hexdigest() if m.exists() else "no-workspace"


def cache_key(ex: CodeExample, vers: dict[str, str], stamp: str) -> str:
    opts = {k: v for k, v in ex.options.items() if k not in ("id", "timeout", "reason", "tags")}
    blob = json.dumps({"code": ex.code, "profile": ex.profile, "options": opts, "versions": vers, "ws": stamp},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class Cache:
    """Captured outputs of examples that ran cleanly, keyed by (code, options, versions, workspace)."""

    def __init__(self, root: Path, enabled: bool):
        self.root = root / "verify"
        self.enabled = enabled

    def get(self, key: str) -> Captured | None:
        f = self.root / key / "entry.json"
        if not self.enabled or not f.exists():
            return None
        e = json.loads(f.read_text(encoding="utf-8"))
        figures = [str(self.root / key / n) for n in e["figures"]]
        if not all(Path(p).exists() for p in figures):
            return None
        return Captured(output=e["output"], duration=e["duration"], figures=figures)

    def put(self, key: str, cap: Captured) -> None:
        if not self.enabled:
            return
        d = self.root / key
        d.mkdir(parents=True, exist_ok=True)
        names = []
        for i, src in enumerate(cap.figures, 1):
            shutil.copy(src, d / f"figure-{i}.png")
            names.append(f"figure-{i}.png")
        atomic_write(d / "entry.json", json.dumps({"output": cap.output, "duration": cap.duration, "figures": names},
                                                 ensure_ascii=False))


def select(course: Course, paths: list[str]) -> list[CodeExample]:
    if not paths:
        return course.examples
    targets = [Path(p).resolve() for p in paths]
    return [e for e in course.examples
            if any(e.path.resolve() == t or t in e.path.resolve().parents for t in targets)]


def judge(ex: CodeExample, cap: Captured) -> Result:
    volatile = ex.options.get("volatile")
    where = f"{_rel(ex.path)}:{ex.output.line if ex.output else ex.line}"
    if cap.timed_out:
        return Result(ex, "timeout", cap.duration, f"{_rel(ex.path)}:{ex.line}: example {ex.id} timed out after "
                                                   f"{ex.timeout} s\n{_tail(cap.output)}")
    if cap.raised:
        return Result(ex, "error", cap.duration, f"{_rel(ex.path)}:{ex.line}: example {ex.id} raised:\n{_tail(cap.output)}")
    if cap.violations:
        return Result(ex, "error", cap.duration,
                      f"{_rel(ex.path)}:{ex.line}: example {ex.id} triggered a deprecation (declare it with "
                      f":expect-warning: if the example exists to show it):\n  " + "\n  ".join(cap.violations))
    if ex.output is None:
        return Result(ex, "failed", cap.duration, f"{_rel(ex.path)}:{ex.end_line}: example {ex.id} has no stored "
                                                  "output (run hfcourse verify --update)")
    if not outputs_match(ex.output.text, cap.output, volatile):
        return Result(ex, "failed", cap.duration, diff(ex.output.text, cap.output, where))
    if len(ex.output.figures) != len(cap.figures):
        return Result(ex, "failed", cap.duration, f"{where}: stored {len(ex.output.figures)} figure(s), "
                                                  f"captured {len(cap.figures)}")
    return Result(ex, "passed", cap.duration)


def _tail(text: str, n: int = 40) -> str:
    lines = text.rstrip().split("\n")
    return "\n".join(lines[-n:])


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def verify(examples: list[CodeExample], *, update: bool = False, jobs: int = 1, gpu: bool = False,
           use_cache: bool = True, on_result=None) -> list[Result]:
    vers = versions()
    stamp = _workspace_stamp()
    cache = Cache(cache_dir(), use_cache)
    results: list[Result] = []
    pending_updates: dict[Path, list[NewOutput]] = {}
    lock = threading.Lock()

    def one(ex: CodeExample, runner: Runner) -> Result:
        if ex.profile == "static":
            return Result(ex, "static")
        if ex.profile == "gpu" and not (gpu and _cuda()):
            return Result(ex, "needs-gpu", message=f"{_rel(ex.path)}:{ex.line}: needs a GPU ({ex.reason})")
        key = cache_key(ex, vers, stamp)
        cap = cache.get(key)
        cached = cap is not None
        if cap is None:
            cap = runner.run(ex)
        res = judge(ex, cap)
        res.cached = cached
        clean = not (cap.timed_out or cap.raised or cap.violations)
        if clean and not cached:
            cache.put(key, cap)
        stale = ex.output is None or ex.output.text.rstrip() != cap.output.rstrip()
        if update and clean and (res.status == "failed" or (res.status == "passed" and stale)):
            with lock:
                pending_updates.setdefault(ex.path, []).append(NewOutput(ex, cap.output, [Path(f) for f in cap.figures]))
            res.status, res.updated, res.message = "passed", True, None
        return res

    with Runner() as runner:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            for res in pool.map(lambda e: one(e, runner), examples):
                results.append(res)
                if on_result:
                    on_result(res)
        for path, ups in pending_updates.items():
            update_file(path, ups)
    return results


def _cuda() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


def write_report(results: list[Result], all_ids: set[str], path: Path | None = None, gpu: bool = False) -> Path:
    path = Path(path or report_path())
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    entries = {k: v for k, v in old.get("examples", {}).items() if k in all_ids}
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    vers = versions()
    hw = hardware(gpu)
    for r in results:
        ex = r.example
        prev = entries.get(ex.id, {})
        entry = {
            "status": r.status,
            "profile": ex.profile,
            "duration": round(r.duration, 3),
            "date": now,
            "path": _rel(ex.path),
            "line": ex.line,
            "versions": {k: vers[k] for k in ("torch", "transformers") if k in vers},
            "hardware": hw,
            "message": r.message if r.status in FAILING or r.status == "needs-gpu" else None,
        }
        if r.cached and prev.get("status") == "passed" and r.status == "passed":
            entry["date"], entry["duration"] = prev.get("date", now), prev.get("duration", entry["duration"])
        entries[ex.id] = entry
    data = {"generated": now, "environment": {**vers, "hardware": hw}, "examples": dict(sorted(entries.items()))}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    return path
