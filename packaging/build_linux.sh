#!/usr/bin/env bash
# Build the Linux bundle (dist/vg-desktop/) and the Debian package (dist/vg-desktop_*.deb).
#
#   bash packaging/build_linux.sh            # both
#   bash packaging/build_linux.sh bundle     # only the PyInstaller bundle
#   bash packaging/build_linux.sh deb        # only the .deb, from an existing bundle
#
# The build runs in its own virtual environment, build/venv-pack, holding the app's runtime
# dependencies (from pyproject.toml) and PyInstaller, never the test tools. PYTHON selects the
# interpreter it is made from (default python3; 3.11 or newer, built with --enable-shared as
# pyenv, Debian and python.org builds are). Needs: a C library and binutils (ldd, objdump,
# readelf, strip), dpkg-deb for the .deb. Network access to PyPI only for the first venv.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV=build/venv-pack
PHASES=("${@:-bundle deb}")
PHASES=(${PHASES[*]})

build_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "build_linux: creating $VENV with $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  # The app with its runtime dependencies (installed, so PyInstaller can copy its metadata and
  # vg_desktop.__version__ works frozen), and PyInstaller.
  mkdir -p build
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
      -r packaging/requirements-build.txt . > build/pip-install.log 2>&1; then
    cat build/pip-install.log >&2
    echo "build_linux: pip install failed (log above, also in build/pip-install.log)" >&2
    exit 1
  fi
}

build_bundle() {
  build_venv
  "$VENV/bin/python" packaging/render_icons.py --check ||
    { echo "build_linux: icons missing: run python packaging/render_icons.py" >&2; exit 1; }
  echo "build_linux: PyInstaller ($("$VENV/bin/pyinstaller" --version))"
  "$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist \
    --workpath build/pyinstaller packaging/vg-desktop.spec
  # What the headless self-test and a real desktop need must be in the bundle.
  local qt=dist/vg-desktop/_internal/PySide6/Qt/plugins
  for needed in "$qt/platforms/libqoffscreen.so" "$qt/platforms/libqxcb.so" \
      "$qt/platforms/libqwayland.so" "$qt/iconengines/libqsvgicon.so" \
      "$qt/imageformats/libqsvg.so" dist/vg-desktop/_internal/resources/icons/vg-desktop.svg; do
    [ -e "$needed" ] || { echo "build_linux: missing from the bundle: $needed" >&2; exit 1; }
  done
  echo "build_linux: bundle dist/vg-desktop ($(du -sh dist/vg-desktop | cut -f1))"
}

for phase in "${PHASES[@]}"; do
  case "$phase" in
    bundle) build_bundle ;;
    deb) PYTHON="$PYTHON" bash packaging/linux/build_deb.sh ;;
    *) echo "usage: $0 [bundle] [deb]" >&2; exit 2 ;;
  esac
done
