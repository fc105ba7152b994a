"""The user's outline (seeds/000 as data, copied to course/outline.yaml)."""

from __future__ import annotations

from pathlib import Path

import yaml

from .model import Outline, OutlineChapter, OutlinePoint, OutlineSection


def _point(d: dict) -> OutlinePoint:
    return OutlinePoint(str(d["id"]), str(d["title"]), [_point(x) for x in d.get("subpoints", []) or []])


def load_outline(path: Path) -> Outline:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    chapters = [
        OutlineChapter(
            number=int(c["number"]),
            title=str(c["title"]),
            part=str(c["part"]),
            sections=[OutlineSection(str(s["id"]), str(s["title"]), [_point(p) for p in s.get("points", [])])
                      for s in c.get("sections", [])],
            components=[str(x) for x in c.get("components", []) or []],
        )
        for c in data["chapters"]
    ]
    return Outline(
        title=str(data.get("title", "")),
        parts=list(data.get("parts", [])),
        chapters=chapters,
        appendices=list(data.get("appendices", [])),
        learning_paths=list(data.get("learning_paths", [])),
    )
