"""Typed objects for the course: Course → Part → Chapter → Section → KnowledgePoint, CodeExample.

Everything here is plain data; `hfcourse.content.loader` builds it from the files in `course/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROFILES = ("cpu", "gpu", "multiproc", "static")
LAUNCHERS = ("torchrun", "accelerate")
LEVELS = {1: "初级", 2: "中级", 3: "高级"}


@dataclass
class StoredOutput:
    """The output block that follows a code cell in the source file."""

    text: str
    line: int  # 1-based line of the opening fence
    end_line: int  # 1-based line of the closing fence
    figures: list[str] = field(default_factory=list)  # file names under the chapter's _figures/
    illustrative: str | None = None  # reason, when the block was not captured by the executor


@dataclass
class CodeExample:
    id: str  # "0.2-1" (section id, 1-based index) unless the cell sets :id:
    section_id: str
    point_id: str | None  # the knowledge point heading the cell sits under
    path: Path
    line: int  # 1-based line of the opening ```{code-cell} fence
    end_line: int  # 1-based line of the closing fence
    code: str
    profile: str = "cpu"
    timeout: int = 120
    nproc: int = 1
    launcher: str = "torchrun"
    ranks: str = "0"  # "0": keep rank 0's output; "all": every rank, prefixed
    expect_warnings: list[str] = field(default_factory=list)  # e.g. ["FutureWarning"]
    reason: str | None = None  # why a static / gpu example is not run here
    options: dict[str, str] = field(default_factory=dict)  # every :key: value, raw
    output: StoredOutput | None = None

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class ComponentRef:
    name: str
    params: dict[str, str]
    section_id: str
    path: Path
    line: int


@dataclass
class KnowledgePoint:
    id: str  # outline id, e.g. "2.3.1"
    title: str
    section_id: str
    line: int
    anchor: str  # HTML id of the heading: the outline id itself


@dataclass
class Heading:
    level: int  # 1..6
    text: str
    line: int
    anchor: str


@dataclass
class Section:
    id: str  # "0.1"
    title: str
    path: Path
    chapter_number: int
    front_matter: dict
    body: str  # the Markdown after the front matter, as written
    body_line: int  # 1-based line where body starts in the file
    headings: list[Heading] = field(default_factory=list)
    points: list[KnowledgePoint] = field(default_factory=list)
    examples: list[CodeExample] = field(default_factory=list)
    components: list[ComponentRef] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"/c/{self.chapter_number}/{self.id}"


@dataclass
class Chapter:
    number: int
    title: str
    part: str
    dir: Path
    level: int  # 1 初级, 2 中级, 3 高级
    objectives: list[str] = field(default_factory=list)
    summary: str = ""
    sections: list[Section] = field(default_factory=list)
    # `in_progress: true` in chapter.yaml: published while some outline points are still being written
    in_progress: bool = False

    @property
    def url(self) -> str:
        return f"/c/{self.number}"

    @property
    def examples(self) -> list[CodeExample]:
        return [e for s in self.sections for e in s.examples]


@dataclass
class Part:
    id: str  # roman numeral, as in the outline
    title: str
    chapter_numbers: list[int]
    level: int


@dataclass
class LearningPath:
    id: str
    name: str
    duration: str
    description: str
    chapter_numbers: list[int]


@dataclass
class Course:
    title: str
    root: Path
    parts: list[Part]
    chapters: list[Chapter]  # written chapters, in course order
    learning_paths: list[LearningPath]
    outline: "Outline"

    def chapter(self, number: int) -> Chapter | None:
        return next((c for c in self.chapters if c.number == number), None)

    def section(self, section_id: str) -> Section | None:
        for c in self.chapters:
            for s in c.sections:
                if s.id == section_id:
                    return s
        return None

    @property
    def sections(self) -> list[Section]:
        return [s for c in self.chapters for s in c.sections]

    @property
    def examples(self) -> list[CodeExample]:
        return [e for c in self.chapters for e in c.examples]

    @property
    def points(self) -> list[KnowledgePoint]:
        return [p for s in self.sections for p in s.points]


@dataclass
class OutlinePoint:
    id: str
    title: str
    subpoints: list["OutlinePoint"] = field(default_factory=list)


@dataclass
class OutlineSection:
    id: str
    title: str
    points: list[OutlinePoint]


@dataclass
class OutlineChapter:
    number: int
    title: str
    part: str
    sections: list[OutlineSection]
    components: list[str]


@dataclass
class Outline:
    title: str
    parts: list[dict]
    chapters: list[OutlineChapter]
    appendices: list[dict]
    learning_paths: list[dict]

    def chapter(self, number: int) -> OutlineChapter | None:
        return next((c for c in self.chapters if c.number == number), None)

    def point_ids(self) -> set[str]:
        """Every id a knowledge point heading may carry (points and their sub-points)."""
        out: set[str] = set()

        def walk(p: OutlinePoint) -> None:
            out.add(p.id)
            for sp in p.subpoints:
                walk(sp)

        for c in self.chapters:
            for s in c.sections:
                for p in s.points:
                    walk(p)
        return out

    def section_ids(self) -> set[str]:
        return {s.id for c in self.chapters for s in c.sections}

    def component_names(self) -> list[str]:
        return [n for c in self.chapters for n in c.components]
