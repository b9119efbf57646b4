"""Fast, static checks of the installer recipes in packaging/ (the full build and install is
``packaging/smoke_test.sh``, which CI runs after the test suite)."""

from __future__ import annotations

import ast
import configparser
import importlib.util
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


project_info = load("project_info")
DOCUMENT_TYPES = {
    project_info.EXPERIMENT_MIME: project_info.EXPERIMENT_EXT,
    project_info.LESSON_MIME: project_info.LESSON_EXT,
}


def spec_list(name: str) -> list[str]:
    """A top-level list literal (EXCLUDES, DROP_BINARIES...) from the PyInstaller spec."""
    tree = ast.parse((PACKAGING / "vg-desktop.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if isinstance(target, ast.Name) and target.id == name:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in vg-desktop.spec")


def test_committed_icons_are_complete():
    assert load("render_icons").check() == []


def test_version_has_one_source():
    import vg_desktop

    assert project_info.version() == vg_desktop.__version__


def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "vg-desktop.desktop", encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application"
    assert desktop["Exec"] == "vg-desktop %f"
    assert desktop["Icon"] == project_info.EXE_NAME
    assert desktop["Name"] == project_info.APP_NAME
    assert set(filter(None, desktop["MimeType"].split(";"))) == set(DOCUMENT_TYPES)
    if shutil.which("desktop-file-validate"):
        subprocess.run(
            ["desktop-file-validate", str(PACKAGING / "linux" / "vg-desktop.desktop")], check=True
        )


def test_mime_types_register_both_extensions():
    root = ET.parse(PACKAGING / "linux" / "vg-desktop-mime.xml").getroot()
    globs = {
        node.get("type"): [g.get("pattern") for g in node.iter(f"{MIME_NS}glob")]
        for node in root.iter(f"{MIME_NS}mime-type")
    }
    assert globs == {mime: [f"*{ext}"] for mime, ext in DOCUMENT_TYPES.items()}


def test_inno_setup_script_is_per_user_and_associates_both_extensions():
    iss = (PACKAGING / "windows" / "vg-desktop.iss").read_text(encoding="utf-8")
    assert re.search(r"^PrivilegesRequired=lowest$", iss, flags=re.M)
    assert re.search(r"^DefaultDirName=\{autopf\}", iss, flags=re.M)
    assert "HKLM" not in iss and "HKCR" not in iss  # per-user: HKA is HKCU without admin rights
    for ext in DOCUMENT_TYPES.values():
        assert f"Software\\Classes\\{ext}\\OpenWithProgids" in iss
    assert "dist\\vg-desktop\\*" in iss


def test_macos_bundle_declares_both_document_types():
    spec = (PACKAGING / "vg-desktop.spec").read_text(encoding="utf-8")
    assert "CFBundleDocumentTypes" in spec and "UTExportedTypeDeclarations" in spec
    assert "project_info.EXPERIMENT_EXT" in spec and "project_info.LESSON_EXT" in spec


def imported_top_level_modules() -> set[str]:
    """Every absolute module name imported anywhere in vg_desktop (and its parents)."""
    names = set()
    for path in (ROOT / "vg_desktop").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in found:
                parts = name.split(".")
                names.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    return names


def test_bundle_excludes_nothing_the_app_imports():
    excluded = set(spec_list("EXCLUDES"))
    clash = sorted(name for name in imported_top_level_modules() if name in excluded)
    assert not clash, f"vg-desktop.spec excludes modules the app imports: {clash}"


def test_bundle_keeps_the_platform_plugins():
    dropped = " ".join(spec_list("DROP_BINARIES"))
    for plugin in ("qoffscreen", "qxcb", "qwayland", "qwindows", "qcocoa", "qsvg"):
        assert plugin not in dropped


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    "script", ["build_linux.sh", "linux/build_deb.sh", "smoke_test.sh", "build_macos.sh"]
)
def test_shell_scripts_parse(script):
    subprocess.run(["bash", "-n", str(PACKAGING / script)], check=True)


def test_icon_renderer_check_runs_without_qt():
    """The smoke test calls it with the system Python, where PySide6 may be missing."""
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.argv = ['x', '--check']; "
        f"sys.path.insert(0, {str(PACKAGING)!r}); import render_icons; "
        "raise SystemExit(render_icons.main())"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_digits_dataset_ships_in_every_package():
    """The handwritten digits are read from resources/datasets at run time: the PyInstaller
    bundle (which copies resources/ whole, minus DROP_BINARIES), the wheel's package data and
    the .deb's licence record must all carry them."""
    import fnmatch

    assert (ROOT / "resources" / "datasets" / "digits.csv.gz").is_file()
    spec_text = (PACKAGING / "vg-desktop.spec").read_text(encoding="utf-8")
    assert '(str(ROOT / "resources"), "resources")' in spec_text
    for pattern in spec_list("DROP_BINARIES"):
        assert not fnmatch.fnmatch("resources/datasets/digits.csv.gz", pattern)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"vg_desktop.resources.datasets" = ["*.csv.gz", "*.md"]' in pyproject
    assert '"vg_desktop.resources.datasets"]' in pyproject
    copyright_text = (PACKAGING / "linux" / "copyright").read_text(encoding="utf-8")
    assert "resources/datasets/digits.csv.gz" in copyright_text
    assert "CC-BY-4.0" in copyright_text
