"""The chapter 7 components in Chromium: change an input, the figure changes."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, server, workspace):
    ctx = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert errors == [], errors


def open_component(page, name):
    page.goto(f"/components/{name}", timeout=180_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for(timeout=120_000)
    return box


def set_value(box, name, value):
    box.locator(f"input[name={name}]").fill(str(value))
    box.locator(f"input[name={name}]").dispatch_event("change")


def test_temperature_slider_top_k_cuts_the_candidates(page):
    box = open_component(page, "TemperatureSlider")
    expect(box.locator(".gtitle")).to_contain_text("候选词元 49152 个")
    set_value(box, "top_k", 3)
    expect(box.locator(".gtitle")).to_contain_text("候选词元 3 个", timeout=60_000)


def test_kv_cache_grows_with_new_tokens(page):
    box = open_component(page, "KVCacheVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("(1, 3, 13, 64)")
    set_value(box, "new_tokens", 3)
    expect(box.locator(".gtitle")).to_contain_text("(1, 3, 8, 64)", timeout=60_000)


def test_chat_template_switches_template(page):
    box = open_component(page, "ChatTemplateBuilder")
    before = box.locator("pre.numbers").inner_text()
    box.locator("select[name=template]").select_option("SmolLM2-135M-Instruct")
    expect(box.locator(".gtitle")).to_contain_text("SmolLM2", timeout=60_000)
    assert box.locator("pre.numbers").inner_text() != before


def test_beam_search_follows_num_beams(page):
    box = open_component(page, "BeamSearchVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("3 个候选")
    set_value(box, "num_beams", 4)
    expect(box.locator(".gtitle")).to_contain_text("4 个候选", timeout=60_000)
