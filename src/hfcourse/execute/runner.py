"""Run code examples standalone and capture what they print.

Each example gets a fresh process and its own temporary directory (with the asset workspace's top-level
entries symlinked in). `cpu` examples are forked from a warm server that already imported torch and
transformers (the standard library's forkserver with a preload module), so the heavy imports are paid once
per `verify` run. Examples that set environment variables (which the preloaded libraries read at import)
run in a fresh interpreter instead, and `multiproc` examples under torchrun or accelerate launch.
"""

from __future__ import annotations

import atexit
import functools
import json
import multiprocessing
from multiprocessing import forkserver
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..content.model import CodeExample
from ..paths import workspace

ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "PYTHONUNBUFFERED": "1",
    "PYTHONWARNINGS": "",
}
SITE_PACKAGES_RE = re.compile(r"(?:/[^\s\"']*)?/(?:site|dist)-packages/")
FRESH_RE = re.compile(r"os\.environ\s*(\[|\.setdefault|\.update)|os\.putenv")


@dataclass
class Captured:
    output: str
    duration: float
    raised: bool = False
    timed_out: bool = False
    violations: list[str] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # PNG paths (valid until the runner closes)


def needs_fresh_interpreter(ex: CodeExample) -> bool:
    return bool(FRESH_RE.search(ex.code))


class Runner:
    """Owns the warm server and a scratch root; use as a context manager."""

    def __init__(self, scratch: Path | None = None):
        self._own_scratch = scratch is None
        self.scratch = Path(scratch or tempfile.mkdtemp(prefix="hfcourse-verify-"))
        self.hf_home = _process_hf_home()
        self.env = {**os.environ, **ENV, "HF_HOME": str(self.hf_home)}
        self._ctx = None
        self._n = 0

    # -- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._own_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def _warm(self):
        if self._ctx is None:
            self._ctx = _forkserver_context()
        return self._ctx

    # -- one example -----------------------------------------------------------------------------------
    def _prepare(self, ex: CodeExample) -> Path:
        self._n += 1
        run = self.scratch / f"{self._n:04d}-{re.sub(r'[^A-Za-z0-9_.-]', '_', ex.id)}"
        cwd = run / "cwd"
        cwd.mkdir(parents=True)
        ws = workspace()
        if ws.is_dir():
            for entry in sorted(ws.iterdir()):
                if not entry.name.startswith("."):
                    (cwd / entry.name).symlink_to(entry)
        request = {"id": ex.id, "code": ex.code, "expect_warnings": ex.expect_warnings}
        (run / "example.json").write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
        return run

    def run(self, ex: CodeExample) -> Captured:
        run = self._prepare(ex)
        start = time.perf_counter()
        if ex.profile == "multiproc":
            cap = self._run_launcher(ex, run)
        elif needs_fresh_interpreter(ex):
            cap = self._run_subprocess([sys.executable, "-m", "hfcourse.execute.child", str(run)], ex, run)
        else:
            cap = self._run_forked(ex, run)
        cap.duration = time.perf_counter() - start
        cap.output = cap.output.replace(str(run / "cwd"), ".").replace(str(run), "<run>")
        cap.output = cap.output.replace(str(self.hf_home), "$HF_HOME")
        cap.output = SITE_PACKAGES_RE.sub("site-packages/", cap.output)  # same text on every machine
        return cap

    def _collect(self, run: Path, output: str, timed_out: bool, exit_ok: bool, ranks: list[str]) -> Captured:
        cap = Captured(output=output, duration=0.0, timed_out=timed_out, raised=not exit_ok and not timed_out)
        for r in ranks:
            f = run / (f"result.{r}.json" if r else "result.json")
            if f.exists():
                res = json.loads(f.read_text(encoding="utf-8"))
                cap.raised = cap.raised or res["raised"]
                cap.violations += [v for v in res["violations"] if v not in cap.violations]
                if r in ("", "0"):
                    cap.figures = res["figures"]
            elif not timed_out:
                cap.raised = True  # died before reporting (killed, segfault, os._exit)
        return cap

    def _run_forked(self, ex: CodeExample, run: Path) -> Captured:
        from .child import forked_main

        proc = self._warm().Process(target=forked_main, args=(str(run),), daemon=True)
        proc.start()
        proc.join(ex.timeout)
        timed_out = proc.is_alive()
        if timed_out:
            _kill_group(proc.pid)
            proc.join(5)
        out = (run / "output.txt").read_text(encoding="utf-8", errors="replace") if (run / "output.txt").exists() else ""
        if timed_out:
            out += f"\n[hfcourse] timed out after {ex.timeout} s"
        ok = proc.exitcode == 0
        proc.close()  # releases the process's semaphore (else the resource tracker complains at exit)
        return self._collect(run, out, timed_out, ok, [""])

    def _run_subprocess(self, cmd: list[str], ex: CodeExample, run: Path, ranks=("",)) -> Captured:
        results = [run / (f"result.{r}.json" if r else "result.json") for r in ranks]
        out_path = run / "process-output.txt"
        timed_out, exit_ok = False, False
        with open(out_path, "wb") as out_file:  # a file, not a pipe: nobody reads while we wait
            proc = subprocess.Popen(cmd, cwd=run / "cwd", env=self.env, stdout=out_file, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            deadline, reported_at = time.monotonic() + ex.timeout, None
            while True:
                try:
                    exit_ok = proc.wait(timeout=0.5) == 0
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                if reported_at is None and all(f.exists() for f in results):
                    reported_at = now
                if reported_at is not None and now - reported_at > TEARDOWN_GRACE_S:
                    # every process finished the example and wrote its result, but the launcher or an interpreter
                    # is stuck in teardown (seen intermittently with torchrun + gloo): the results decide
                    _kill_group(proc.pid)
                    proc.wait()
                    exit_ok = True
                    break
                if now > deadline:
                    timed_out = True
                    _kill_group(proc.pid)
                    proc.wait()
                    break
        out = out_path.read_bytes().decode("utf-8", errors="replace")
        if timed_out:
            out += f"\n[hfcourse] timed out after {ex.timeout} s"
        return self._collect(run, out, timed_out, exit_ok, list(ranks))

    def _run_launcher(self, ex: CodeExample, run: Path) -> Captured:
        ranks = [str(r) for r in range(ex.nproc)]
        if ex.launcher == "accelerate":
            cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(ex.nproc),
                   "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                   "-m", "hfcourse.execute.child", str(run)]
            return self._run_subprocess(cmd, ex, run, ranks)
        logs = run / "logs"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={ex.nproc}",
               "--redirects", "3", "--log-dir", str(logs), "-m", "hfcourse.execute.child", str(run)]
        cap = self._run_subprocess(cmd, ex, run, ranks)
        launcher_output = cap.output
        per_rank = []
        for r in ranks if ex.ranks == "all" else ["0"]:
            text = ""
            for stream in ("stdout.log", "stderr.log"):
                for f in sorted(logs.glob(f"**/attempt_*/{r}/{stream}")):
                    text += f.read_text(encoding="utf-8", errors="replace")
            if ex.ranks == "all":
                text = "".join(f"[rank{r}] {line}\n" for line in text.rstrip("\n").split("\n") if text)
            per_rank.append(text)
        cap.output = "".join(per_rank)
        if cap.timed_out or (cap.raised and not cap.output.strip()):
            cap.output += launcher_output  # the launcher's own words explain a failure to start
        return cap


@functools.cache
def _process_hf_home() -> Path:
    """One throwaway HF_HOME per verifying process (the warm server is shared by all its runs)."""
    path = Path(tempfile.mkdtemp(prefix="hfcourse-hf-home-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


@functools.cache
def _forkserver_context():
    """Start the warm server once per process, with the examples' environment but without leaking that
    environment into the calling process (the server copies os.environ when it starts)."""
    saved = dict(os.environ)
    os.environ.update({**ENV, "HF_HOME": str(_process_hf_home())})
    try:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["hfcourse.execute.preload"])
        forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ctx


TEARDOWN_GRACE_S = 15  # after every process has reported its result, how long its exit may take


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
