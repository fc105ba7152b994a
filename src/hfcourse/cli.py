"""`hfcourse` command line. Each subcommand lives in its own module with `register(subparsers)`;
modules are imported only to build the parser, so they keep heavy imports inside their handlers."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

COMMANDS = {
    "serve": "hfcourse.web.command",
    "verify": "hfcourse.execute.command",
    "lint": "hfcourse.check.command",
    "assets": "hfcourse.assets.command",
    "stats": "hfcourse.content.stats",
    "export": "hfcourse.export.command",
    "grade": "hfcourse.learn.command",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hfcourse", description="Verified, interactive Transformers course (zh-CN)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if importlib.util.find_spec(module) is None:
            continue
        importlib.import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .content.errors import ContentErrors

    try:
        return int(args.func(args) or 0)
    except ContentErrors as e:
        for err in e.errors:
            print(err, file=sys.stderr)
        print(f"{len(e.errors)} content error(s)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
