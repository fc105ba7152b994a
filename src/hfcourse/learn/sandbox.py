"""Run untrusted learner code in a separate, limited process.

Limits (all per run): CPU time (RLIMIT_CPU), wall time (killed by the parent), address space (RLIMIT_AS),
process count (RLIMIT_NPROC, effective because the child drops root to `nobody` before running learner code),
no network (a fresh network namespace), a scratch directory as cwd, a clean environment and capped output.

Two filesystem modes:
- "local": the whole filesystem is visible read-only; only the scratch dir is writable (bubblewrap), or,
  without bubblewrap, `unshare --net` only (single-user machines).
- "shared": bubblewrap shows only the interpreter, the venv and the scratch dir; reference solutions and
  other learners' files do not exist inside. Refuses to run without bubblewrap.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534
INSIDE = "/tmp/work"  # the scratch dir as the sandboxed program sees it


class SandboxUnavailable(RuntimeError):
    pass


@dataclass
class Limits:
    cpu_s: int = 30
    wall_s: float = 60.0
    memory_bytes: int = 6 * 1024**3  # torch maps ~2-3 GB of address space on import
    nproc: int = 64  # threads count too: torch starts a few per process
    output_bytes: int = 1024 * 1024


@dataclass
class Result:
    returncode: int | None
    stdout: str
    stderr: str
    verdict: str  # ok | error | timeout | cpu-limit | memory-limit | process-limit | output-limit
    duration: float
    files: dict[str, str] = field(default_factory=dict)


def _python_prefixes() -> list[str]:
    """Directories the interpreter and the venv need, resolved through symlinks."""
    paths = {sys.prefix, sys.base_prefix, os.path.realpath(sys.executable)}
    return sorted({str(Path(p).resolve()) if Path(p).is_dir() else str(Path(p).resolve().parent.parent)
                   for p in paths})


def _bind_prefixes() -> list[str]:
    """Bind each prefix read-only; its parent dirs are created 0755 so that `nobody` can traverse them."""
    argv: list[str] = []
    made: set[str] = set()
    for p in _python_prefixes():
        for parent in reversed(Path(p).parents[:-1]):
            if str(parent) not in made and str(parent) not in ("/usr", "/tmp"):
                made.add(str(parent))
                argv += ["--perms", "0755", "--dir", str(parent)]
        argv += ["--ro-bind", p, p]
    return argv


def _bwrap_argv(scratch: Path, mode: str) -> list[str]:
    argv = ["bwrap", "--die-with-parent", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--new-session"]
    if mode == "shared":
        argv += ["--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                 "--symlink", "usr/bin", "/bin", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
                 "--tmpfs", "/tmp"]
        argv += _bind_prefixes()
    else:
        # Everything readable, nothing writable; /root is 0700 so expose only the interpreter below it.
        argv += ["--ro-bind", "/", "/", "--tmpfs", "/tmp", "--tmpfs", "/root"] + _bind_prefixes()
    # Inside, the scratch dir is always /tmp/work: its host parents may be 0700 (pytest, mkdtemp) for nobody.
    argv += ["--proc", "/proc", "--dev", "/dev", "--bind", str(scratch), INSIDE, "--chdir", INSIDE]
    return argv


def wrapper_argv(scratch: Path, mode: str) -> list[str]:
    if shutil.which("bwrap"):
        return _bwrap_argv(scratch, mode)
    if mode == "shared":
        raise SandboxUnavailable("shared grading needs bubblewrap (apt-get install -y bubblewrap)")
    if shutil.which("unshare") and os.geteuid() == 0:
        return ["unshare", "--net"]
    raise SandboxUnavailable("no way to cut the network: install bubblewrap or run as root with unshare")


def _limit(lim: Limits):
    def apply() -> None:
        os.setsid()  # own process group: the parent kills the whole group on timeout
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_s, lim.cpu_s + 1))
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024**2, 64 * 1024**2))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


# Runs first inside the sandbox: drop root so that RLIMIT_NPROC applies, then exec the real program.
_DROP = (
    "import os, resource, sys\n"
    "n = int(sys.argv[1])\n"
    "if os.geteuid() == 0:\n"
    "    os.setgroups([]); os.setgid(%d); os.setuid(%d)\n"
    "resource.setrlimit(resource.RLIMIT_NPROC, (n, n))\n"
    "os.execv(sys.executable, [sys.executable] + sys.argv[2:])\n" % (NOBODY, NOBODY)
)


def run(argv: list[str], scratch: Path, limits: Limits | None = None, mode: str = "local",
        env: dict[str, str] | None = None) -> Result:
    """Run `argv` (argv[0] is replaced by this interpreter) inside the sandbox with cwd = scratch."""
    lim = limits or Limits()
    scratch = Path(scratch).resolve()
    if os.geteuid() == 0:
        os.chown(scratch, NOBODY, NOBODY)
        for p in scratch.rglob("*"):
            os.chown(p, NOBODY, NOBODY)
    inside = INSIDE if shutil.which("bwrap") else str(scratch)
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": inside, "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
                 "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TMPDIR": inside,
                 "PYTHONHASHSEED": "0", **(env or {})}
    cmd = wrapper_argv(scratch, mode) + [sys.executable, "-I", "-c", _DROP, str(lim.nproc), "-I", *argv[1:]]
    out_f = tempfile.TemporaryFile()
    err_f = tempfile.TemporaryFile()
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=scratch, env=clean_env, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f,
                            preexec_fn=_limit(lim))
    verdict = None
    while proc.poll() is None:
        if time.monotonic() - start > lim.wall_s:
            verdict = "timeout"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        # Output goes to files (no pipe to fill); cap it by size while running.
        if out_f.tell() > lim.output_bytes * 4 or os.fstat(out_f.fileno()).st_size > lim.output_bytes * 4:
            verdict = "output-limit"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            break
        time.sleep(0.02)
    duration = time.monotonic() - start
    texts = []
    sizes = []
    for f in (out_f, err_f):
        size = os.fstat(f.fileno()).st_size
        sizes.append(size)
        f.seek(0)
        texts.append(f.read(lim.output_bytes).decode("utf-8", "replace"))
        f.close()
    rc = proc.returncode
    if verdict is None:
        if max(sizes) > lim.output_bytes:
            verdict = "output-limit"
        elif rc in (-signal.SIGXCPU, 128 + signal.SIGXCPU):  # bwrap reports a signalled child as 128+n
            verdict = "cpu-limit"
        elif "MemoryError" in texts[1]:
            verdict = "memory-limit"
        elif "BlockingIOError" in texts[1] and "Resource temporarily unavailable" in texts[1]:
            verdict = "process-limit"
        else:
            verdict = "ok" if rc == 0 else "error"
    return Result(rc, texts[0], texts[1], verdict, duration)
