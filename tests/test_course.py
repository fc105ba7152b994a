"""The real course is verified and lint-clean: every non-static example reproduces its stored output."""

import json
import os
import subprocess
import sys

import pytest

from hfcourse.paths import REPO_ROOT


def hfcourse(*args: str, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hfcourse.cli", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


@pytest.mark.slow
@pytest.mark.timeout(4200)  # every example of the course in a fresh process: ~25 min on 2 CPU cores
def test_every_example_of_the_course_passes(workspace, tmp_path):
    report = tmp_path / "report.json"
    r = hfcourse("verify", "course", "--report", str(report), timeout=4000)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]
    statuses = {k: v["status"] for k, v in json.loads(report.read_text())["examples"].items()}
    assert statuses and set(statuses.values()) <= {"passed", "static", "needs-gpu"}, statuses


def test_lint_is_clean():
    r = hfcourse("lint", timeout=600)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-3000:]


def test_stats_json_counts_the_written_course():
    r = hfcourse("stats", "--json", timeout=300)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["outline"] == {"chapters": 29, "sections": 156, "points": 543, "components": 74}
    assert 0 in data["written"]["chapter_numbers"]
    assert {"0.1.1", "0.4.3"} <= set(data["written"]["point_ids"])
