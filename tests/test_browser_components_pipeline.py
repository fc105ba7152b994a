"""The chapter 1 and 3 pipeline components in Chromium: change an input, the figure and the numbers change."""

import pytest
from conftest import set_input
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_pipeline_flow_switches_to_ner(component):
    box = component("PipelineFlowVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("text-classification")
    expect(box.locator(".gtitle")).to_contain_text("一致")
    before = box.locator("pre.numbers").inner_text()
    box.locator("select[name=task]").select_option("命名实体识别")
    expect(box.locator(".gtitle")).to_contain_text("token-classification", timeout=60_000)
    set_input(box, "text", "张伟昨天去北京参观了故宫")
    expect(box.locator(".gtitle")).to_contain_text("张:B-PER", timeout=60_000)
    expect(box.locator("pre.numbers")).to_contain_text('"matches_pipeline": true')
    assert box.locator("pre.numbers").inner_text() != before


def test_task_gallery_runs_the_selected_task(component):
    box = component("TaskGallery")
    expect(box.locator(".gtitle")).to_contain_text("实时运行 text-classification")
    expect(box.locator("pre.numbers")).to_contain_text("v5 已删除")
    box.locator("select[name=task]").select_option("token-classification")
    set_input(box, "text", "张伟昨天去北京参观了故宫")
    expect(box.locator(".gtitle")).to_contain_text("实时运行 token-classification", timeout=60_000)
    expect(box.locator("pre.numbers")).to_contain_text("B-PER", timeout=60_000)


def test_model_output_inspector_adds_attentions_and_switches_model(component):
    box = component("ModelOutputInspector")
    expect(box.locator(".gtitle")).to_contain_text("MaskedLMOutput")
    expect(box.locator(".gtitle")).to_contain_text("hidden_states 共 4 个")
    box.locator("input[name=output_attentions]").check()
    expect(box.locator(".gtitle")).to_contain_text("最后一层第 1 个头的注意力", timeout=60_000)
    expect(box.locator("pre.numbers")).to_contain_text("attention_row_sum_max_error")
    box.locator("select[name=model]").select_option("SmolLM2-135M (解码器)")
    expect(box.locator(".gtitle")).to_contain_text("CausalLMOutputWithPast", timeout=120_000)
