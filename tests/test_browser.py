"""A learner's path through the platform in a real Chromium (Debian's /usr/bin/chromium via Playwright)."""

import pytest
from playwright.sync_api import expect

from hfcourse.paths import REPO_ROOT

ARTIFACTS = REPO_ROOT / "artifacts"

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def test_follow_a_path_read_a_section_and_copy_code(page):
    page.goto("/")
    shot(page, "home")
    page.locator(".path-card[data-path=beginner] a", has_text="第 0 章").click()
    page.wait_for_url("**/c/0")
    page.get_by_role("link", name="0.4 第一个示例").first.click()
    page.wait_for_url("**/c/0/0.4")
    assert page.locator("math").count() >= 1
    assert page.locator("pre.code .kn").first.is_visible()
    cell = page.locator("figure.cell").nth(1)
    cell.locator("button.copy").click()
    expect(cell.locator("button.copy[data-copied=true]")).to_have_count(1)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "pipeline(" in copied and copied.strip() == cell.locator("pre code").inner_text().strip()
    page.locator("[id='0.4.2']").scroll_into_view_if_needed()
    expect(page.locator(".toc a.active")).to_have_count(1)
    shot(page, "section")


def _llama_default_parameters() -> int:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from hfcourse.viz.components.config import FAMILIES

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(LlamaConfig(**FAMILIES["llama"][2])).num_parameters()


def test_changing_a_component_input_changes_the_figure(page):
    # the first render of this page builds a model on meta (torch import): allow for a busy machine
    page.goto("/c/0/0.1", timeout=120_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for()
    before_numbers = box.locator("pre.numbers").inner_text()
    before_title = box.locator(".gtitle").text_content()
    expected = _llama_default_parameters()  # from transformers itself, not from the component
    assert str(expected) in before_numbers and f"{expected / 1e6:.2f}M" in before_title
    box.locator("input[name=num_hidden_layers]").fill("2")
    box.locator("input[name=num_hidden_layers]").dispatch_event("change")
    expect(box.locator("pre.numbers")).not_to_contain_text(str(expected))
    after_title = box.locator(".gtitle").text_content()
    assert after_title != before_title
    box.scroll_into_view_if_needed()
    shot(page, "component")
    box.locator("input[name=hidden_size]").fill("100")
    box.locator("input[name=num_attention_heads]").fill("7")
    box.locator("input[name=num_attention_heads]").dispatch_event("change")
    expect(box.locator(".error")).to_contain_text("not a multiple")


def test_search_chinese_term_and_api_name(page):
    page.goto("/")
    page.fill(".search-box input", "显存")
    page.press(".search-box input", "Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator(".results li").count() >= 1 and page.locator(".results mark").count() >= 1
    page.fill(".search-page input", "safe_open")
    page.press(".search-page input", "Enter")
    page.wait_for_load_state()
    first = page.locator(".results li a").first
    assert "0.3" in first.inner_text()
    first.click()
    page.wait_for_url("**/c/0/0.3#0.3.1")


def test_mark_complete_survives_reload(page):
    page.goto("/c/0/0.2")
    button = page.locator("#complete")
    assert button.get_attribute("data-completed") == "false"
    button.click()
    expect(button).to_have_attribute("data-completed", "true")
    page.reload()
    assert page.locator("#complete").get_attribute("data-completed") == "true"
    page.goto("/c/0")
    assert "已完成 1 / 4" in page.locator("body").inner_text()


def test_phone_width_layout(browser, server):
    ctx = browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
    pg = ctx.new_page()
    pg.goto("/c/0/0.3")
    width = pg.evaluate("document.documentElement.scrollWidth")
    ctx.close()
    assert width <= 400  # no horizontal scrolling of the page itself
