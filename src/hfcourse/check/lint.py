"""`hfcourse lint`: API currency of every example, old spellings in prose, section structure, links.

A finding prints as `path:line: error|warning: message [rule]`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

from ..content.model import Course, Section
from . import migrations as M
from .currency import check_code

PART_HEADINGS = {3: ("概念说明", "代码示例", "运行输出"), 2: ("常见问题与陷阱", "扩展阅读")}
OFFICIAL_HOSTS = (
    "huggingface.co", "github.com", "arxiv.org", "pytorch.org", "docs.pytorch.org", "docs.python.org",
    "packaging.python.org", "pypi.org", "docs.vllm.ai", "onnxruntime.ai", "onnx.ai", "nvidia.github.io",
    "docs.nvidia.com", "www.deepspeed.ai", "deepspeed.readthedocs.io", "optuna.readthedocs.io", "scikit-learn.org",
    "docs.ray.io", "peps.python.org", "arrow.apache.org", "lightning.ai", "keras.io", "proceedings.neurips.cc", "aclanthology.org", "openreview.net",
)
# github.com is official only for the projects' own organisations (and the sources of the course's data)
GITHUB_ORGS = {
    "huggingface", "pytorch", "vllm-project", "Dao-AILab", "deepspeedai", "microsoft", "NVIDIA", "ggml-org",
    "bitsandbytes-foundation", "python", "facebookresearch", "google-research", "openai", "allenai",
    "PaddlePaddle", "ModelCloud", "casper-hansen", "mit-han-lab", "onnx", "triton-lang",
}
URL_RE = re.compile(r"https?://[^\s，。；、）)>\]`\"']+")
INLINE_CODE_RE = re.compile(r"`([^`]+)`")
MIGRATION_OPEN_RE = re.compile(r"^\s*(:{3,})\{migration\}")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")


@dataclass
class Issue:
    path: str
    line: int
    severity: str
    message: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.message} [{self.rule}]"


def migration_ranges(lines: list[str]) -> list[tuple[int, int]]:
    """1-based inclusive line ranges of `:::{migration}` admonitions."""
    out = []
    i = 0
    while i < len(lines):
        m = MIGRATION_OPEN_RE.match(lines[i])
        if m:
            fence = m.group(1)
            for j in range(i + 1, len(lines)):
                if lines[j].strip() == fence or (lines[j].strip().startswith(":") and set(lines[j].strip()) == {":"}
                                                 and len(lines[j].strip()) >= len(fence)):
                    out.append((i + 1, j + 1))
                    i = j
                    break
        i += 1
    return out


def _inside(line: int, ranges) -> bool:
    return any(a <= line <= b for a, b in ranges)


def lint_section(section: Section, rel: str) -> list[Issue]:
    issues: list[Issue] = []
    lines = section.path.read_text(encoding="utf-8").split("\n")
    ranges = migration_ranges(lines)

    # 1. currency of code examples (examples inside a migration note may show old APIs)
    cell_lines: set[int] = set()
    for ex in section.examples:
        end = ex.output.end_line if ex.output else ex.end_line
        cell_lines.update(range(ex.line, end + 1))
        if _inside(ex.line, ranges):
            continue
        n_opts = len(ex.options)
        for f in check_code(ex.code):
            line = ex.line + n_opts + f.line  # fence line + option lines + line inside the code
            if not (f.severity == "warning" and f.rule == "deprecated-kwarg" and "FutureWarning" in ex.expect_warnings):
                issues.append(Issue(rel, line, f.severity, f"example {ex.id}: {f.message}", f.rule))
        if ex.profile != "static" and ex.output is None:
            issues.append(Issue(rel, ex.end_line, "error", f"example {ex.id} has no stored output "
                                                           "(run hfcourse verify --update)", "missing-output"))
        if ex.profile == "static" and ex.output is not None and not ex.output.illustrative:
            issues.append(Issue(rel, ex.output.line, "error", "static output not marked :illustrative:", "static-output"))

    # 2. old spellings in prose and plain code blocks, outside migration notes
    in_block = False
    for no, text in enumerate(lines, 1):
        fm = FENCE_RE.match(text)
        if fm and no not in cell_lines:
            in_block = not in_block if not fm.group(2).startswith("{") else in_block
            continue
        if no in cell_lines or _inside(no, ranges):
            continue
        spans = [text] if in_block else INLINE_CODE_RE.findall(text)
        for span in spans:
            for rx in M.PROSE:
                if m := re.search(rx, span):
                    severity = "warning" if rx in M.PROSE_DEPRECATED else "error"
                    issues.append(Issue(rel, no, severity, f"old API spelling `{m.group(0)}` outside "
                                                           "a :::{migration} note", "old-spelling"))

    # 3. the five parts of CONTENT_GUIDE.md
    present = {(h.level, h.text.strip()) for h in section.headings}
    for level, names in PART_HEADINGS.items():
        for name in names:
            if (level, name) not in present:
                issues.append(Issue(rel, 1, "error", f"section {section.id} lacks a {'#' * level} {name} heading",
                                    "structure"))

    # 4. links in 扩展阅读 are well-formed URLs on official hosts
    start = next((h.line for h in section.headings if h.text.strip() == "扩展阅读"), None)
    if start is not None:
        for no in range(start + 1, len(lines) + 1):
            text = lines[no - 1]
            if text.startswith("## "):
                break
            for url in URL_RE.findall(text):
                p = urlparse(url)
                if p.scheme != "https" or not p.netloc or " " in url:
                    issues.append(Issue(rel, no, "error", f"malformed or non-https link {url}", "link"))
                elif not any(p.netloc == h or p.netloc.endswith("." + h) for h in OFFICIAL_HOSTS):
                    issues.append(Issue(rel, no, "error", f"link to a non-official host {p.netloc}", "link"))
                elif p.netloc == "github.com" and p.path.strip("/").split("/")[0] not in GITHUB_ORGS:
                    issues.append(Issue(rel, no, "error", f"link to a GitHub organisation outside the allow-list "
                                                          f"({url})", "link"))
    return issues


def lint_course(course: Course, paths: list[str] | None = None) -> list[Issue]:
    from ..paths import REPO_ROOT

    targets = [Path(p).resolve() for p in paths or []]

    def selected(p: Path) -> bool:
        return not targets or any(p.resolve() == t or t in p.resolve().parents for t in targets)

    def rel(p: Path) -> str:
        try:
            return str(p.resolve().relative_to(REPO_ROOT))
        except ValueError:
            return str(p)

    issues: list[Issue] = []
    for chapter in course.chapters:
        if selected(chapter.dir):  # the outline check needs the whole chapter, not one of its files
            oc = course.outline.chapter(chapter.number)
            written = {p.id for s in chapter.sections for p in s.points}
            missing = [p.id for s in oc.sections for p in s.points if p.id not in written]
            if missing and chapter.in_progress:  # declared unfinished: readers see which points are missing
                issues.append(Issue(rel(chapter.dir / "chapter.yaml"), 1, "warning",
                                    f"chapter {chapter.number} is in progress; not yet written: {', '.join(missing)}",
                                    "outline"))
            elif missing:
                issues.append(Issue(rel(chapter.dir / "chapter.yaml"), 1, "error",
                                    f"chapter {chapter.number} lacks outline points: {', '.join(missing)} "
                                    "(write them, or declare `in_progress: true` in chapter.yaml)", "outline"))
            elif chapter.in_progress:
                issues.append(Issue(rel(chapter.dir / "chapter.yaml"), 1, "error",
                                    f"chapter {chapter.number} has every outline point: remove `in_progress`", "outline"))
        for section in chapter.sections:
            if selected(section.path):
                issues += lint_section(section, rel(section.path))
    return issues


def as_json(issues: list[Issue]) -> list[dict]:
    return [asdict(i) for i in issues]
