"""`hfcourse grade TASK FILE`: grade a solution file in the sandbox; exit 0 only when every test passes."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("grade", help="run a coding task's hidden tests on a solution file (sandboxed)")
    p.add_argument("task", help="task id, e.g. sdpa (see course/tasks/)")
    p.add_argument("file", help="the solution file to grade")
    p.add_argument("--shared", action="store_true", help="isolate the filesystem too (needs bubblewrap)")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys
    from pathlib import Path

    from .grader import grade, load_tasks

    tasks = load_tasks()
    if args.task not in tasks:
        print(f"unknown task {args.task!r}; available: {', '.join(tasks)}", file=sys.stderr)
        return 2
    g = grade(tasks[args.task], Path(args.file).read_text(encoding="utf-8"), mode="shared" if args.shared else "local")
    for t in g.tests:
        mark = "PASS" if t["passed"] else "FAIL"
        print(f"{mark} {t['name']}" + ("" if t["passed"] else f": {t['message']}"))
    print(f"{args.task}: {g.verdict}, {sum(t['passed'] for t in g.tests)}/{len(g.tests)} tests, {g.duration:.1f} s")
    return 0 if g.passed else 1
