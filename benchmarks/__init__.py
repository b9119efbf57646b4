"""Benchmarks for Vanishing Gradient Lab. Run ``python -m benchmarks`` (see README.md here).

Nothing in ``vg_desktop`` imports this package; its optional dependencies (PyTorch, threadpoolctl)
come from the ``bench`` extra and are never needed to run the app.
"""
