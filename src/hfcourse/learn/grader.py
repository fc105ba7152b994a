"""Coding tasks (course/tasks/<id>/): task.yaml, tests.py (hidden), solution.py (never served).

Grading copies the submission and the hidden tests into a fresh scratch dir and runs `_runner.py` in the
sandbox; the runner imports the submission as a module, calls every `test_*(mod)` in tests.py and prints one
result line tagged with a nonce that the submission cannot see (removed from the environment first).
"""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..paths import course_dir
from . import sandbox

RUNNER = r'''
import importlib.util, json, os, sys, time, traceback
nonce = os.environ.pop("HFCOURSE_NONCE")
sys.path.insert(0, os.getcwd())  # -I leaves the scratch dir off sys.path
results = []
try:
    spec = importlib.util.spec_from_file_location("submission", "submission.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
except BaseException as e:
    print(nonce + json.dumps([{"name": "import", "passed": False,
          "message": "".join(traceback.format_exception_only(type(e), e)).strip()}]), flush=True)
    sys.exit(0)
import tests
for name in [n for n in dir(tests) if n.startswith("test_")]:
    t0 = time.monotonic()
    try:
        getattr(tests, name)(mod)
        results.append({"name": name, "passed": True, "message": "", "seconds": round(time.monotonic() - t0, 3)})
    except BaseException as e:
        msg = "".join(traceback.format_exception_only(type(e), e)).strip()
        results.append({"name": name, "passed": False, "message": msg[:2000],
                        "seconds": round(time.monotonic() - t0, 3)})
print(nonce + json.dumps(results), flush=True)
'''


@dataclass
class Task:
    id: str
    title: str
    statement: str
    starter: str
    points: int
    dir: Path

    def public(self) -> dict:
        return {"id": self.id, "title": self.title, "statement": self.statement, "starter": self.starter,
                "points": self.points}


@dataclass
class Grade:
    task: str
    tests: list[dict]
    verdict: str  # passed | failed | sandbox verdict (timeout, memory-limit ...)
    duration: float
    stderr: str

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def score(self) -> float:
        return sum(t["passed"] for t in self.tests) / len(self.tests) if self.tests else 0.0


def tasks_root() -> Path:
    return course_dir() / "tasks"


def load_tasks(root: Path | None = None) -> dict[str, Task]:
    out = {}
    for d in sorted((root or tasks_root()).iterdir()):
        if not (d / "task.yaml").is_file():
            continue
        data = yaml.safe_load((d / "task.yaml").read_text(encoding="utf-8"))
        for k in ("title", "statement", "starter", "points"):
            if k not in data:
                raise ValueError(f"{d / 'task.yaml'}:1: missing {k}")
        if not (d / "tests.py").is_file() or not (d / "solution.py").is_file():
            raise ValueError(f"{d}: needs tests.py and solution.py")
        out[d.name] = Task(d.name, data["title"], data["statement"], data["starter"], int(data["points"]), d)
    return out


def grade(task: Task, code: str, mode: str = "local", limits: sandbox.Limits | None = None) -> Grade:
    scratch = Path(tempfile.mkdtemp(prefix="hfcourse-grade-"))
    try:
        (scratch / "submission.py").write_text(code, encoding="utf-8")
        shutil.copy(task.dir / "tests.py", scratch / "tests.py")
        (scratch / "_runner.py").write_text(RUNNER, encoding="utf-8")
        nonce = "@@" + secrets.token_hex(8) + "@@"
        res = sandbox.run(["python", "_runner.py"], scratch, limits, mode=mode, env={"HFCOURSE_NONCE": nonce})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    tests: list[dict] = []
    for line in res.stdout.splitlines():
        if line.startswith(nonce):
            tests = json.loads(line[len(nonce):])
    if res.verdict != "ok" or not tests:
        verdict = res.verdict if res.verdict != "ok" else "error"
        if not tests:
            tests = [{"name": "run", "passed": False, "message": f"{verdict}: {res.stderr.strip()[-1000:]}"}]
    else:
        verdict = "passed" if all(t["passed"] for t in tests) else "failed"
    return Grade(task.id, tests, verdict, res.duration, res.stderr[-4000:])
