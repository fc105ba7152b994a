"""Per-example cost of the executor: N trivial examples that import transformers, run through the warm
(forkserver) path, against the same examples each in a fresh `python -c` interpreter.

    python bench/verify_overhead.py [N]
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CODE = "import transformers\nfrom transformers import AutoConfig\nprint(transformers.__version__)\n"


def warm(n: int) -> tuple[float, float]:
    from hfcourse.content.model import CodeExample
    from hfcourse.execute.runner import Runner

    with Runner() as runner:
        examples = [CodeExample(id=f"b-{i}", section_id="b", point_id=None, path=Path("bench"), line=1, end_line=1,
                                code=CODE) for i in range(n + 1)]
        t0 = time.perf_counter()
        runner.run(examples[0])  # starts the warm server: preload torch + transformers once
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        for ex in examples[1:]:
            cap = runner.run(ex)
            assert not cap.raised, cap.output
        return startup, (time.perf_counter() - t1) / n


def cold(n: int) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, "-c", CODE], cwd=d, check=True, capture_output=True,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return (time.perf_counter() - t0) / n


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    os.environ["HFCOURSE_HOME"] = tempfile.mkdtemp(prefix="bench-home-")
    startup, per_warm = warm(n)
    per_cold = cold(n)
    print(f"examples: {n} (each: import transformers, print its version)")
    print(f"warm server start-up (once):      {startup:6.2f} s")
    print(f"warm path, per example:           {per_warm:6.3f} s")
    print(f"fresh interpreter, per example:   {per_cold:6.3f} s")
    print(f"ratio fresh / warm:               {per_cold / per_warm:6.1f}x")


if __name__ == "__main__":
    main()
