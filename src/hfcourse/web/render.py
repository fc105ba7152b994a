"""Section Markdown (MyST-flavoured) → HTML, rendered on the server.

- `{code-cell}` blocks: Pygments-highlighted code with a copy button, profile label; the `{output}` block
  that follows becomes the captured output with a badge from the executor's report;
- `:::{note}` … admonitions (including `{migration}`), `:::{component} Name` embeds;
- `$...$` / `$$...$$` math → MathML (latex2mathml), so pages need no math JavaScript;
- `##` knowledge point headings get their outline id as anchor (`#2.3.1`).
Everything from content is escaped by markdown-it (html disabled); raw HTML in Markdown is not passed through.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from ..content.model import Section
from ..content.parse import OPTION_RE, POINT_ID_RE, slugify

ADMONITION_TITLES = {"note": "注意", "tip": "提示", "warning": "警告", "important": "重要", "caution": "小心",
                     "migration": "迁移说明", "exercise": "练习", "question": "思考题", "seealso": "另见"}
BADGES = {"passed": ("已验证", "ok"), "static": ("示意 · 未运行", "static"), "needs-gpu": ("需要 GPU · 未运行", "gpu"),
          "failed": ("输出不一致", "bad"), "error": ("运行失败", "bad"), "timeout": ("超时", "bad"),
          "not-run": ("尚未运行", "none")}
PROFILES = {"cpu": "CPU", "gpu": "GPU", "multiproc": "多进程", "static": "静态"}
FORMATTER = HtmlFormatter(nowrap=True)


@dataclass
class RenderedSection:
    html: str
    toc: list[dict] = field(default_factory=list)  # {"level", "text", "anchor"}
    components: list[dict] = field(default_factory=list)  # {"name", "params", "dom_id"}


def _math(latex: str, display: bool) -> str:
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - bad LaTeX shows as code rather than breaking the page
        return f'<code class="math-error">{html.escape(latex)}</code>'


def _highlight(code: str, lang: str) -> str:
    try:
        lexer = PythonLexer() if lang in ("python", "python3", "") else get_lexer_by_name(lang)
    except ClassNotFound:
        return html.escape(code)
    return highlight(code, lexer, FORMATTER)


def _badge(entry: dict | None, example) -> str:
    status = (entry or {}).get("status") or ("static" if example.profile == "static" else "not-run")
    label, cls = BADGES.get(status, (status, "none"))
    if entry:
        versions = ", ".join(f"{k} {v}" for k, v in entry.get("versions", {}).items())
        title = f"{versions}; {entry.get('hardware', '')}; {entry.get('date', '')}"
        if entry.get("duration"):
            title += f"; {entry['duration']} s"
    elif example.reason:
        title = example.reason
    else:
        title = "尚未由执行器运行"
    if example.reason and status in ("static", "needs-gpu"):
        title = f"{example.reason} — {title}"
    return f'<span class="badge badge-{cls}" title="{html.escape(title)}">{label}</span>'


class _Renderer:
    def __init__(self, section: Section, report: dict, figure_url):
        self.section = section
        self.report = report
        self.figure_url = figure_url
        self.examples = list(section.examples)
        self.example_index = -1
        self.components: list[dict] = []
        self.toc: list[dict] = []
        self.anchors: dict[str, int] = {}
        self.current_point: str | None = None
        md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
        md.enable("table")
        md.use(colon_fence_plugin).use(dollarmath_plugin, double_inline=True)
        # markdown-it binds rule functions to its renderer: wrap our methods in plain functions.
        md.add_render_rule("fence", lambda r, t, i, o, e: self.fence(t, i, o, e))
        md.add_render_rule("colon_fence", lambda r, t, i, o, e: self.colon_fence(t, i, o, e))
        md.add_render_rule("math_inline", lambda s, tokens, idx, o, e: _math(tokens[idx].content, False))
        md.add_render_rule("math_block", lambda s, tokens, idx, o, e: _math(tokens[idx].content, True))
        md.add_render_rule("math_inline_double", lambda s, tokens, idx, o, e: _math(tokens[idx].content, True))
        md.add_render_rule("heading_open", lambda r, t, i, o, e: self.heading_open(t, i, o, e))
        self.md = md

    # code cells, outputs and plain code blocks
    def fence(self, tokens, idx, options, env):
        tok = tokens[idx]
        info = tok.info.strip()
        lines = tok.content.rstrip("\n").split("\n")
        if info.startswith("{code-cell}"):
            self.example_index += 1
            ex = self.examples[self.example_index] if self.example_index < len(self.examples) else None
            while lines and OPTION_RE.match(lines[0]):
                lines.pop(0)
            code = "\n".join(lines) + "\n"
            profile = PROFILES.get(ex.profile, ex.profile) if ex else "CPU"
            ex_id = html.escape(ex.id) if ex else ""
            head = (f'<div class="cell-head"><span class="cell-id">示例 {ex_id}</span>'
                    f'<span class="profile">{profile}</span>'
                    f'<button type="button" class="copy" data-copy>复制</button></div>')
            badge = ""
            if ex is not None and ex.output is None:
                badge = f'<div class="output-bar">{_badge(self.report.get(ex.id), ex)}</div>'
            return (f'<figure class="cell" id="ex-{ex_id}">{head}<pre class="code highlight"><code>'
                    f"{_highlight(code, 'python')}</code></pre>{badge}</figure>")
        if info.startswith("{output}"):
            ex = self.examples[self.example_index] if 0 <= self.example_index < len(self.examples) else None
            while lines and OPTION_RE.match(lines[0]):
                lines.pop(0)
            text = "\n".join(lines)
            figs = ""
            if ex is not None and ex.output is not None:
                for name in ex.output.figures:
                    figs += f'<img class="figure" src="{html.escape(self.figure_url(name))}" alt="示例 {html.escape(ex.id)} 的输出图">'
            badge = _badge(self.report.get(ex.id), ex) if ex else ""
            note = ""
            if ex is not None and ex.output is not None and ex.output.illustrative:
                note = f'<div class="illustrative">示意输出，未在本机运行：{html.escape(ex.output.illustrative)}</div>'
            return (f'<div class="output"><div class="output-bar"><span>运行输出</span>{badge}</div>{note}'
                    f'<pre>{html.escape(text)}</pre>{figs}</div>')
        lang = info.split()[0] if info else ""
        return (f'<figure class="cell plain"><div class="cell-head"><span class="cell-id">{html.escape(lang)}</span>'
                f'<button type="button" class="copy" data-copy>复制</button></div>'
                f'<pre class="code highlight"><code>{_highlight(tok.content, lang or "text")}</code></pre></figure>')

    def colon_fence(self, tokens, idx, options, env):
        tok = tokens[idx]
        m = re.match(r"\{([\w-]+)\}\s*(.*)", tok.info.strip())
        name, arg = (m.group(1), m.group(2)) if m else ("note", "")
        lines = tok.content.split("\n")
        if name == "component":
            params = {}
            while lines and OPTION_RE.match(lines[0]):
                om = OPTION_RE.match(lines.pop(0))
                params[om["key"]] = om["value"] or ""
            dom_id = f"component-{len(self.components) + 1}"
            self.components.append({"name": arg.strip(), "params": params, "dom_id": dom_id})
            return (f'<div class="component" id="{dom_id}" data-component="{html.escape(arg.strip())}">'
                    f'<div class="component-loading">交互组件 {html.escape(arg.strip())}</div></div>')
        title = ADMONITION_TITLES.get(name, name)
        if arg:
            title += f" · {arg}"
        inner = self.md.render(tok.content)
        return f'<aside class="admonition admonition-{html.escape(name)}"><p class="admonition-title">{html.escape(title)}</p>{inner}</aside>'

    def heading_open(self, tokens, idx, options, env):
        tok = tokens[idx]
        text = tokens[idx + 1].content if idx + 1 < len(tokens) else ""
        level = int(tok.tag[1])
        pm = POINT_ID_RE.match(text) if level == 2 else None
        if level <= 2:
            self.current_point = pm["id"] if pm else None
        anchor = pm["id"] if pm else slugify(text)
        if not pm and level > 2 and self.current_point:
            anchor = f"{self.current_point}-{anchor}"  # 概念说明 recurs under every point
        n = self.anchors.get(anchor, 0)
        self.anchors[anchor] = n + 1
        if n:
            anchor = f"{anchor}-{n + 1}"
        if level in (2, 3):
            self.toc.append({"level": level, "text": text, "anchor": anchor})
        return f'<{tok.tag} id="{html.escape(anchor)}"><a class="anchor" href="#{html.escape(anchor)}">#</a>'

    def render(self) -> RenderedSection:
        body = self.md.render(self.section.body)
        return RenderedSection(body, self.toc, self.components)


def render_section(section: Section, report: dict, figure_url) -> RenderedSection:
    return _Renderer(section, report, figure_url).render()


def pygments_css() -> str:
    return HtmlFormatter(style="friendly").get_style_defs(".highlight")


def json_script(data) -> str:
    """JSON safe to embed in <script type="application/json"> (no `</script>` break-out)."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
