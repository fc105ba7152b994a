"""What runs inside an example's process: seeds, warning policy, figure capture, the code itself.

Used in two ways:
- forked from the warm server (`forked_main`), which has already imported torch and transformers;
- as a script (`python -m hfcourse.execute.child RUN_DIR`) for examples that need a fresh interpreter
  (they set environment variables before importing) and for every rank of a multi-process example.

Protocol with the parent: RUN_DIR/example.json holds the request; the example's stdout and stderr go to
RUN_DIR/output.txt (the forked path) or the parent's pipe (the script path); the result (forbidden warnings,
figure files, whether it raised) is written to RUN_DIR/result[.RANK].json.
"""

from __future__ import annotations

import builtins
import json
import linecache
import logging
import os
import re
import sys
import traceback
import warnings
from pathlib import Path

# Warnings and log records from these packages are the currency check that cannot be forgotten.
WATCHED = ("transformers", "tokenizers", "datasets", "peft", "accelerate", "trl", "bitsandbytes",
           "huggingface_hub", "safetensors", "torch", "optimum")
FORBIDDEN = (FutureWarning, DeprecationWarning)
DEPRECATION_LOG_RE = re.compile(r"deprecat|will be removed|is no longer supported", re.I)


def _issuer_module(frame) -> str:
    """Name of the module that called warnings.warn (skipping the warnings machinery itself)."""
    while frame is not None and frame.f_globals.get("__name__", "") in ("warnings", __name__):
        frame = frame.f_back
    return frame.f_globals.get("__name__", "") if frame is not None else ""


def _watched(module: str) -> bool:
    return module.split(".")[0] in WATCHED


class _Policy:
    def __init__(self, expected: list[str]):
        self.expected = {e.lower() for e in expected}
        self.violations: list[str] = []
        self._orig_show = warnings.showwarning

    def allowed(self, category_name: str) -> bool:
        return category_name.lower() in self.expected or "deprecation" in self.expected and "deprecat" in category_name.lower()

    def showwarning(self, message, category, filename, lineno, file=None, line=None):
        self._orig_show(message, category, filename, lineno, file, line)
        if issubclass(category, FORBIDDEN) and not self.allowed(category.__name__):
            module = _issuer_module(sys._getframe(1))
            if _watched(module):
                self.violations.append(f"{category.__name__} from {module} ({filename}:{lineno}): {message}")

    def install(self) -> None:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        # Noise that is not about API currency.
        warnings.filterwarnings("ignore", message=".*FigureCanvasAgg is non-interactive.*")
        warnings.showwarning = self.showwarning
        handler = _DeprecationLogHandler(self)
        for name in WATCHED:
            logging.getLogger(name).addHandler(handler)


class _DeprecationLogHandler(logging.Handler):
    """transformers reports some deprecations through its logger (`warning_once`), not `warnings`."""

    def __init__(self, policy: _Policy):
        super().__init__(level=logging.WARNING)
        self.policy = policy

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if DEPRECATION_LOG_RE.search(msg) and not (self.policy.allowed("FutureWarning") or self.policy.allowed("DeprecationWarning")):
            self.policy.violations.append(f"deprecation logged by {record.name}: {msg}")


def _seed() -> None:
    import random

    random.seed(0)
    try:
        import numpy as np

        np.random.seed(0)
    except ImportError:
        pass
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)


def _print_traceback(exc: BaseException, filename: str) -> None:
    """The traceback a learner would see running the file: from the example's first frame down."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    exc.__traceback__ = tb or exc.__traceback__
    sys.stderr.write("".join(traceback.format_exception(exc)))


def run_example(run_dir: Path) -> int:
    """Execute the example described by run_dir/example.json in the current process and cwd."""
    req = json.loads((run_dir / "example.json").read_text(encoding="utf-8"))
    filename = f"<example {req['id']}>"
    code = req["code"]
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    if "LOCAL_RANK" in os.environ:
        # A rank started by torchrun/accelerate is a fresh interpreter: load what the warm server preloads before the
        # warning policy is installed, so that warnings torch emits about its own internals while transformers' heavy
        # modules import (e.g. torch.jit deprecations from torch._inductor) are not blamed on the example. The
        # launcher's environment is already set, so nothing the example reads at import time is frozen early.
        import hfcourse.execute.preload  # noqa: F401
    policy = _Policy(req.get("expect_warnings", []))
    policy.install()
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.show = lambda *a, **k: None  # figures are captured below, never shown
    except ImportError:
        plt = None
    _seed()
    raised = False
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": filename}
    try:
        exec(compile(code, filename, "exec"), namespace)
    except SystemExit as e:
        raised = e.code not in (None, 0)
    except BaseException as e:  # noqa: BLE001 - report whatever the learner's code raised
        raised = True
        _print_traceback(e, filename)
    figures = []
    if plt is not None and "matplotlib.pyplot" in sys.modules:
        for n, num in enumerate(plt.get_fignums(), 1):
            path = run_dir / f"figure-{n}.png"
            plt.figure(num).savefig(path, dpi=100, bbox_inches="tight")
            figures.append(str(path))
        plt.close("all")
    sys.stdout.flush()
    sys.stderr.flush()
    rank = os.environ.get("RANK")
    name = f"result.{rank}.json" if rank is not None else "result.json"
    (run_dir / name).write_text(json.dumps({"raised": raised, "violations": policy.violations,
                                            "figures": figures}), encoding="utf-8")
    return 1 if raised else 0


def forked_main(run_dir: str) -> None:
    """Entry point in a process forked from the warm server."""
    run = Path(run_dir)
    os.setsid()  # own process group: a timeout kills the example and everything it started
    os.chdir(run / "cwd")
    fd = os.open(run / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)
    code = 1
    try:
        code = run_example(run)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    exit_code = run_example(Path(sys.argv[1]))
    if "LOCAL_RANK" in os.environ:
        # A rank's interpreter teardown can hang in the collective backend's destructors (seen intermittently with
        # gloo after destroy_process_group, until the example's timeout). The output and the result file are
        # written: leave without the teardown.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(exit_code)
    sys.exit(exit_code)
