"""Entry point for ``vg-desktop``, ``python -m vg_desktop`` and the frozen bundle.

``vg-desktop run ...`` is the headless command line (no Qt imported); anything else opens the
window.
"""

from __future__ import annotations

import multiprocessing
import sys

from . import limit_blas_threads

limit_blas_threads()  # before anything imports NumPy


def main(argv: list[str] | None = None) -> int:
    # In a frozen bundle, the training processes (and the fork server) are this same binary
    # started with multiprocessing's arguments: run what they ask for, not the app.
    multiprocessing.freeze_support()
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] == "run":
        from .cli import main as cli_main

        return cli_main(args[1:])
    from .training_process import prestart

    try:
        prestart()  # the training processes' fork server starts while Qt and the window load
    except Exception as exc:  # training falls back to a thread when no process can start
        print(f"vg-desktop: no training processes ({exc}); training in a thread", file=sys.stderr)
    from .app import main as app_main

    return app_main(args)


if __name__ == "__main__":
    sys.exit(main())
