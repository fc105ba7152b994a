"""The content loader accepts the real course and rejects malformed files with file:line messages."""

import shutil
import textwrap
from pathlib import Path

import pytest

from hfcourse.content import ContentErrors, load_course
from hfcourse.paths import REPO_ROOT

OUTLINE = REPO_ROOT / "course" / "outline.yaml"

GOOD_SECTION = """\
---
id: "1.1"
title: Pipeline 架构解析
---

## 1.1.1 三阶段流水线（Tokenization → Model → Post-processing）

### 概念说明

正文。

```{code-cell} python
:timeout: 30
print(1 + 1)
```

```{output}
2
```

:::{component} Demo
:text: 你好
:::

## 1.1.2 自动任务推断机制

```{code-cell} python
:profile: static
:reason: 需要访问 Hub
from transformers import pipeline
```

```{output}
:illustrative: 需要访问 Hub，未在本机运行
(示意)
```
"""


def make_course(tmp_path: Path, section: str = GOOD_SECTION, extra_sections: dict[str, str] | None = None) -> Path:
    root = tmp_path / "course"
    (root / "ch01").mkdir(parents=True)
    shutil.copy(OUTLINE, root / "outline.yaml")
    (root / "course.yaml").write_text(textwrap.dedent("""\
        title: test
        chapters: [ch01]
        learning_paths:
          - {id: beginner, name: 初学者路径, chapters: [0, 1]}
        """), encoding="utf-8")
    files = {"1.1.md": section, **(extra_sections or {})}
    (root / "ch01" / "chapter.yaml").write_text(
        "number: 1\ntitle: Pipeline 快速上手\nsections:\n" + "".join(f"  - {f}\n" for f in files), encoding="utf-8")
    for name, text in files.items():
        (root / "ch01" / name).write_text(text, encoding="utf-8")
    return root


def errors_of(root: Path) -> list[str]:
    with pytest.raises(ContentErrors) as exc:
        load_course(root, component_names={"Demo"})
    return [str(e) for e in exc.value.errors]


def test_good_course_parses_into_typed_objects(tmp_path):
    course = load_course(make_course(tmp_path), component_names={"Demo"})
    (chapter,) = course.chapters
    (section,) = chapter.sections
    assert [p.id for p in section.points] == ["1.1.1", "1.1.2"]
    first, second = section.examples
    assert (first.id, first.point_id, first.timeout, first.profile) == ("1.1-1", "1.1.1", 30, "cpu")
    assert first.code == "print(1 + 1)\n" and first.output.text == "2"
    assert first.line == 12 and first.output.line == 17
    assert second.profile == "static" and second.output.illustrative.startswith("需要访问 Hub")
    assert [c.name for c in section.components] == ["Demo"] and section.components[0].params == {"text": "你好"}
    assert course.learning_paths[0].chapter_numbers == [0, 1]
    assert section.url == "/c/1/1.1"


def test_the_real_course_loads():
    course = load_course()
    assert course.chapters and course.chapters[0].number == 0
    assert all(s.points for s in course.sections)


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda s: s.replace('id: "1.1"\n', 'id: "1.1\n', 1), "1.1.md:2: bad front matter"),
        (lambda s: s.replace("---\nid", "id", 1), "1.1.md:1: missing YAML front matter"),
        (lambda s: s.replace('title: Pipeline 架构解析\n', "", 1), "1.1.md:1: bad front matter: missing required key 'title'"),
        (lambda s: s.replace("## 1.1.2 ", "## 1.1.9 ", 1), "1.1.md:25: unknown outline id 1.1.9"),
        (lambda s: s.replace("## 1.1.2 ", "## 1.1.1 ", 1), "1.1.md:25: duplicate id 1.1.1"),
        (lambda s: s.rstrip("\n").rsplit("```", 1)[0], "1.1.md:33: unclosed {output} block"),
        (lambda s: s.replace("{component} Demo", "{component} NoSuchThing", 1), "1.1.md:21: unknown component 'NoSuchThing'"),
        (lambda s: s.replace(":timeout: 30", ":profile: tpu", 1), "1.1.md:13: unknown execution profile 'tpu'"),
        (lambda s: s.replace(":timeout: 30", ":timeout: soon", 1), "1.1.md:13: :timeout: must be an integer"),
        (lambda s: s.replace(":timeout: 30", ":colour: red", 1), "1.1.md:13: unknown code-cell option :colour:"),
        (lambda s: s.replace(":reason: 需要访问 Hub\n", "", 1), "1.1.md:28: a static example needs :reason:"),
        (lambda s: s.replace(":illustrative: 需要访问 Hub，未在本机运行\n", "", 1), "must be marked :illustrative:"),
        (lambda s: s.replace("print(1 + 1)\n```\n\n", "print(1 + 1)\n```\n\n正文打断。\n\n", 1), "{output} block does not follow a code cell"),
    ],
    ids=["yaml", "no-front-matter", "missing-title", "unknown-point", "duplicate-point", "unclosed-fence",
         "unknown-component", "unknown-profile", "bad-timeout", "unknown-option", "static-without-reason",
         "static-output-not-illustrative", "detached-output"],
)
def test_malformed_content_is_rejected_with_file_and_line(tmp_path, mutate, expected):
    errors = errors_of(make_course(tmp_path, mutate(GOOD_SECTION)))
    assert any(expected in e for e in errors), errors


def test_section_id_must_belong_to_the_chapter(tmp_path):
    errors = errors_of(make_course(tmp_path, GOOD_SECTION.replace('id: "1.1"', 'id: "2.1"', 1)))
    assert any("1.1.md:2: unknown outline id: section 2.1" in e for e in errors), errors


def test_duplicate_section_and_example_ids(tmp_path):
    dup = GOOD_SECTION.replace("## 1.1.1 ", "## 1.2.1 ").replace("## 1.1.2 ", "## 1.2.2 ")
    errors = errors_of(make_course(tmp_path, extra_sections={"1.1b.md": dup}))
    assert any("duplicate id: section 1.1" in e for e in errors), errors
    assert any("duplicate example id 1.1-1" in e for e in errors), errors


def test_missing_section_file_and_unknown_chapter(tmp_path):
    root = make_course(tmp_path)
    cy = root / "ch01" / "chapter.yaml"
    cy.write_text(cy.read_text(encoding="utf-8") + "  - nope.md\n", encoding="utf-8")
    assert any("chapter.yaml:5: section file nope.md not found" in e for e in errors_of(root))
    cy.write_text(cy.read_text(encoding="utf-8").replace("number: 1", "number: 99"), encoding="utf-8")
    assert any("chapter number 99 is not in the outline" in e for e in errors_of(root))


def test_every_error_is_reported_not_just_the_first(tmp_path):
    bad = GOOD_SECTION.replace("## 1.1.2 ", "## 1.1.9 ").replace("{component} Demo", "{component} Nope")
    assert len(errors_of(make_course(tmp_path, bad))) == 2


def test_cells_inside_admonitions_are_examples(tmp_path):
    section = GOOD_SECTION + textwrap.dedent("""\

        :::{migration} v5.0
        旧写法。

        ```{code-cell} python
        :profile: static
        :reason: 旧 API，仅作对照
        x = 1
        ```
        :::

        ## 常见问题与陷阱
        """)
    course = load_course(make_course(tmp_path, section), component_names={"Demo"})
    (s,) = course.sections
    assert [e.id for e in s.examples] == ["1.1-1", "1.1-2", "1.1-3"]
    assert s.examples[-1].point_id == "1.1.2"
    assert s.headings[-1].text == "常见问题与陷阱"
