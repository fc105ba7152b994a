"""Every coding task: the reference solution passes, the starter fails, a crashing submission is reported;
`hfcourse grade` exit codes. The hidden tests compare against torch / transformers / peft, never stored numbers."""

import subprocess
import sys
from pathlib import Path

import pytest

from hfcourse.learn.grader import grade, load_tasks

TASKS = load_tasks()
HFCOURSE = str(Path(sys.executable).parent / "hfcourse")  # the console script of this venv


def test_at_least_the_seven_required_tasks():
    assert {"sdpa", "rope", "generate", "repeat_kv", "top_p", "masked_ce", "lora_linear"} <= set(TASKS)
    for t in TASKS.values():
        assert t.statement and t.starter and t.points > 0


@pytest.mark.slow  # ~10-40 s per task on a shared 2-core machine (torch, transformers, peft imports)
@pytest.mark.parametrize("task_id", sorted(TASKS))
def test_reference_passes_starter_fails_crash_reported(task_id):
    t = TASKS[task_id]
    ok = grade(t, (t.dir / "solution.py").read_text())
    assert ok.verdict == "passed", ok.tests
    assert len(ok.tests) >= 2
    starter = grade(t, t.starter)
    assert starter.verdict == "failed" and not any(x["passed"] for x in starter.tests if x["name"] != "test_does_not_call_sdpa")
    assert any("NotImplementedError" in x["message"] for x in starter.tests)
    crash = grade(t, "raise RuntimeError('boom')\n")
    assert crash.verdict == "failed" and crash.tests[0]["name"] == "import" and "boom" in crash.tests[0]["message"]


def test_wrong_attention_names_the_failing_test():
    t = TASKS["sdpa"]
    wrong = (t.dir / "solution.py").read_text().replace("/ math.sqrt(q.size(-1))", "")
    g = grade(t, wrong)
    failed = {x["name"]: x["message"] for x in g.tests if not x["passed"]}
    assert g.verdict == "failed" and "test_causal_mask" in failed and "Tensor-likes are not close" in failed["test_causal_mask"]


def test_cli_exit_codes(tmp_path):
    t = TASKS["repeat_kv"]
    ok = subprocess.run([HFCOURSE, "grade", "repeat_kv", str(t.dir / "solution.py")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "PASS test_matches_llama" in ok.stdout, ok.stderr
    bad = tmp_path / "bad.py"
    bad.write_text("def repeat_kv(x, n_rep):\n    return x.repeat(1, n_rep, 1, 1)\n")  # interleaves heads: wrong
    r = subprocess.run([HFCOURSE, "grade", "repeat_kv", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and "FAIL" in r.stdout
