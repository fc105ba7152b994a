"""Load time and peak RSS of each model in the asset workspace, each in a fresh interpreter.

    python bench/assets_load.py
"""

import json
import subprocess
import sys

from hfcourse.paths import workspace

PROBE = r"""
import json, resource, sys, time
t0 = time.perf_counter()
import torch, transformers
t1 = time.perf_counter()
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer
cls = AutoModelForCausalLM if sys.argv[2] == "causal" else AutoModel
tok = AutoTokenizer.from_pretrained(sys.argv[1])
model = cls.from_pretrained(sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "params": model.num_parameters(),
                  "dtype": str(model.dtype), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MODELS = [("sentence-transformers/all-MiniLM-L6-v2", "base"), ("HuggingFaceTB/SmolLM2-135M-Instruct", "causal")]


def main() -> None:
    ws = workspace()
    models = MODELS + [(f"hfcourse/{p.name}", "causal" if "minillm" in p.name else "base")
                       for p in sorted((ws / "hfcourse").glob("*")) if (p / "config.json").exists()]
    print(f"{'model':45s} {'params':>12s} {'dtype':>15s} {'import s':>9s} {'load s':>8s} {'peak RSS MB':>12s}")
    for name, kind in models:
        out = subprocess.run([sys.executable, "-c", PROBE, str(ws / name), kind], capture_output=True, text=True,
                             env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        if out.returncode:
            print(f"{name:45s} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:45s} {r['params']:12,d} {r['dtype']:>15s} {r['import_s']:9.2f} {r['load_s']:8.2f} "
              f"{r['peak_rss_mb']:12.0f}")


if __name__ == "__main__":
    main()
