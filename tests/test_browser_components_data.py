"""The chapter 4 and 5 components in Chromium: change an input, the figure and the numbers change."""

import pytest
from conftest import set_input
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_collator_demo_switches_to_mlm(component):
    box = component("DataCollatorDemo")
    expect(box.locator(".gtitle")).to_contain_text("动态填充")
    box.locator("select[name=collator]").select_option("MLM 掩码")
    set_input(box, "mlm_probability", 0.8)
    expect(box.locator(".gtitle")).to_contain_text("[MASK]", timeout=60_000)
    expect(box.locator("pre.numbers")).to_contain_text("DataCollatorForLanguageModeling")


def test_dataset_pipeline_follows_the_batch_size(component):
    box = component("DatasetPipeline")
    expect(box.locator(".gtitle")).to_contain_text("(4, ")
    set_input(box, "batch_size", 6)
    expect(box.locator(".gtitle")).to_contain_text("(6, ", timeout=60_000)


def test_gradient_accumulation_shows_the_k_times_mistake(component):
    box = component("GradientAccumulationDemo")
    expect(box.locator(".gtitle")).to_contain_text("梯度范数之比 1.0000")
    box.locator("select[name=loss_scaling]").select_option("不除以 k")
    expect(box.locator(".gtitle")).to_contain_text("梯度范数之比 4.0000", timeout=60_000)


def test_training_metrics_plot_switches_runs(component):
    box = component("TrainingMetricsPlot")
    expect(box.locator(".gtitle")).to_contain_text("bert-zh-mini（MLM")
    box.locator("select[name=run]").select_option("minillm-zh（SFT，自写循环）")
    expect(box.locator(".gtitle")).to_contain_text("minillm-zh（SFT", timeout=60_000)


def test_training_loop_visualizer_reruns_the_trainer(component):
    box = component("TrainingLoopVisualizer")
    expect(box.locator(".gtitle")).to_contain_text("4 步 × 累积 2")
    set_input(box, "max_steps", 3)
    expect(box.locator(".gtitle")).to_contain_text("3 步 × 累积 2", timeout=120_000)
