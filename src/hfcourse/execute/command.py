"""`hfcourse verify [PATHS] [--update] [--jobs N] [--gpu] [--no-cache] [--report PATH]`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("verify", help="run the course's code examples and compare with their stored outputs")
    p.add_argument("paths", nargs="*", help="course files or folders to verify (default: the whole course)")
    p.add_argument("--update", action="store_true", help="rewrite stored outputs with what the examples print")
    p.add_argument("--jobs", "-j", type=int, default=1, help="examples run concurrently (default 1)")
    p.add_argument("--gpu", action="store_true", help="run `gpu` examples (needs CUDA)")
    p.add_argument("--no-cache", action="store_true", help="ignore the results cache")
    p.add_argument("--report", type=Path, default=None, help="report file (default course/verify-report.json)")
    p.add_argument("--course", type=Path, default=None, help="course root (default: the repository's course/)")
    p.set_defaults(func=run)


STYLE = {"passed": "green", "static": "cyan", "needs-gpu": "yellow", "failed": "red", "error": "red", "timeout": "red"}


def run(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ..content import load_course
    from .verify import FAILING, select, verify, write_report

    console = Console(stderr=False)
    course = load_course(args.course)
    examples = select(course, args.paths)
    if not examples:
        console.print("no examples selected")
        return 0
    counts: Counter = Counter()
    failures = []
    with Progress(TextColumn("[bold]verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console, transient=False) as progress:
        task = progress.add_task("", total=len(examples))

        def on_result(res) -> None:
            counts[res.status] += 1
            if res.status in FAILING:
                failures.append(res)
                progress.console.print(f"[red]✗ {res.example.id}[/red] {res.example.location}")
            progress.update(task, advance=1, description="  ".join(f"[{STYLE.get(k, 'white')}]{k} {v}[/]"
                                                                   for k, v in sorted(counts.items())))

        results = verify(examples, update=args.update, jobs=args.jobs, gpu=args.gpu, use_cache=not args.no_cache,
                         on_result=on_result)
    report = write_report(results, {e.id for e in course.examples}, args.report, args.gpu)
    for res in failures:
        console.rule(f"[red]{res.status}: {res.example.id}")
        console.print(res.message, markup=False, highlight=False, soft_wrap=True)
    table = Table(title="slowest examples")
    table.add_column("example")
    table.add_column("where")
    table.add_column("seconds", justify="right")
    table.add_column("status")
    for res in sorted(results, key=lambda r: -r.duration)[:5]:
        if res.duration:
            table.add_row(res.example.id, res.example.location, f"{res.duration:.2f}",
                          res.status + (" (cached)" if res.cached else ""))
    console.print(table)
    updated = sum(r.updated for r in results)
    cached = sum(r.cached for r in results)
    console.print(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) +
                  f"; {cached} from cache" + (f"; {updated} outputs updated" if updated else "") + f"; report: {report}")
    return 1 if any(r.status in FAILING for r in results) else 0
