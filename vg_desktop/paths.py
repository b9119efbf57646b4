"""Where the app's shipped resources are, whether run from source, installed, or frozen."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dir() -> Path:
    """The ``resources`` folder: beside the PyInstaller bundle, the source tree, or the package."""
    candidates = []
    if getattr(sys, "frozen", False):
        candidates.append(Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here.parent / "resources", here / "resources"]
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[-1]


def resource_path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)
