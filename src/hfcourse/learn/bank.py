"""Quizzes (course/quizzes/chNN.yaml) and the interview bank (course/interview/*.yaml): load and validate.

Every error names file:line, so a broken item is found without reading the loader.
Interview questions link into the minillm source with SYMBOL anchors (`path.py::name`) that are resolved
to file:line with `ast` at load time: an anchor whose symbol is gone is an error, so links cannot rot.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..content.errors import ContentError, ContentErrors
from ..paths import course_dir

QUIZ_TYPES = ("single", "multiple", "truefalse", "fill", "ordering")
LEVELS = ("基础", "进阶", "专家")
TOPICS = ("数据", "架构", "训练", "推理与生成", "系统设计", "概念")
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class QuizItem:
    id: str
    type: str
    question: str
    options: list[str]
    answer: object  # int (single), list[int] (multiple, ordering), bool (truefalse), list[str] (fill: accepted)
    explanation: str
    point: str
    path: str
    line: int

    def check(self, given) -> bool:
        """`given` as posted by a learner: an index, a list of indexes, a bool, or a string."""
        try:
            if self.type == "single":
                return int(given) == self.answer
            if self.type == "multiple":
                return sorted(int(g) for g in given) == sorted(self.answer)
            if self.type == "ordering":
                return [int(g) for g in given] == list(self.answer)
            if self.type == "truefalse":
                return (given if isinstance(given, bool) else str(given).lower() in ("true", "1", "对")) == self.answer
            if self.type == "fill":
                return str(given).strip().lower() in {a.strip().lower() for a in self.answer}
        except (TypeError, ValueError):
            return False
        return False

    def public(self) -> dict:
        """What a learner sees before answering (no answer, no explanation)."""
        return {"id": self.id, "type": self.type, "question": self.question, "options": self.options}


@dataclass
class Quiz:
    chapter: int
    title: str
    items: list[QuizItem]
    path: str


@dataclass
class SourceLink:
    anchor: str  # "src/hfcourse/minillm/model.py::repeat_kv"
    path: str
    line: int


@dataclass
class InterviewQuestion:
    id: str
    level: str
    topic: str
    question: str
    answer: str
    rubric: dict[int, str]
    followups: list[str]
    sections: list[str]
    source: list[SourceLink] = field(default_factory=list)
    path: str = ""
    line: int = 0


def _nodes(path: Path):
    """Parsed data plus the line of each top-level `items`/`questions` entry (1-based)."""
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    node = yaml.compose(text)
    lines: list[int] = []
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value in ("items", "questions") and isinstance(v, yaml.SequenceNode):
                lines = [n.start_mark.line + 1 for n in v.value]
    return data, lines


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _known_points_and_sections(course) -> tuple[set[str], set[str]]:
    if course is None:
        from ..content import load_course

        course = load_course()
    return {p.id for p in course.points}, {s.id for s in course.sections}


def load_quiz_file(path: Path, points: set[str], errors: list[ContentError]) -> Quiz | None:
    try:
        data, lines = _nodes(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        errors.append(ContentError(path, (mark.line + 1) if mark else 1, f"invalid YAML: {e}"))
        return None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        errors.append(ContentError(path, 1, "a quiz file needs `chapter`, `title` and a list `items`"))
        return None
    items: list[QuizItem] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(data["items"]):
        line = lines[i] if i < len(lines) else 1

        def err(msg: str) -> None:
            errors.append(ContentError(path, line, msg))

        if not isinstance(raw, dict):
            err("item must be a mapping")
            continue
        missing = [k for k in ("id", "type", "question", "answer", "explanation", "point") if k not in raw]
        if missing:
            err(f"item {raw.get('id', i)!s}: missing {', '.join(missing)}")
            continue
        iid, typ, opts, ans = str(raw["id"]), raw["type"], raw.get("options") or [], raw["answer"]
        if iid in seen:
            err(f"duplicate id {iid} (first at line {seen[iid]})")
        seen[iid] = line
        if typ not in QUIZ_TYPES:
            err(f"{iid}: unknown type {typ!r}; use one of {', '.join(QUIZ_TYPES)}")
            continue
        if str(raw["point"]) not in points:
            err(f"{iid}: knowledge point {raw['point']} does not exist in the course")
        n = len(opts)
        if typ == "single":
            if n < 2 or not isinstance(ans, int) or isinstance(ans, bool) or not 0 <= ans < n:
                err(f"{iid}: single choice needs ≥2 options and exactly one correct option index in 0..{n - 1}")
                continue
        elif typ == "multiple":
            if n < 2 or not isinstance(ans, list) or not ans or len(set(ans)) != len(ans) or \
                    not all(isinstance(a, int) and 0 <= a < n for a in ans):
                err(f"{iid}: multiple choice needs ≥1 distinct correct option indexes in 0..{n - 1}")
                continue
        elif typ == "ordering":
            if n < 2 or not isinstance(ans, list) or sorted(ans) != list(range(n)):
                err(f"{iid}: ordering answer must be a permutation of 0..{n - 1}")
                continue
        elif typ == "truefalse":
            if not isinstance(ans, bool):
                err(f"{iid}: true/false answer must be true or false")
                continue
        elif typ == "fill":
            ans = [ans] if isinstance(ans, str) else ans
            if not isinstance(ans, list) or not ans or not all(isinstance(a, str) and a.strip() for a in ans):
                err(f"{iid}: fill-in answer must be a string or a list of accepted strings")
                continue
        items.append(QuizItem(iid, typ, str(raw["question"]), [str(o) for o in opts], ans,
                              str(raw["explanation"]), str(raw["point"]), _rel(path), line))
    return Quiz(int(data.get("chapter", -1)), str(data.get("title", "")), items, _rel(path))


def load_quizzes(course=None, root: Path | None = None) -> list[Quiz]:
    root = root or course_dir() / "quizzes"
    points, _ = _known_points_and_sections(course)
    errors: list[ContentError] = []
    quizzes = [q for p in sorted(root.glob("*.yaml")) if (q := load_quiz_file(p, points, errors))]
    if errors:
        raise ContentErrors(errors)
    return quizzes


def resolve_anchor(anchor: str, root: Path = REPO_ROOT) -> SourceLink:
    """`src/x/model.py::Name` or `::Class.method` → file:line of that definition, via ast. Raises ValueError."""
    if "::" not in anchor:
        raise ValueError(f"anchor {anchor!r} must look like path.py::symbol")
    rel, symbol = anchor.split("::", 1)
    path = root / rel
    if not path.is_file():
        raise ValueError(f"anchor {anchor!r}: file {rel} does not exist")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scope: list[ast.stmt] = tree.body
    node = None
    for part in symbol.split("."):
        node = None
        for stmt in scope:
            names: list[str] = []
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names = [stmt.name]
            elif isinstance(stmt, ast.Assign):
                names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                names = [stmt.target.id]
            if part in names:
                node = stmt
                break
        if node is None:
            raise ValueError(f"anchor {anchor!r}: {rel} defines no {symbol}")
        scope = getattr(node, "body", [])
    return SourceLink(anchor, rel, node.lineno)


def load_interview_file(path: Path, sections: set[str], errors: list[ContentError],
                        root: Path = REPO_ROOT) -> list[InterviewQuestion]:
    try:
        data, lines = _nodes(path)
    except yaml.YAMLError as e:
        errors.append(ContentError(path, 1, f"invalid YAML: {e}"))
        return []
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        errors.append(ContentError(path, 1, "an interview file needs a list `questions`"))
        return []
    out: list[InterviewQuestion] = []
    for i, raw in enumerate(data["questions"]):
        line = lines[i] if i < len(lines) else 1

        def err(msg: str) -> None:
            errors.append(ContentError(path, line, msg))

        missing = [k for k in ("id", "level", "topic", "question", "answer", "rubric") if k not in (raw or {})]
        if missing:
            err(f"question {i}: missing {', '.join(missing)}")
            continue
        qid = str(raw["id"])
        if raw["level"] not in LEVELS:
            err(f"{qid}: level must be one of {', '.join(LEVELS)}")
        if raw["topic"] not in TOPICS:
            err(f"{qid}: topic must be one of {', '.join(TOPICS)}")
        rubric = raw["rubric"] if isinstance(raw["rubric"], dict) else {}
        if sorted(int(k) for k in rubric) != [60, 80, 100]:
            err(f"{qid}: rubric must say what earns 60, 80 and 100")
        for s in raw.get("sections", []) or []:
            if str(s) not in sections:
                err(f"{qid}: section {s} does not exist in the course")
        links = []
        for a in raw.get("source", []) or []:
            try:
                links.append(resolve_anchor(str(a), root))
            except (ValueError, SyntaxError) as e:
                err(f"{qid}: {e}")
        out.append(InterviewQuestion(qid, raw["level"], raw["topic"], str(raw["question"]), str(raw["answer"]),
                                     {int(k): str(v) for k, v in rubric.items()},
                                     [str(f) for f in raw.get("followups", []) or []],
                                     [str(s) for s in raw.get("sections", []) or []], links, _rel(path), line))
    return out


def load_interview(course=None, root: Path | None = None, src_root: Path = REPO_ROOT) -> list[InterviewQuestion]:
    root = root or course_dir() / "interview"
    _, sections = _known_points_and_sections(course)
    errors: list[ContentError] = []
    qs = [q for p in sorted(root.glob("*.yaml")) for q in load_interview_file(p, sections, errors, src_root)]
    seen: dict[str, InterviewQuestion] = {}
    for q in qs:
        if q.id in seen:
            errors.append(ContentError(q.path, q.line, f"duplicate id {q.id} (first at {seen[q.id].path}:"
                                                       f"{seen[q.id].line})"))
        seen[q.id] = q
    if errors:
        raise ContentErrors(errors)
    return qs
