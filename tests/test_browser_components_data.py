"""The chapter 4 components in Chromium: change an input, the figure and the numbers change."""

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


def test_collator_demo_switches_to_mlm(page):
    page.goto("/components/DataCollatorDemo", timeout=120_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for()
    expect(box.locator(".gtitle")).to_contain_text("动态填充")
    box.locator("select[name=collator]").select_option("MLM 掩码")
    box.locator("input[name=mlm_probability]").fill("0.8")
    box.locator("input[name=mlm_probability]").dispatch_event("change")
    expect(box.locator(".gtitle")).to_contain_text("[MASK]", timeout=60_000)
    expect(box.locator("pre.numbers")).to_contain_text("DataCollatorForLanguageModeling")


def test_dataset_pipeline_follows_the_batch_size(page):
    page.goto("/components/DatasetPipeline", timeout=120_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for()
    expect(box.locator(".gtitle")).to_contain_text("(4, ")
    box.locator("input[name=batch_size]").fill("6")
    box.locator("input[name=batch_size]").dispatch_event("change")
    expect(box.locator(".gtitle")).to_contain_text("(6, ", timeout=60_000)


def test_gradient_accumulation_shows_the_k_times_mistake(page):
    page.goto("/components/GradientAccumulationDemo", timeout=120_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for(timeout=120_000)
    expect(box.locator(".gtitle")).to_contain_text("梯度范数之比 1.0000")
    box.locator("select[name=loss_scaling]").select_option("不除以 k")
    expect(box.locator(".gtitle")).to_contain_text("梯度范数之比 4.0000", timeout=60_000)


def test_training_metrics_plot_switches_runs(page):
    page.goto("/components/TrainingMetricsPlot", timeout=120_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for(timeout=120_000)
    expect(box.locator(".gtitle")).to_contain_text("bert-zh-mini（MLM")
    box.locator("select[name=run]").select_option("minillm-zh（SFT，自写循环）")
    expect(box.locator(".gtitle")).to_contain_text("minillm-zh（SFT", timeout=60_000)


def test_training_loop_visualizer_reruns_the_trainer(page):
    page.goto("/components/TrainingLoopVisualizer", timeout=180_000)
    box = page.locator(".component").first
    box.locator(".plot .main-svg").first.wait_for(timeout=120_000)
    expect(box.locator(".gtitle")).to_contain_text("4 步 × 累积 2")
    box.locator("input[name=max_steps]").fill("3")
    box.locator("input[name=max_steps]").dispatch_event("change")
    expect(box.locator(".gtitle")).to_contain_text("3 步 × 累积 2", timeout=120_000)
