"""Where things live: the repository's course folder and the offline asset workspace."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent.parent


def course_dir() -> Path:
    """The course source folder (`course/` in the repository, or $HFCOURSE_COURSE)."""
    return Path(os.environ.get("HFCOURSE_COURSE", REPO_ROOT / "course")).resolve()


def home() -> Path:
    """Root of the course's local state: the asset workspace, caches.

    Defaults to the user's cache dir (`~/.cache/hfcourse`), overridable by $HFCOURSE_HOME.
    """
    env = os.environ.get("HFCOURSE_HOME")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return (Path(base) / "hfcourse").resolve()


def workspace() -> Path:
    """The asset workspace: `from_pretrained("org/name")` resolves to `workspace()/org/name`."""
    return home() / "workspace"


def cache_dir() -> Path:
    """Results cache of the executor and other derived data (safe to delete)."""
    return home() / "cache"


def report_path() -> Path:
    """The executor's report (committed beside the course so badges survive a fresh clone)."""
    return course_dir() / "verify-report.json"
