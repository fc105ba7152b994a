"""Parse one section file (MyST-flavoured Markdown) into a `Section`.

The format, line-oriented so every error can name its line:

    ---                                   YAML front matter: id, title (required)
    id: "0.1"
    title: 什么是 Hugging Face Transformers？
    ---
    ## 0.1.1 设计哲学：统一的 API 接口      a knowledge point: `##` heading led by its outline id
    ```{code-cell} python                 a code example; option lines `:key: value` first
    :profile: cpu
    print("hi")
    ```
    ```{output}                           the stored output, right after its code cell
    hi
    ```
    :::{component} TokenizationVisualizer  an embedded interactive component
    :text: 你好
    :::

Fences follow CommonMark: a closing fence uses the same character, at least as many of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .errors import ContentError
from .model import PROFILES, LAUNCHERS, CodeExample, ComponentRef, Heading, KnowledgePoint, Section, StoredOutput

FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,}|:{3,})\s*(?P<info>.*?)\s*$")
OPTION_RE = re.compile(r"^:(?P<key>[A-Za-z][\w-]*):(?:\s+(?P<value>.*?))?\s*$")
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
POINT_ID_RE = re.compile(r"^(?P<id>\d+\.\d+\.\d+(?:\.\d+)?)\s+(?P<title>.+)$")
DIRECTIVE_RE = re.compile(r"^\{(?P<name>[\w-]+)\}\s*(?P<arg>.*)$")

CODE_OPTIONS = {"id", "profile", "timeout", "nproc", "launcher", "ranks", "expect-warning", "reason", "tags",
                "volatile"}
OUTPUT_OPTIONS = {"example", "figures", "illustrative"}
ADMONITIONS = {"note", "tip", "warning", "important", "caution", "migration", "exercise", "question", "seealso"}


def slugify(text: str) -> str:
    """A heading anchor: keep letters (CJK included), digits, '.', '-', '_'; spaces become '-'."""
    s = re.sub(r"[\s]+", "-", text.strip().lower())
    s = re.sub(r"[^\w.\-]", "", s)
    return s.strip("-") or "h"


def split_front_matter(path: Path, lines: list[str]) -> tuple[dict, int]:
    """Returns (front matter, index of the first body line)."""
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, 1, "missing YAML front matter (the file must start with '---')")
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            try:
                data = yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError as e:
                # The context mark points at where the broken construct starts (e.g. an open quote).
                mark = getattr(e, "context_mark", None) or getattr(e, "problem_mark", None)
                line = 2 + mark.line if mark else 1
                raise ContentError(path, line, f"bad front matter: {getattr(e, 'problem', e)}") from None
            if not isinstance(data, dict):
                raise ContentError(path, 1, "bad front matter: expected a mapping of keys to values")
            return data, i + 1
    raise ContentError(path, 1, "front matter is not closed by a '---' line")


def _options(body: list[str], allowed: set[str] | None) -> tuple[dict[str, str], int]:
    """Leading `:key: value` lines of a fenced block → (options, number of lines consumed)."""
    opts: dict[str, str] = {}
    n = 0
    for line in body:
        m = OPTION_RE.match(line)
        if not m or (allowed is not None and m["key"] not in allowed):
            break
        opts[m["key"]] = (m["value"] or "").strip()
        n += 1
    return opts, n


def _find_close(lines: list[str], start: int, fence: str) -> int | None:
    char, size = fence[0], len(fence)
    for j in range(start, len(lines)):
        m = FENCE_RE.match(lines[j])
        if m and m["fence"][0] == char and len(m["fence"]) >= size and not m["info"]:
            return j
    return None


def _int_option(path: Path, line: int, opts: dict, key: str, default: int, lo: int, hi: int) -> int:
    if key not in opts:
        return default
    try:
        v = int(opts[key])
    except ValueError:
        raise ContentError(path, line, f":{key}: must be an integer, got {opts[key]!r}") from None
    if not lo <= v <= hi:
        raise ContentError(path, line, f":{key}: must be between {lo} and {hi}, got {v}")
    return v


def parse_section(path: Path, chapter_number: int, errors: list[ContentError]) -> Section | None:
    """Parse a section file; problems are appended to `errors` (parsing goes on where it can)."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    try:
        fm, body_start = split_front_matter(path, lines)
    except ContentError as e:
        errors.append(e)
        return None
    for key in ("id", "title"):
        if key not in fm:
            errors.append(ContentError(path, 1, f"bad front matter: missing required key '{key}'"))
    if any(k not in fm for k in ("id", "title")):
        return None
    section = Section(
        id=str(fm["id"]),
        title=str(fm["title"]),
        path=path,
        chapter_number=chapter_number,
        front_matter=fm,
        body="\n".join(lines[body_start:]),
        body_line=body_start + 1,
    )
    if not re.fullmatch(r"\d+\.\d+", section.id):
        errors.append(ContentError(path, 2, f"bad front matter: id {section.id!r} is not a section id like '2.3'"))

    current_point: str | None = None
    example_index = 0
    last_example: CodeExample | None = None  # a code cell awaiting its output block
    i = body_start
    while i < len(lines):
        line = lines[i]
        lineno = i + 1
        if re.match(r"^ {0,3}:{3,}\s*$", line):  # the closing ':::' of an admonition we stepped into
            i += 1
            continue
        m = FENCE_RE.match(line)
        if m:
            fence, info = m["fence"], m["info"]
            close = _find_close(lines, i + 1, fence)
            dm = DIRECTIVE_RE.match(info)
            what = f"{{{dm['name']}}}" if dm else (info or "fenced block")
            if close is None:
                errors.append(ContentError(path, lineno, f"unclosed {what} block (no closing {fence})"))
                break
            inner = lines[i + 1 : close]
            name = dm["name"] if dm else None
            if fence[0] == "`" and name == "code-cell":
                example_index += 1
                last_example = _code_cell(path, section.id, current_point, example_index, dm["arg"], inner,
                                          lineno, close + 1, errors)
                if last_example is not None:
                    section.examples.append(last_example)
                i = close + 1
                continue
            if fence[0] == "`" and name == "output":
                opts, n = _options(inner, OUTPUT_OPTIONS)
                if last_example is None or last_example.output is not None:
                    errors.append(ContentError(path, lineno, "{output} block does not follow a code cell"))
                else:
                    last_example.output = StoredOutput(
                        text="\n".join(inner[n:]),
                        line=lineno,
                        end_line=close + 1,
                        figures=[f.strip() for f in opts.get("figures", "").split(",") if f.strip()],
                        illustrative=opts.get("illustrative") or None,
                    )
                i = close + 1
                continue
            if fence[0] == ":" and name == "component":
                opts, _ = _options(inner, None)
                comp = dm["arg"].strip()
                if not comp:
                    errors.append(ContentError(path, lineno, "{component} needs a component name"))
                else:
                    section.components.append(ComponentRef(comp, opts, section.id, path, lineno))
                last_example = None
                i = close + 1
                continue
            if fence[0] == ":" and name is not None and name not in ADMONITIONS:
                errors.append(ContentError(path, lineno, f"unknown directive {{{name}}}"))
            if fence[0] == ":":
                # Admonition: its body is Markdown; keep scanning inside it for headings and cells.
                i += 1
                continue
            last_example = None
            i = close + 1
            continue
        hm = HEADING_RE.match(line)
        if hm:
            level, htext = len(hm["hashes"]), hm["text"]
            pm = POINT_ID_RE.match(htext) if level == 2 else None
            anchor = pm["id"] if pm else slugify(htext)
            section.headings.append(Heading(level, htext, lineno, anchor))
            if pm:
                current_point = pm["id"]
                section.points.append(KnowledgePoint(pm["id"], pm["title"], section.id, lineno, pm["id"]))
            elif level <= 2:
                current_point = None
            last_example = None
        elif line.strip():
            last_example = None  # prose between a cell and an {output} block detaches it
        i += 1
    return section


def _code_cell(path, section_id, point_id, index, lang, inner, line, end_line, errors) -> CodeExample | None:
    opts, n = _options(inner, None)
    for key in opts:
        if key not in CODE_OPTIONS:
            errors.append(ContentError(path, line + 1, f"unknown code-cell option :{key}: "
                                                     f"(known: {', '.join(sorted(CODE_OPTIONS))})"))
    if lang.strip() not in ("python", "python3", ""):
        errors.append(ContentError(path, line, f"code-cell language must be python, got {lang.strip()!r}"))
    profile = opts.get("profile", "cpu")
    if profile not in PROFILES:
        errors.append(ContentError(path, line + 1, f"unknown execution profile {profile!r} "
                                                   f"(known: {', '.join(PROFILES)})"))
        return None
    launcher = opts.get("launcher", "torchrun")
    if launcher not in LAUNCHERS:
        errors.append(ContentError(path, line + 1, f"unknown launcher {launcher!r} (known: {', '.join(LAUNCHERS)})"))
    ranks = opts.get("ranks", "0")
    if ranks not in ("0", "all"):
        errors.append(ContentError(path, line + 1, f":ranks: must be 0 or all, got {ranks!r}"))
    try:
        timeout = _int_option(path, line + 1, opts, "timeout", 120, 1, 3600)
        nproc = _int_option(path, line + 1, opts, "nproc", 2 if profile == "multiproc" else 1, 1, 64)
    except ContentError as e:
        errors.append(e)
        return None
    if profile in ("static", "gpu") and not opts.get("reason"):
        errors.append(ContentError(path, line + 1, f"a {profile} example needs :reason: (why it is not run here)"))
    code = "\n".join(inner[n:])
    if not code.strip():
        errors.append(ContentError(path, line, "empty code cell"))
    return CodeExample(
        id=opts.get("id") or f"{section_id}-{index}",
        section_id=section_id,
        point_id=point_id,
        path=path,
        line=line,
        end_line=end_line,
        code=code + "\n",
        profile=profile,
        timeout=timeout,
        nproc=nproc,
        launcher=launcher,
        ranks=ranks,
        expect_warnings=[w.strip() for w in opts.get("expect-warning", "").split(",") if w.strip()],
        reason=opts.get("reason") or None,
        options=opts,
    )
