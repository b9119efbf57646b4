"""Every benchmark in one command: the engine's table, the window's (stalls included), the
training process's memory and the command line's.

    python -m benchmarks            # engine default grid + window (about 10 minutes)
    python -m benchmarks --quick    # engine --quick + window with 3-second measurements (~3 min)
    python -m benchmarks --full     # engine --full + window with memory after 10 minutes

Each part runs in a process of its own (as ``python -m benchmarks.engine`` and ``python -m
benchmarks.gui``), prints its table and writes its JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="short runs (about 3 minutes)")
    size.add_argument("--full", action="store_true", help="long runs, memory after 10 minutes")
    args = parser.parse_args(argv)
    engine = ["--quick"] if args.quick else ["--full"] if args.full else []
    gui = ["--seconds", "3"] if args.quick else ["--full"] if args.full else []
    runs = (
        ("benchmarks.engine", engine),
        ("benchmarks.gui", gui),
        ("benchmarks.memory", ["--seconds", "10"] if args.quick else []),
        ("benchmarks.cli", ["--seconds", "10"] if args.quick else []),
    )
    for module, flags in runs:
        print(f"$ python -m {module} {' '.join(flags)}".rstrip(), flush=True)
        code = subprocess.call([sys.executable, "-m", module, *flags])
        if code:
            return code
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
