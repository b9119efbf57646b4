"""Headless command line benchmark: memory of ``vg-desktop run`` over a long run.

    python -m benchmarks.cli                 # depth 200, 25 s per output kind
    python -m benchmarks.cli --seconds 60

Runs ``python -m vg_desktop run --depth 200 --steps <many>`` with no output, with ``--json``
and with ``--csv``, samples the process's resident memory (VmRSS) every 0.1 s and prints how
fast it grows once warmed up (least-squares slope from 3 s on, MB/s). Each run is ended with
Ctrl+C (SIGINT), as a user would end it. Writes benchmarks/results/cli.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
WARM_UP_S = 3.0


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, y) points."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    num = sum((t - mt) * (y - my) for t, y in points)
    den = sum((t - mt) ** 2 for t, _ in points) or 1e-12
    return num / den


def measure(output: str, depth: int, seconds: float, folder: Path) -> dict:
    args = [sys.executable, "-m", "vg_desktop", "run", "--depth", str(depth)]
    args += ["--steps", "10000000"]
    if output != "none":
        args += [f"--{output}", str(folder / f"out.{output}")]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    samples: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    while (now := time.perf_counter() - t0) < seconds and proc.poll() is None:
        mb = rss_mb(proc.pid)
        if mb is not None:
            samples.append((now, mb))
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    steps = None
    for line in stdout.splitlines():
        if line.startswith("after "):
            steps = int(line.split()[1])
    warm = [(t, mb) for t, mb in samples if t >= WARM_UP_S]
    return {
        "output": output,
        "depth": depth,
        "seconds": seconds,
        "steps": steps,
        "rc": proc.returncode,
        "rss_mb_at_warm_up": warm[0][1] if warm else None,
        "rss_mb_at_end": samples[-1][1] if samples else None,
        "peak_rss_mb": max(mb for _, mb in samples) if samples else None,
        "growth_mb_per_s": slope(warm) if len(warm) > 2 else None,
        "traceback": "Traceback" in stderr,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=25.0)
    parser.add_argument("--depth", type=int, default=200)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"vg-desktop run --depth {args.depth}: resident memory, ended by Ctrl+C after")
    print(f"{args.seconds:g} s (growth: least-squares slope from {WARM_UP_S:g} s on)")
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for output in ("none", "json", "csv"):
            r = measure(output, args.depth, args.seconds, Path(tmp))
            out.append(r)
            print(
                f"  {'--' + output if output != 'none' else 'no output':>9}: "
                f"{r['rss_mb_at_warm_up']:6.1f} MB at {WARM_UP_S:g} s -> "
                f"{r['rss_mb_at_end']:6.1f} MB, growth {r['growth_mb_per_s']:+6.2f} MB/s; "
                f"{r['steps']} steps, rc {r['rc']}"
                + (", TRACEBACK on Ctrl+C" if r["traceback"] else "")
            )
    (RESULTS / "cli.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'cli.json'}")


if __name__ == "__main__":
    main()
