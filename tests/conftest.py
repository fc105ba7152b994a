import os
from pathlib import Path

import pytest

from hfcourse.paths import workspace as _workspace


@pytest.fixture(scope="session")
def workspace() -> Path:
    """The synced asset workspace. Skips on a developer machine without it; fails under CI."""
    ws = _workspace()
    if not (ws / "manifest.json").exists():
        msg = f"asset workspace not synced at {ws} (run `hfcourse assets sync`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return ws
