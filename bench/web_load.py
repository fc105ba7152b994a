"""Load test of `hfcourse serve` on loopback: requests/s and latency for a section page and a component
recompute, and the cold-start time to the first served page. Bounded in time; stops by itself.

    python bench/web_load.py [--seconds 10] [--connections 32] [--workers 1]
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, seconds: float, connections: int, method: str, body: dict | list | None) -> dict:
    """`body` may be a list: requests cycle through it (distinct inputs defeat the result cache)."""
    import itertools

    import httpx

    bodies = itertools.cycle(body if isinstance(body, list) else [body])
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                r = await (client.post(url, json=next(bodies)) if method == "POST" else client.get(url))
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    return {"requests": len(latencies), "errors": errors, "rps": len(latencies) / elapsed,
            "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99)}


def run_load(url, seconds, connections, method="GET", body=None) -> dict:
    """The load generator runs in its own process, so it does not share the server's CPU scheduling."""
    code = ("import asyncio, json, sys; sys.path.insert(0, %r); from web_load import _load; "
            "print(json.dumps(asyncio.run(_load(%r, %r, %r, %r, %r))))"
            % (os.path.dirname(__file__), url, seconds, connections, method, body))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_wrk(url: str, seconds: float, connections: int) -> dict | None:
    """Debian's wrk (C, event loop) when installed: a load generator that is not itself the bottleneck."""
    import re
    import shutil

    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    ms = lambda v, unit: float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]  # noqa: E731
    lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"requests": int(re.search(r"(\d+) requests in", out).group(1)), "errors": int(non2xx.group(1)) if non2xx else 0,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": lat.get("50", 0.0), "p95_ms": lat.get("90", 0.0), "p99_ms": lat.get("99", 0.0), "tool": "wrk (p95 column: p90)"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    port = free_port()
    env = {**os.environ, "HFCOURSE_HOME": tempfile.mkdtemp(prefix="hfcourse-bench-")}
    env.pop("DATABASE_URL", None)
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "hfcourse.web.asgi:app", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", str(args.workers), "--log-level", "error",
                               "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(base + "/c/0/0.4", timeout=2)
                break
            except OSError:
                if time.perf_counter() - t0 > 60:
                    raise
                time.sleep(0.05)
        cold = time.perf_counter() - t0
        urllib.request.urlopen(urllib.request.Request(base + "/api/components/ConfigEditor", method="POST",
                                                      data=b"{}", headers={"Content-Type": "application/json"}))
        section = run_wrk(base + "/c/0/0.4", args.seconds, args.connections) or \
            run_load(base + "/c/0/0.4", args.seconds, args.connections)
        # distinct inputs: every request really builds a model on meta (the result cache cannot help)
        distinct = [{"family": f, "num_hidden_layers": n} for n in range(1, 97) for f in ("bert", "llama", "gpt2")]
        comp = run_load(base + "/api/components/ConfigEditor", args.seconds, min(args.connections, 8), "POST",
                        distinct)
        repeat = run_load(base + "/api/components/ConfigEditor", args.seconds / 2, min(args.connections, 8),
                          "POST", {"family": "bert", "num_hidden_layers": 4})
    finally:
        server.terminate()
        server.wait(10)
    print(f"cold start to first section page: {cold:.2f} s (aim <= 3 s)")
    for name, r, aim in (("section page /c/0/0.4", section, "aim >= 300 req/s at 32 connections"),
                         ("component ConfigEditor recompute, distinct inputs", comp, "aim p95 <= 50 ms"),
                         ("component ConfigEditor, repeated input (cached)", repeat, "")):
        print(f"{name}: {r['rps']:.0f} req/s, p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, "
              f"p99 {r['p99_ms']:.1f} ms, {r['requests']} requests, {r['errors']} errors "
              f"[{r.get('tool', 'httpx asyncio')}]  {aim}")


if __name__ == "__main__":
    main()
