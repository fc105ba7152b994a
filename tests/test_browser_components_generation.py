"""The chapter 7 components in Chromium: change an input, the figure changes."""

import pytest
from conftest import set_input
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_temperature_slider_top_k_cuts_the_candidates(component):
    box = component("TemperatureSlider")
    expect(box.locator(".gtitle")).to_contain_text("候选词元 49152 个")
    set_input(box, "top_k", 3)
    expect(box.locator(".gtitle")).to_contain_text("候选词元 3 个", timeout=60_000)


def test_kv_cache_grows_with_new_tokens(component):
    box = component("KVCacheVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("(1, 3, 13, 64)")
    set_input(box, "new_tokens", 3)
    expect(box.locator(".gtitle")).to_contain_text("(1, 3, 8, 64)", timeout=60_000)


def test_chat_template_switches_template(component):
    box = component("ChatTemplateBuilder")
    before = box.locator("pre.numbers").inner_text()
    box.locator("select[name=template]").select_option("SmolLM2-135M-Instruct")
    expect(box.locator(".gtitle")).to_contain_text("SmolLM2", timeout=60_000)
    assert box.locator("pre.numbers").inner_text() != before


def test_beam_search_follows_num_beams(component):
    box = component("BeamSearchVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("3 个候选")
    set_input(box, "num_beams", 4)
    expect(box.locator(".gtitle")).to_contain_text("4 个候选", timeout=60_000)
