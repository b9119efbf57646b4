"""The facts every installer recipe shares, read from their single sources: ``pyproject.toml``,
and ``__version__`` in ``vg_desktop/__init__.py`` for the version (pyproject reads it there too).

    python packaging/project_info.py version     # 0.1.0
    python packaging/project_info.py deb-arch    # amd64 / arm64 (for the .deb file name)

Imported by ``vg-desktop.spec``; the shell and PowerShell build scripts call it, so a version bump
in ``vg_desktop/__init__.py`` reaches the bundle, the .deb, the Inno Setup installer and the
macOS .app.
"""

from __future__ import annotations

import platform
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APP_NAME = "Vanishing Gradient Lab"
EXE_NAME = "vg-desktop"  # the executable, the Debian package, the launcher on PATH, the icon name
BUNDLE_ID = "org.vanishinggradientlab.vg-desktop"  # macOS bundle / reverse-DNS application id
PUBLISHER = "Vanishing Gradient Lab"
# Document types the app opens (JSON inside); registered by every installer.
EXPERIMENT_EXT, EXPERIMENT_MIME = ".vgx", "application/x-vg-desktop-experiment"
LESSON_EXT, LESSON_MIME = ".vglesson", "application/x-vg-desktop-lesson"


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def version() -> str:
    """The version, read from where it is written: ``__version__`` in vg_desktop/__init__.py."""
    text = (ROOT / "vg_desktop" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE).group(1)


def deb_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "version"
    print(
        {"version": version, "deb-arch": deb_arch, "description": lambda: project()["description"]}[
            what
        ]()
    )
