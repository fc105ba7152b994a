"""The chapter 6 encoder-decoder component in Chromium: change the view or the sentence, the figure changes."""

import pytest
from conftest import set_input
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_seq2seq_architecture_switches_view_and_sentence(component):
    box = component("Seq2SeqArchitecture")
    title = box.locator(".gtitle")
    expect(title).to_contain_text("交叉注意力 第3层 平均 · (1, 8, ")
    expect(title).to_contain_text("输出：")
    before = box.locator("pre.numbers").inner_text()
    assert "argmax_source" in before

    box.locator("select[name=view]").select_option("解码器自注意力")
    expect(title).to_contain_text("解码器自注意力 第3层 平均", timeout=60_000)
    expect(title).not_to_contain_text("交叉注意力")
    after_view = box.locator("pre.numbers").inner_text()
    assert after_view != before and "argmax_source" not in after_view

    # a shorter sentence of 8 characters: the source is 8 tokens + [SEP], whatever the model writes for it
    set_input(box, "sentence", "李鹏会见美国客人")
    expect(box.locator("pre.numbers")).to_contain_text("李鹏会见美国客人", timeout=60_000)
    assert box.locator("pre.numbers").inner_text() != after_view
    box.locator("select[name=view]").select_option("交叉注意力")
    expect(title).to_contain_text("交叉注意力 第3层 平均 · (1, 8, ", timeout=60_000)
    expect(title).to_contain_text(", 9) · 输出：")
