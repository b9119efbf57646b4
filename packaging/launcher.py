"""PyInstaller entry script: the frozen ``vg-desktop`` executable runs ``vg_desktop.__main__``.

``vg_desktop/__main__.py`` uses package-relative imports, so it cannot itself be the top-level
script of a bundle; this file only calls its ``main()``, exactly as ``python -m vg_desktop`` does.
"""

import sys

from vg_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
