"""`hfcourse lint [PATHS] [--json] [--build-index]`."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("lint", help="API-currency, structure and link lint of the course")
    p.add_argument("paths", nargs="*", help="chapter folders or section files (default: the whole course)")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--course", default=None, help="course root (default: the repository's course/)")
    p.add_argument("--build-index", action="store_true",
                   help="rebuild the static index of packages that cannot be imported here (downloads sources)")
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    if args.build_index:
        from .index import build_all

        build_all()
        return 0
    from ..content import load_course
    from .lint import as_json, lint_course

    issues = lint_course(load_course(args.course), args.paths)
    if args.json:
        print(json.dumps(as_json(issues), ensure_ascii=False, indent=1))
    else:
        for i in issues:
            print(i)
        errors = sum(i.severity == "error" for i in issues)
        print(f"{errors} error(s), {len(issues) - errors} warning(s)")
    return 1 if any(i.severity == "error" for i in issues) else 0
