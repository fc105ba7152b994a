import os
import socket
import subprocess
import sys
import time
import urllib.request
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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`hfcourse serve` (uvicorn) in a subprocess on a free loopback port, with its own HFCOURSE_HOME."""
    port = free_port()
    home = tmp_path_factory.mktemp("home")
    if _workspace().is_dir():  # own database, but the real assets for the components that load models and data
        (home / "workspace").symlink_to(_workspace(), target_is_directory=True)
    env = {**os.environ, "HFCOURSE_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "hfcourse.web.asgi:app", "--host", "127.0.0.1",
                             "--port", str(port), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; skipped where it is not installed, except under CI."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing under CI")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh Chromium context on the test server; any uncaught page error fails the test."""
    ctx = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert errors == [], errors


@pytest.fixture
def component(page, workspace):
    """open(name) -> the box of /components/<name> once its figure is drawn (components load real assets)."""

    def open_(name: str):
        page.goto(f"/components/{name}", timeout=180_000)
        box = page.locator(".component").first
        box.locator(".plot .main-svg").first.wait_for(timeout=120_000)
        return box

    return open_


def run_component(name: str, **params) -> dict:
    """The `numbers` a registered component computes for `params` (validated by its own params model)."""
    from hfcourse.viz.registry import get

    spec = get(name)
    return spec.compute(spec.params.model_validate(params))["numbers"]


def set_input(box, name: str, value) -> None:
    """Type into a component's numeric/text control and fire the change event the page listens to."""
    box.locator(f"input[name={name}]").fill(str(value))
    box.locator(f"input[name={name}]").dispatch_event("change")
