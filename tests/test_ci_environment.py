"""CI must run the PyTorch reference tests, not skip them (.ci/run installs torch first)."""

from __future__ import annotations

import importlib.util
import os

import pytest


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="developers may run without PyTorch")
def test_ci_has_pytorch_for_the_autograd_reference_tests():
    assert importlib.util.find_spec("torch") is not None, (
        "CI=true but torch is not installed: the autograd reference tests would be skipped"
    )
