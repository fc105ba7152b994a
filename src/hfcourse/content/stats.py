"""`hfcourse stats [--json]`: the course dashboard as data.

Other parts of the platform contribute counts through `CONTRIBUTORS`: callables taking the Course and
returning a dict merged into the result (quiz items, interview questions, coding tasks ...).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from ..paths import report_path
from .loader import load_course
from .model import Course

CONTRIBUTORS: list[Callable[[Course], dict]] = []
# Modules that append to CONTRIBUTORS when imported; missing ones are skipped.
CONTRIBUTOR_MODULES = ["hfcourse.learn.stats"]


def load_report() -> dict:
    path = report_path()
    if not path.exists():
        return {"examples": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def collect(course: Course) -> dict:
    outline = course.outline
    o_points = [p.id for c in outline.chapters for s in c.sections for p in s.points]
    written_points = sorted({p.id for p in course.points}, key=lambda x: [int(n) for n in x.split(".")])
    report = load_report().get("examples", {})
    per_profile = Counter(e.profile for e in course.examples)
    status = Counter(report.get(e.id, {}).get("status", "not-run") for e in course.examples)
    from ..viz.registry import names as component_names

    registered = sorted(component_names())
    embedded = sorted({c.name for s in course.sections for c in s.components})
    out = {
        "outline": {
            "chapters": len(outline.chapters),
            "sections": sum(len(c.sections) for c in outline.chapters),
            "points": len(o_points),
            "components": len(outline.component_names()),
        },
        "written": {
            "chapters": len(course.chapters),
            "chapter_numbers": [c.number for c in course.chapters],
            "sections": len(course.sections),
            "points": len(written_points),
            "point_ids": written_points,
        },
        "examples": {
            "total": len(course.examples),
            "per_profile": dict(per_profile),
            "passed": status.get("passed", 0),
            "failed": sum(v for k, v in status.items() if k in ("failed", "error", "timeout")),
            "not_run": status.get("not-run", 0),
            "by_status": dict(status),
        },
        "components": {"registered": registered, "embedded": embedded},
        "quiz_items": 0,
        "interview_questions": 0,
        "coding_tasks": 0,
    }
    import importlib
    import importlib.util

    for mod in CONTRIBUTOR_MODULES:
        if importlib.util.find_spec(mod) is not None:
            importlib.import_module(mod)
    for fn in CONTRIBUTORS:
        out.update(fn(course))
    return out


def register(sub) -> None:
    p = sub.add_parser("stats", help="course dashboard: outline vs written, examples, components, assessments")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)


def run(args) -> int:
    data = collect(load_course())
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title="hfcourse stats")
    t.add_column("what")
    t.add_column("outline", justify="right")
    t.add_column("written", justify="right")
    for key in ("chapters", "sections", "points"):
        t.add_row(key, str(data["outline"][key]), str(data["written"][key]))
    t.add_row("components", str(data["outline"]["components"]), str(len(data["components"]["registered"])))
    Console().print(t)
    ex = data["examples"]
    print(f"examples: {ex['total']} ({', '.join(f'{k} {v}' for k, v in ex['per_profile'].items())}); "
          f"passed {ex['passed']}, failed {ex['failed']}, not run {ex['not_run']}")
    print(f"quiz items {data['quiz_items']}, interview questions {data['interview_questions']}, "
          f"coding tasks {data['coding_tasks']}")
    return 0
