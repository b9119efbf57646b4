"""The README's quick-start commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1]
    return re.findall(r"```bash\n(.+?)\n```", quick, flags=re.S)[:2]


def test_ci_runs_exactly_the_readme_test_command():
    launch, test = readme_commands()
    assert "vg-desktop" in launch and "pip install" in launch
    assert "pytest" in test
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci_lines, "'.ci/run' must call the README's test command verbatim"
