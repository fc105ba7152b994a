"""HTTP tests of the learning platform against the real course."""

import os
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(tmp_path, monkeypatch):
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web.app import create_app

    return TestClient(create_app())


def test_server_starts_without_importing_torch(tmp_path):
    code = "import sys; from hfcourse.web.app import create_app; create_app(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HFCOURSE_HOME": str(tmp_path)})
    assert out.stdout.strip() == "False", out.stderr[-2000:]


def test_home_shows_the_three_learning_paths(client):
    html = client.get("/").text
    for name in ("初学者路径", "工程师路径", "研究员路径"):
        assert name in html
    assert "未完成" in html  # chapters not written yet are shown as such


def test_navigation_tree_chapter_and_stable_section_urls(client):
    assert "0.4 第一个示例" in client.get("/course").text
    chapter = client.get("/c/0").text
    assert "学习目标" in chapter and 'href="/c/0/0.3#0.3.3"' in chapter
    html = client.get("/c/0/0.4").text
    assert 'id="0.4.2"' in html  # knowledge point anchors are the outline ids
    assert 'class="prev" href="/c/0/0.3"' in html


def test_section_renders_math_code_outputs_badges_and_admonitions(client):
    html = client.get("/c/0/0.4").text
    assert "<math" in html and "<msub>" in html
    assert 'class="code highlight"' in html and '<span class="kn">from</span>' in html
    assert "data-copy" in html
    assert 'badge badge-ok' in html and "transformers 5." in html  # versions in the badge's title
    assert "badge badge-static" in html and "示意" in html
    assert "admonition-migration" in html and "迁移说明" in html


def test_component_is_embedded_with_a_default_render(client):
    html = client.get("/c/0/0.1").text
    m = re.search(r'<script type="application/json" class="component-data" data-for="component-1">(.*?)</script>',
                  html, re.S)
    assert m and f'"num_parameters": {_llama_default_parameters()}' in m.group(1)


def test_component_gallery_lists_every_registered_component_with_its_sections(client):
    from hfcourse.viz.registry import load_all

    html = client.get("/components").text
    for name in load_all():
        assert f'href="/components/{name}"' in html
    assert 'href="/c/0/0.1"' in html  # ConfigEditor is embedded in section 0.1
    page = client.get("/components/ConfigEditor").text
    assert 'data-component="ConfigEditor"' in page and 'class="component-data"' in page
    assert client.get("/components/NoSuchThing").status_code == 404


def _llama_default_parameters() -> int:
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from hfcourse.viz.components.config import FAMILIES

    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(LlamaConfig(**FAMILIES["llama"][2])).num_parameters()


def test_component_api_validates_and_recomputes(client):
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig

    from hfcourse.viz.components.config import FAMILIES

    names = [c["name"] for c in client.get("/api/components").json()]
    assert {"ConfigEditor", "ArchitectureExplorer"} <= set(names)
    r = client.post("/api/components/ConfigEditor", json={"family": "llama", "num_hidden_layers": 2})
    with torch.device("meta"):  # the same config built by transformers itself
        model = AutoModelForCausalLM.from_config(LlamaConfig(**{**FAMILIES["llama"][2], "num_hidden_layers": 2}))
    assert r.status_code == 200 and r.json()["numbers"]["num_parameters"] == model.num_parameters()
    arch = client.get("/api/components/ArchitectureExplorer", params={"family": "gpt2"}).json()["numbers"]
    with torch.device("meta"):
        gpt2 = AutoModelForCausalLM.from_config(GPT2Config(**FAMILIES["gpt2"][2]))
    assert arch["num_parameters"] == gpt2.num_parameters()
    bad = client.post("/api/components/ConfigEditor", json={"hidden_size": 100, "num_attention_heads": 7})
    assert bad.status_code == 422 and "not a multiple" in bad.json()["error"]
    assert client.post("/api/components/ConfigEditor", json={"num_hidden_layers": 10_000}).status_code == 422
    assert client.post("/api/components/ConfigEditor", json={"family": "x" * 5000}).status_code == 413
    assert client.get("/api/components/NoSuch").status_code == 404


def test_search_finds_chinese_terms_and_api_names(client):
    # a Chinese phrase only section 0.1 uses (its words also occur elsewhere, so it ranks near, not always at, the top)
    results = client.get("/api/search", params={"q": "复制一致性"}).json()["results"]
    assert any(r["url"].startswith("/c/0/0.1#") for r in results[:3]), [r["url"] for r in results]
    common = client.get("/api/search", params={"q": "显存"}).json()["results"]
    assert len({r["url"].split("#")[0] for r in common}) > 3  # a common term is found in many sections
    assert all(not r["url"].endswith("#") for r in common)  # text before a section's first point: no anchor
    api = client.get("/api/search", params={"q": "safe_open"}).json()["results"]
    assert api[0]["url"] == "/c/0/0.3#0.3.1"
    assert "<mark>" in api[0]["snippet"]
    assert client.get("/api/search", params={"q": "x" * 500}).status_code == 422
    assert "令牌" in client.get("/search", params={"q": "令牌"}).text


def test_search_in_a_test_course_tree(tmp_path, monkeypatch):
    """A copy of the course with a planted paragraph under 0.2.1: the search must point exactly there."""
    import shutil

    from hfcourse.paths import course_dir

    root = tmp_path / "course"
    shutil.copytree(course_dir(), root, ignore=shutil.ignore_patterns("_figures", "*.png"))
    section = next((root / "ch00-ecosystem").glob("0.2-*.md"))
    lines = section.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("## 0.2.1 "))
    lines.insert(at + 1, "\n训练时设置 `torch_empty_cache_steps` 定期释放显存；4 比特量化能把显存占用压到约四分之一，"
                         "分片保存便于加载。\n\n")
    section.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setenv("HFCOURSE_COURSE", str(root))
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web.app import create_app

    c = TestClient(create_app())
    # words that appear nowhere else in the course: the planted sentence must be found, whatever else is written
    for q in ("torch_empty_cache_steps", "比特 量化", "四分之一"):
        urls = [r["url"] for r in c.get("/api/search", params={"q": q}).json()["results"]]
        assert "/c/0/0.2#0.2.1" in urls[:3], (q, urls)
    assert "<mark>torch_empty_cache_steps</mark>" in c.get("/search", params={"q": "torch_empty_cache_steps"}).text


def test_concept_index_orders_places(client):
    html = client.get("/concepts").text
    assert "safetensors" in html and "初级 · 0.3" in html


def test_progress_and_last_visited_persist(client):
    assert client.post("/api/progress/0.2", json={"completed": True}).json()["completed"] is True
    client.get("/c/0/0.3")
    prog = client.get("/api/progress").json()
    assert prog["0.2"]["completed"] and prog["0.3"]["last_visited_at"]
    assert "继续学习" in client.get("/").text
    assert client.post("/api/progress/9.9", json={"completed": True}).status_code == 404


def test_notes_are_stored_and_escaped(client):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert client.post("/api/notes/0.3.1", json={"text": evil, "bookmarked": True}).status_code == 200
    assert client.get("/api/notes/0.3.1").json() == {"point_id": "0.3.1", "text": evil, "bookmarked": True}
    assert client.post("/api/notes/0.3.1", json={"text": "x" * 6000}).status_code == 422
    assert client.post("/api/notes/99.1.1", json={"text": "x"}).status_code == 404
    assert evil not in client.get("/c/0/0.3").text  # notes are only ever inserted as text by the page script


def test_search_snippets_escape_html(client):
    from hfcourse.web.search import snippet

    assert "<script>" not in snippet("a <script>alert(1)</script> b", "alert")


def test_friendly_404_json_errors_and_security_headers(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "回到首页" in r.text
    assert client.get("/api/nothing").json() == {"error": "Not Found"}
    assert client.get("/c/99").status_code == 404
    assert client.post("/api/progress/0.1", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    h = client.get("/").headers
    assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"].split("script-src")[1].split(";")[0]
    assert h["x-content-type-options"] == "nosniff" and "frame-ancestors 'none'" in h["content-security-policy"]


def test_no_inline_scripts_and_local_plotly(client):
    html = client.get("/c/0/0.1").text
    for tag in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert "cdn" not in html.lower()
    js = client.get("/static/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_figures_route_refuses_path_traversal(client):
    assert client.get("/figures/ch00-ecosystem/..%2F..%2Fcourse.yaml").status_code == 404
    assert client.get("/figures/../course.yaml").status_code == 404


@pytest.mark.postgres
def test_postgres_backend(tmp_path, monkeypatch):
    url = os.environ.get("DATABASE_URL_TEST")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL_TEST is not set under CI")
        pytest.skip("DATABASE_URL_TEST not set (scripts/start_postgres.sh starts one)")
    from sqlalchemy import create_engine, text

    from hfcourse.web.app import create_app

    with create_engine(url).begin() as conn:  # a clean schema for this run
        conn.execute(text("DROP SCHEMA public CASCADE"))  # every table of every migration, from any earlier run
        conn.execute(text("CREATE SCHEMA public"))
    c = TestClient(create_app(url))
    assert c.post("/api/progress/0.1", json={"completed": True}).status_code == 200
    assert c.post("/api/notes/0.1.1", json={"text": "笔记", "bookmarked": False}).status_code == 200
    c2 = TestClient(create_app(url))  # migrations are idempotent; data persists
    assert c2.get("/api/progress").json()["0.1"]["completed"] is True
    assert c2.get("/api/notes/0.1.1").json()["text"] == "笔记"


def test_other_parts_mount_routers_templates_and_nav_links(tmp_path, monkeypatch):
    """The plug-in contract used by hfcourse.learn.web: ROUTERS, TEMPLATE_DIRS, NAV_LINKS, render_page."""
    (tmp_path / "plugtpl").mkdir()
    (tmp_path / "plugtpl" / "plug.html").write_text(
        '{% extends "base.html" %}{% block content %}<p id="plug">{{ word }}</p>{% endblock %}', encoding="utf-8")
    (tmp_path / "plugmod.py").write_text(
        "from pathlib import Path\n"
        "from fastapi import APIRouter, Request\n"
        "from hfcourse.web import app as web\n"
        "web.TEMPLATE_DIRS.append(Path(__file__).parent / 'plugtpl')\n"
        "web.NAV_LINKS.append(('/plug', '插件页'))\n"
        "router = APIRouter()\n"
        "@router.get('/plug')\n"
        "def plug(request: Request):\n"
        "    return web.render_page(request, 'plug.html', word='<b>hi</b>')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    from hfcourse.web import app as web

    monkeypatch.setattr(web, "ROUTERS", ["plugmod:router", "no_such_part.web:router"])
    monkeypatch.setattr(web, "TEMPLATE_DIRS", list(web.TEMPLATE_DIRS))
    monkeypatch.setattr(web, "NAV_LINKS", list(web.NAV_LINKS))
    r = TestClient(web.create_app()).get("/plug")
    assert r.status_code == 200 and '<p id="plug">&lt;b&gt;hi&lt;/b&gt;</p>' in r.text
    assert 'href="/plug"' in r.text and "content-security-policy" in r.headers


@pytest.mark.parametrize("family", ["llama", "qwen2", "bert", "gpt2", "t5"])
def test_config_editor_counts_match_the_full_model(family):
    """The editor extrapolates from 1- and 2-layer builds; the full-depth real model must agree exactly."""
    import torch
    import transformers

    from hfcourse.viz.components.config import FAMILIES, GPT2_NAMES, T5_NAMES, ConfigParams, config_editor

    cfg_name, model_name, defaults = FAMILIES[family]
    key = {"gpt2": GPT2_NAMES, "t5": T5_NAMES}.get(family, {}).get("num_hidden_layers", "num_hidden_layers")
    for layers, hidden, heads in ((5, 64, 4), (None, None, None)):
        kwargs = {**defaults, **({key: layers} if layers else {})}
        if hidden:
            kwargs[{"gpt2": "n_embd", "t5": "d_model"}.get(family, "hidden_size")] = hidden
            kwargs[{"gpt2": "n_head", "t5": "num_heads"}.get(family, "num_attention_heads")] = heads
            if family in ("llama", "qwen2"):
                kwargs["num_key_value_heads"] = 2
        with torch.device("meta"):
            model = getattr(transformers, model_name)(getattr(transformers, cfg_name)(**kwargs))
        got = config_editor(ConfigParams(family=family, num_hidden_layers=layers, hidden_size=hidden,
                                         num_attention_heads=heads,
                                         num_key_value_heads=2 if hidden and family in ("llama", "qwen2") else None))
        assert got["numbers"]["num_parameters"] == model.num_parameters(), (family, layers)
        assert got["numbers"]["model_class"] == model_name
