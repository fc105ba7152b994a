"""Write captured outputs (and figures) back into the section files, atomically."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..content.model import CodeExample


@dataclass
class NewOutput:
    example: CodeExample
    text: str
    figures: list[Path]  # captured PNG files, to be copied into the chapter's _figures/


def _fence_for(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    return "`" * max(3, longest + 1)


def render_block(text: str, figure_names: list[str]) -> list[str]:
    fence = _fence_for(text)
    lines = [f"{fence}{{output}}"]
    if figure_names:
        lines.append(f":figures: {', '.join(figure_names)}")
    body = text.rstrip("\n")
    if body:
        lines.extend(body.split("\n"))
    lines.append(fence)
    return lines


def atomic_write(path: Path, data: str | bytes) -> None:
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if isinstance(data, bytes) else {"encoding": "utf-8", "newline": ""})) as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_file(path: Path, updates: list[NewOutput]) -> None:
    """Replace (or insert) the output block of each updated example of one file."""
    lines = path.read_text(encoding="utf-8").split("\n")
    fig_dir = path.parent / "_figures"
    # Bottom-up, so line numbers from the parse stay valid.
    for up in sorted(updates, key=lambda u: u.example.line, reverse=True):
        ex = up.example
        names = []
        for n, src in enumerate(up.figures, 1):
            fig_dir.mkdir(exist_ok=True)
            name = f"{ex.id}-{n}.png"
            atomic_write(fig_dir / name, Path(src).read_bytes())
            names.append(name)
        for old in (ex.output.figures if ex.output else []):
            if old not in names:
                (fig_dir / old).unlink(missing_ok=True)
        block = render_block(up.text, names)
        if ex.output is not None:
            lines[ex.output.line - 1 : ex.output.end_line] = block
        else:
            lines[ex.end_line : ex.end_line] = ["", *block]
    atomic_write(path, "\n".join(lines))


def copy_figures(srcs: list[str], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for s in srcs:
        d = dest / Path(s).name
        shutil.copy(s, d)
        out.append(d)
    return out
