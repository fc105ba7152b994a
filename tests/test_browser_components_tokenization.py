"""The chapter 2 tokenization components in Chromium: change an input, the figure and the numbers change."""

import pytest
from conftest import set_input
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_tokenization_visualizer_switches_tokenizer_and_text(component):
    box = component("TokenizationVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("bert-base-uncased (WordPiece)")
    expect(box.locator("pre.numbers")).to_contain_text("counts_by_tokenizer")
    box.locator("select[name=tokenizer]").select_option("Llama-2 (SentencePiece)")
    expect(box.locator(".gtitle")).to_contain_text("Llama-2 (SentencePiece)", timeout=60_000)
    expect(box.locator(".gtitle")).to_contain_text("字节回退")
    expect(box.locator("pre.numbers")).to_contain_text("<0xF0>")
    set_input(box, "text", "hello world")
    expect(box.locator(".gtitle")).to_contain_text("：3 个 token", timeout=60_000)  # <s> ▁hello ▁world
    expect(box.locator("pre.numbers")).to_contain_text("▁hello")


def test_tokenization_visualizer_explains_empty_text(component):
    box = component("TokenizationVisualizer")
    set_input(box, "text", "   ")
    expect(box.locator("p.error")).to_contain_text("参数无效", timeout=60_000)  # the API's details say 不能为空


def test_token_algorithm_comparison_follows_vocab_size(component):
    box = component("TokenAlgorithmComparison")
    expect(box.locator(".gtitle")).to_contain_text("vocab_size=2000")
    set_input(box, "vocab_size", 500)
    expect(box.locator(".gtitle")).to_contain_text("vocab_size=500", timeout=120_000)
    expect(box.locator("pre.numbers")).to_contain_text('"vocab_size": 500')
    set_input(box, "text", "今天天气很好")
    expect(box.locator("pre.numbers")).to_contain_text('"今"', timeout=60_000)


def test_attention_mask_builder_switches_padding_side(component):
    box = component("AttentionMaskBuilder")
    expect(box.locator(".gtitle")).to_contain_text("right 填充")
    expect(box.locator(".gtitle")).to_contain_text("与 transformers 一致")
    expect(box.locator("pre.numbers")).to_contain_text('"matches_library": true')
    box.locator("select[name=padding_side]").select_option("left")
    expect(box.locator(".gtitle")).to_contain_text("left 填充", timeout=60_000)
    expect(box.locator(".gtitle")).to_contain_text("与 transformers 一致")
    set_input(box, "texts", "只有一条")
    expect(box.locator("p.error")).to_contain_text("参数无效", timeout=60_000)  # the API's details say 2 到 4
