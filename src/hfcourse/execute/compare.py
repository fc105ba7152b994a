"""Compare a captured output with the stored one, forgiving only what is legitimately variable.

- memory addresses (`0x7f3a...`) and the example's temporary directory;
- lines matching the example's `:volatile:` regex (timings, throughput): their numbers are not compared;
- floats: equal within a relative tolerance, or within one unit of the last printed decimal place.
  Integers must be equal (token ids, shapes and counts are exact).
"""

from __future__ import annotations

import difflib
import re

NUMBER_RE = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
ADDRESS_RE = re.compile(r"0x[0-9a-fA-F]{6,}")
SITE_PACKAGES_RE = re.compile(r"(?:/[^\s\"']*)?/(?:site|dist)-packages/")
REL_TOL = 1e-3
ABS_TOL = 1e-6


def normalise(text: str, volatile: str | None = None) -> str:
    text = ADDRESS_RE.sub("0x…", text.replace("\r\n", "\n")).rstrip()
    text = SITE_PACKAGES_RE.sub("site-packages/", text)
    lines = [line.rstrip() for line in text.split("\n")]
    if volatile:
        rx = re.compile(volatile)
        # numbers are not compared, nor the padding a format spec puts before them ("{x:7.1f}" of 54.2 vs 158.7)
        lines = [re.sub(r"\s+", " ", NUMBER_RE.sub("#", line)) if rx.search(line) else line for line in lines]
    return "\n".join(lines)


def _is_int(token: str) -> bool:
    return not any(c in token for c in ".eE")


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    if _is_int(a) and _is_int(b):
        return False
    x, y = float(a), float(b)
    decimals = max(len(t.split(".")[1].split("e")[0].split("E")[0]) if "." in t else 0 for t in (a, b))
    last_place = 10.0 ** -decimals if decimals else 0.0
    return abs(x - y) <= max(ABS_TOL, REL_TOL * max(abs(x), abs(y)), 1.01 * last_place)


def outputs_match(stored: str, captured: str, volatile: str | None = None) -> bool:
    a, b = normalise(stored, volatile), normalise(captured, volatile)
    if a == b:
        return True
    if NUMBER_RE.sub("#", a) != NUMBER_RE.sub("#", b):
        return False
    na, nb = NUMBER_RE.findall(a), NUMBER_RE.findall(b)
    return len(na) == len(nb) and all(_close(x, y) for x, y in zip(na, nb))


def diff(stored: str, captured: str, where: str) -> str:
    lines = difflib.unified_diff(stored.rstrip().split("\n"), captured.rstrip().split("\n"),
                                 fromfile=f"{where} (stored)", tofile=f"{where} (captured)", lineterm="")
    return "\n".join(lines)
