"""Practice pages in a real Chromium: a quiz with feedback, a coding task solved and failed."""

import pytest
from playwright.sync_api import expect

from hfcourse.paths import REPO_ROOT

TASKS = REPO_ROOT / "course" / "tasks"

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, server):
    ctx = browser.new_context(base_url=server)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def console(m):  # CSP violations and missing scripts land here; the app has no favicon (not ours)
        if m.type == "error" and not m.location.get("url", "").endswith("favicon.ico"):
            errors.append(f"{m.text} {m.location.get('url', '')}")

    pg.on("console", console)
    yield pg
    ctx.close()
    assert errors == [], errors


def test_take_quiz_and_see_feedback(page):
    page.goto("/learn/quiz/0")
    item = page.locator('fieldset[data-id="ch00-q12"]')
    item.locator('input[value="1"]').check()  # snapshots/: wrong
    item.locator("button.check").click()
    fb = item.locator(".feedback")
    expect(fb).to_contain_text("✗ 错误")
    expect(fb.locator("a")).to_have_attribute("href", "/c/0/0.3#0.3.3")
    item.locator('input[value="0"]').check()
    item.locator("button.check").click()
    expect(fb).to_contain_text("✓ 正确")
    page.locator("#finish").click()
    expect(page.locator("#history li")).to_have_count(1)


def test_solve_task_with_reference_then_fail_with_wrong_code(page):
    page.goto("/learn/tasks/repeat_kv")
    code = page.locator("#code")
    code.fill((TASKS / "repeat_kv" / "solution.py").read_text())
    page.locator("#run").click()
    status = page.locator("#status")
    expect(status).to_contain_text("全部通过", timeout=120_000)
    expect(page.locator("#results li.pass")).to_have_count(2)
    expect(page.locator("#best")).to_have_text("100%")

    code.fill("def repeat_kv(x, n_rep):\n    return x.repeat(1, n_rep, 1, 1)\n")
    page.locator("#run").click()
    expect(status).to_contain_text("未通过", timeout=120_000)
    failed = page.locator("#results li.fail")
    expect(failed.first).to_contain_text("test_")
    expect(failed.first).to_contain_text("Error")  # the reason is shown
    expect(page.locator("#best")).to_have_text("100%")  # the best score is kept


def test_editor_tab_inserts_spaces(page):
    page.goto("/learn/tasks/sdpa")
    code = page.locator("#code")
    code.fill("x")
    code.press("End")
    code.press("Tab")
    assert code.input_value() == "x    "
