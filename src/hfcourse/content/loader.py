"""Load `course/` into a validated `Course`, or raise `ContentErrors` listing every problem.

    course/course.yaml          title, parts' levels, chapter folders in order, learning paths
    course/outline.yaml         the outline (ids every heading must come from)
    course/<dir>/chapter.yaml   number, title, part, objectives, sections (file names in order), in_progress
    course/<dir>/<file>.md      one section (see hfcourse.content.parse)
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import yaml

from ..paths import course_dir
from .errors import ContentError, ContentErrors
from .model import Chapter, Course, LearningPath, Outline, Part, Section
from .outline import load_outline
from .parse import parse_section


def _yaml(path: Path, errors: list[ContentError]) -> dict | None:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.append(ContentError(path, 1, "file not found"))
        return None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        errors.append(ContentError(path, (mark.line + 1) if mark else 1, f"bad YAML: {getattr(e, 'problem', e)}"))
        return None
    if not isinstance(data, dict):
        errors.append(ContentError(path, 1, "expected a mapping at the top level"))
        return None
    return data


def _line_of(path: Path, needle: str) -> int:
    """Best-effort line of the first occurrence of `needle` (for errors about YAML values)."""
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
            if needle in line:
                return i
    except OSError:
        pass
    return 1


def known_component_names() -> set[str]:
    from ..viz.registry import names

    return names()


def load_course(root: Path | None = None, *, component_names: Iterable[str] | None = None) -> Course:
    root = Path(root or course_dir()).resolve()
    errors: list[ContentError] = []
    course_yaml = root / "course.yaml"
    data = _yaml(course_yaml, errors)
    if data is None:
        raise ContentErrors(errors)
    outline_path = root / str(data.get("outline", "outline.yaml"))
    if not outline_path.exists():
        raise ContentErrors([ContentError(course_yaml, _line_of(course_yaml, "outline"), f"outline file {outline_path.name} not found")])
    outline = load_outline(outline_path)
    comp_names = set(component_names) if component_names is not None else known_component_names()

    levels = {str(k): int(v) for k, v in (data.get("part_levels") or {}).items()}
    parts = [Part(str(p["id"]), str(p["title"]), [int(n) for n in p.get("chapters", [])], levels.get(str(p["id"]), 1))
             for p in outline.parts]
    part_level = {p.id: p.level for p in parts}

    chapters: list[Chapter] = []
    seen_sections: dict[str, Section] = {}
    seen_points: dict[str, tuple[Path, int]] = {}
    seen_examples: dict[str, tuple[Path, int]] = {}
    seen_numbers: set[int] = set()
    for folder in data.get("chapters") or []:
        cdir = root / str(folder)
        cy = cdir / "chapter.yaml"
        cdata = _yaml(cy, errors)
        if cdata is None:
            continue
        missing = [k for k in ("number", "title", "sections") if k not in cdata]
        if missing:
            errors.append(ContentError(cy, 1, f"missing required key(s): {', '.join(missing)}"))
            continue
        number = cdata["number"]
        oc = outline.chapter(number) if isinstance(number, int) else None
        if oc is None:
            errors.append(ContentError(cy, _line_of(cy, "number"), f"chapter number {number!r} is not in the outline"))
            continue
        if number in seen_numbers:
            errors.append(ContentError(cy, _line_of(cy, "number"), f"duplicate chapter number {number}"))
            continue
        seen_numbers.add(number)
        chapter = Chapter(
            number=number,
            title=str(cdata["title"]),
            part=oc.part,
            dir=cdir,
            level=int(cdata.get("level", part_level.get(oc.part, 1))),
            objectives=[str(x) for x in cdata.get("objectives", []) or []],
            summary=str(cdata.get("summary", "") or ""),
            in_progress=bool(cdata.get("in_progress", False)),
        )
        outline_sections = {s.id: s for s in oc.sections}
        for fname in cdata["sections"] or []:
            spath = cdir / str(fname)
            if not spath.exists():
                errors.append(ContentError(cy, _line_of(cy, str(fname)), f"section file {fname} not found"))
                continue
            section = parse_section(spath, number, errors)
            if section is None:
                continue
            _validate_section(section, outline_sections, seen_sections, seen_points, seen_examples, comp_names, errors)
            chapter.sections.append(section)
        chapters.append(chapter)

    paths = []
    for i, p in enumerate(data.get("learning_paths") or []):
        try:
            paths.append(LearningPath(str(p["id"]), str(p["name"]), str(p.get("duration", "")),
                                      str(p.get("description", "")), [int(n) for n in p["chapters"]]))
        except (KeyError, TypeError, ValueError):
            errors.append(ContentError(course_yaml, _line_of(course_yaml, "learning_paths"),
                                       f"learning path #{i + 1} needs id, name and a list of chapter numbers"))
    if errors:
        raise ContentErrors(errors)
    return Course(str(data.get("title", outline.title)), root, parts, chapters, paths, outline)


def _validate_section(section, outline_sections, seen_sections, seen_points, seen_examples, comp_names, errors):
    path = section.path
    if section.id not in outline_sections:
        errors.append(ContentError(path, 2, f"unknown outline id: section {section.id} is not in this chapter of the outline"))
        return
    if section.id in seen_sections:
        errors.append(ContentError(path, 2, f"duplicate id: section {section.id} is also {seen_sections[section.id].path}"))
    seen_sections[section.id] = section
    allowed: set[str] = set()
    for p in outline_sections[section.id].points:
        allowed.add(p.id)
        allowed.update(sp.id for sp in p.subpoints)
    for kp in section.points:
        if kp.id not in allowed:
            errors.append(ContentError(path, kp.line, f"unknown outline id {kp.id} (section {section.id} has: "
                                                      f"{', '.join(sorted(allowed))})"))
        elif kp.id in seen_points:
            p0, l0 = seen_points[kp.id]
            errors.append(ContentError(path, kp.line, f"duplicate id {kp.id} (first at {p0}:{l0})"))
        else:
            seen_points[kp.id] = (path, kp.line)
    for ex in section.examples:
        if ex.id in seen_examples:
            p0, l0 = seen_examples[ex.id]
            errors.append(ContentError(path, ex.line, f"duplicate example id {ex.id} (first at {p0}:{l0})"))
        seen_examples[ex.id] = (path, ex.line)
        if ex.profile == "static" and ex.output is not None and not ex.output.illustrative:
            errors.append(ContentError(path, ex.output.line, "the output of a static example must be marked "
                                                             ":illustrative: with the reason it was not run"))
    for comp in section.components:
        if comp.name not in comp_names:
            errors.append(ContentError(path, comp.line, f"unknown component {comp.name!r}"))


@lru_cache(maxsize=4)
def _cached(root: str, stamp: float) -> Course:
    return load_course(Path(root))


_stamps: dict[str, tuple[float, float]] = {}  # root → (newest mtime, when it was checked)
RECHECK_SECONDS = 2.0


def load_course_cached(root: Path | None = None) -> Course:
    """load_course, memoised on the newest modification time under the course folder.

    The folder is re-scanned at most every RECHECK_SECONDS, so a hot path (every page view) stays cheap
    while edits to the course still show up within seconds."""
    import time

    root = Path(root or course_dir()).resolve()
    key = str(root)
    now = time.monotonic()
    stamp, checked = _stamps.get(key, (0.0, -1e9))
    if now - checked > RECHECK_SECONDS:
        stamp = max((p.stat().st_mtime for p in root.rglob("*") if p.suffix in (".md", ".yaml")), default=0.0)
        _stamps[key] = (stamp, now)
    return _cached(key, stamp)
