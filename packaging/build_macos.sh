#!/usr/bin/env bash
# Build "Vanishing Gradient Lab.app" and a drag-to-Applications disk image, on macOS 12 or newer.
#
#   bash packaging/build_macos.sh
#   SKIP_SELF_TEST=1 bash packaging/build_macos.sh      # do not run the frozen --self-test
#   VG_CODESIGN_IDENTITY="Developer ID Application: ..." bash packaging/build_macos.sh
#
# Needs: CPython 3.11+ from python.org (universal2) or Homebrew, Xcode command line tools
# (codesign, hdiutil ship with macOS), network access to PyPI for the first build. The .app is for
# the architecture of the Python that builds it (build on Apple silicon for arm64, on Intel for
# x86_64). Produces dist/Vanishing Gradient Lab.app and
# dist/vg-desktop-<version>-macos-<arch>.dmg. Without VG_CODESIGN_IDENTITY, PyInstaller signs
# ad hoc: the app runs on the build Mac, and elsewhere after right-click > Open (see
# packaging/README.md for Developer ID signing and notarization).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV=build/venv-pack
APP_NAME="Vanishing Gradient Lab"
APP="dist/$APP_NAME.app"

[ "$(uname -s)" = Darwin ] || { echo "build_macos: run this on macOS" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
# The app with its runtime dependencies (pyproject.toml) and PyInstaller; never the test tools.
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r packaging/requirements-build.txt .
"$VENV/bin/python" packaging/render_icons.py --check
VERSION="$("$VENV/bin/python" packaging/project_info.py version)"
ARCH="$(uname -m)"

echo "build_macos: PyInstaller -> $APP (version $VERSION, $ARCH)"
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/vg-desktop.spec
for needed in "$APP/Contents/MacOS/vg-desktop" "$APP/Contents/Info.plist" \
    "$APP/Contents/Resources/vg-desktop.icns"; do
  [ -e "$needed" ] || { echo "build_macos: missing: $needed" >&2; exit 1; }
done
plutil -lint "$APP/Contents/Info.plist"
echo "build_macos: app size $(du -sh "$APP" | cut -f1)"

if [ -z "${SKIP_SELF_TEST:-}" ]; then
  mkdir -p build/smoke
  "$APP/Contents/MacOS/vg-desktop" --self-test --duration 20 \
    --screenshot "$ROOT/build/smoke/macos-self-test.png"
fi

# A compressed, read-only disk image with the app and a link to /Applications.
DMG="dist/vg-desktop-$VERSION-macos-$ARCH.dmg"
STAGE=build/dmg
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "$APP_NAME $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
if [ -n "${VG_CODESIGN_IDENTITY:-}" ]; then
  codesign --force --sign "$VG_CODESIGN_IDENTITY" --timestamp "$DMG"
fi
echo "build_macos: installer $DMG ($(du -h "$DMG" | cut -f1))"
