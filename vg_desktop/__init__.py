"""Vanishing Gradient Lab: watch the vanishing gradient problem happen, and each cure fix it."""

import os

# The one place the version is written: pyproject.toml reads it from here. (Asking
# importlib.metadata instead cost 45 ms of every launch.)
__version__ = "0.1.0"

APP_NAME = "Vanishing Gradient Lab"
ORG_NAME = "Vanishing Gradient Lab"


def limit_blas_threads() -> None:
    """Use one BLAS thread per calling thread; call before NumPy is first imported.

    The app trains in one process per run (two with Compare A/B) on matrices of at most 256
    columns. A multi-threaded OpenBLAS in each of two runs at once oversubscribes the cores and
    spin-waits: on two cores both runs slowed about tenfold, closing or leaving A/B waited seconds
    for a step, and the GUI thread starved. Single-threaded BLAS is also faster for the small
    default networks. An explicit environment setting wins.
    """
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
