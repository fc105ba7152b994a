"""Every escape the grading sandbox must contain, each with a clear verdict, while a server stays responsive."""

import json
import shutil
from pathlib import Path
import threading
import time

import pytest

from hfcourse.learn import sandbox
from hfcourse.paths import REPO_ROOT

LIMITS = sandbox.Limits(cpu_s=2, wall_s=40, memory_bytes=2 * 1024**3, nproc=32, output_bytes=1024 * 1024)
SECRET = REPO_ROOT / "course" / "tasks" / "sdpa" / "solution.py"


def run(tmp_path, code, mode="local", limits=LIMITS):
    (tmp_path / "m.py").write_text(code)
    return sandbox.run(["python", "m.py"], tmp_path, limits, mode=mode)


@pytest.fixture(params=["local", "shared"])
def mode(request):
    if request.param == "shared" and not shutil.which("bwrap"):
        pytest.skip("bubblewrap missing")
    return request.param


def test_plain_program_runs_in_scratch_with_clean_env(tmp_path, mode, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "leak-me")
    r = run(tmp_path, "import os; print(os.getcwd()); print(os.environ.get('SECRET_TOKEN')); print(os.getuid())",
            mode)
    assert r.verdict == "ok", r.stderr
    cwd, token, uid = r.stdout.split()
    assert cwd == sandbox.INSIDE and token == "None" and uid != "0"


def test_infinite_loop_hits_cpu_limit(tmp_path, mode):
    r = run(tmp_path, "while True: pass", mode)
    assert r.verdict == "cpu-limit" and r.duration < LIMITS.wall_s


def test_sleeping_forever_hits_wall_limit(tmp_path, mode):
    r = run(tmp_path, "import time; time.sleep(60)", mode, sandbox.Limits(wall_s=2))
    assert r.verdict == "timeout" and r.duration < 5


def test_memory_hog(tmp_path, mode):
    r = run(tmp_path, "x = bytearray(8 * 1024**3)", mode)
    assert r.verdict == "memory-limit", (r.verdict, r.stderr)


def test_fork_bomb(tmp_path, mode):
    r = run(tmp_path, "import os\nwhile True:\n    os.fork()\n", mode)
    assert r.verdict == "process-limit", (r.verdict, r.stderr[-500:])


def test_network_socket(tmp_path, mode):
    r = run(tmp_path, "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)\n", mode)
    assert r.verdict == "error" and ("unreachable" in r.stderr or "Errno" in r.stderr)


def test_write_outside_scratch(tmp_path, mode):
    target = REPO_ROOT / "sandbox-escape.txt"
    r = run(tmp_path, f"open({str(target)!r}, 'w').write('x')\n", mode)
    assert r.verdict == "error" and not target.exists()
    assert run(tmp_path, "open('inside.txt', 'w').write('ok')", mode).verdict == "ok"


def test_read_reference_solution_in_shared_mode(tmp_path):
    if not shutil.which("bwrap"):
        pytest.skip("bubblewrap missing")
    r = run(tmp_path, f"print(open({str(SECRET)!r}).read())", "shared")
    assert r.verdict == "error" and "No such file" in r.stderr
    # only the interpreter and the venv are visible: no course files, no other scratch dirs
    r = run(tmp_path, f"import os, json; print(os.path.exists({str(REPO_ROOT / 'course')!r}), "
                      f"json.dumps(sorted(os.listdir('/tmp'))))", "shared")
    exists, listing = r.stdout.split(" ", 1)
    # /tmp holds the scratch dir, plus the path to the interpreter/venv when they live under /tmp (a CI clone)
    venv_dirs = {Path(p).resolve().relative_to("/tmp").parts[0] for p in sandbox._python_prefixes()
                 if Path(p).resolve().is_relative_to("/tmp")}
    assert exists == "False" and set(json.loads(listing)) == {"work"} | venv_dirs, r.stdout


def test_print_100_mb_is_capped(tmp_path, mode):
    r = run(tmp_path, "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024 * 1024)\n", mode)
    assert r.verdict == "output-limit" and len(r.stdout) <= LIMITS.output_bytes


def test_shared_mode_refuses_without_bubblewrap(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.wrapper_argv(tmp_path, "shared")


def test_server_stays_responsive_while_grading(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.learn import grader, web
    from hfcourse.web.app import create_app

    monkeypatch.setattr(web, "grade", lambda task, code: grader.grade(task, code, limits=LIMITS))
    client = TestClient(create_app())
    done = {}
    t = threading.Thread(target=lambda: done.update(r=client.post("/api/learn/tasks/sdpa/grade",
                                                                  json={"code": "while True:\n    pass\n"})))
    t.start()
    time.sleep(0.5)
    latencies = []
    while t.is_alive():
        t0 = time.monotonic()
        assert client.get("/api/learn/tasks").status_code == 200
        latencies.append(time.monotonic() - t0)
        time.sleep(0.2)
    t.join()
    assert done["r"].json()["verdict"] == "cpu-limit"
    assert latencies and max(latencies) < 2.0
