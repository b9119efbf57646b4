#!/usr/bin/env bash
# Packaging smoke test, one command, as root on Debian/Ubuntu:
#
#   sudo bash packaging/smoke_test.sh            # build, install, self-test, remove
#   sudo bash packaging/smoke_test.sh --no-build # reuse dist/vg-desktop and dist/*.deb
#
# 1. builds the PyInstaller bundle (dist/vg-desktop/) and the .deb (dist/vg-desktop_*.deb);
# 2. installs the .deb with dpkg -i (apt-get -f install fetches missing Depends, if any);
# 3. checks the launcher, the desktop entry (desktop-file-validate when installed), the MIME
#    types and the icons;
# 4. runs the *installed* `vg-desktop --self-test --duration $SMOKE_DURATION` (default 20 s)
#    with no network at all (a fresh network namespace from `unshare -n`), from an empty
#    directory with an empty environment, and keeps its screenshot in build/smoke/;
# 5. if xvfb-run is installed, starts the installed app normally on a virtual X server (the xcb
#    platform plugin and the system libraries it needs) and checks it keeps running;
# 6. removes the package and checks that its files are gone.
# The installer stays in dist/. Prints the bundle and installer sizes and each phase's time.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DURATION="${SMOKE_DURATION:-20}"
OUT=build/smoke
BUILD=1
[ "${1:-}" = "--no-build" ] && BUILD=0

declare -a TIMINGS=()
fail() {
  echo "SMOKE TEST FAILED: $*" >&2
  echo "packaging: ${#TIMINGS[@]} passed, 1 failed"  # phases done, and the one that failed
  exit 1
}
phase_start() { PHASE="$1"; PHASE_T0=$(date +%s.%N); echo; echo "=== $1"; }
phase_end() {
  local dt; dt=$(awk -v a="$PHASE_T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  TIMINGS+=("$(printf '%-34s %7s s' "$PHASE" "$dt")")
}

[ "$(id -u)" = 0 ] || fail "run as root (dpkg -i and unshare -n need it)"
command -v dpkg >/dev/null || fail "dpkg not found: this test needs Debian or Ubuntu"
unshare -n true 2>/dev/null || fail "unshare -n does not work here (util-linux, root needed)"
T0=$(date +%s.%N)
mkdir -p "$OUT"

if [ "$BUILD" = 1 ]; then
  phase_start "build bundle (PyInstaller)"
  bash packaging/build_linux.sh bundle || fail "the bundle did not build"
  phase_end
  phase_start "build .deb (dpkg-deb)"
  bash packaging/build_linux.sh deb || fail "the .deb did not build"
  phase_end
fi
DEB="$(ls -t dist/vg-desktop_*.deb 2>/dev/null | head -n 1)"
[ -n "$DEB" ] || fail "no dist/vg-desktop_*.deb"
VERSION="$(python3 packaging/project_info.py version)"

phase_start "install (dpkg -i)"
if ! dpkg -i "$DEB"; then
  command -v apt-get >/dev/null || fail "dpkg -i failed and apt-get is not available"
  echo "dpkg -i left dependencies unmet; fetching them with apt-get -f install"
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq --no-install-recommends >/dev/null
fi
[ "$(dpkg-query -W -f='${Status}' vg-desktop 2>/dev/null)" = "install ok installed" ] ||
  fail "vg-desktop is not installed after dpkg -i"
phase_end

phase_start "check installed files"
INSTALLED_FILES=(
  /usr/bin/vg-desktop /opt/vg-desktop/vg-desktop
  /usr/share/applications/vg-desktop.desktop /usr/share/mime/packages/vg-desktop.xml
  /usr/share/icons/hicolor/scalable/apps/vg-desktop.svg /usr/share/doc/vg-desktop/copyright
)
for size in 16 24 32 48 64 128 256 512; do
  INSTALLED_FILES+=("/usr/share/icons/hicolor/${size}x${size}/apps/vg-desktop.png")
done
for f in "${INSTALLED_FILES[@]}"; do [ -e "$f" ] || fail "missing after install: $f"; done
[ -x /usr/bin/vg-desktop ] || fail "/usr/bin/vg-desktop is not executable"
[ "$(command -v vg-desktop)" = /usr/bin/vg-desktop ] || fail "vg-desktop is not /usr/bin/vg-desktop on PATH"
grep -qx 'Exec=vg-desktop %f' /usr/share/applications/vg-desktop.desktop || fail "desktop entry Exec"
grep -qx 'Icon=vg-desktop' /usr/share/applications/vg-desktop.desktop || fail "desktop entry Icon"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate /usr/share/applications/vg-desktop.desktop || fail "desktop-file-validate"
  echo "desktop entry: valid (desktop-file-validate)"
else
  echo "desktop entry: present (desktop-file-validate not installed: apt-get install desktop-file-utils)"
fi
if command -v update-mime-database >/dev/null; then  # postinst ran it: the types must be known
  for type in x-vg-desktop-experiment x-vg-desktop-lesson; do
    [ -e "/usr/share/mime/application/$type.xml" ] || fail "MIME type application/$type not registered"
  done
  echo "MIME types: application/x-vg-desktop-experiment (*.vgx), application/x-vg-desktop-lesson (*.vglesson)"
fi
python3 packaging/render_icons.py --check-installed /usr/share/icons/hicolor ||
  fail "installed icons have wrong sizes"
echo "icons: scalable + 16..512 px in /usr/share/icons/hicolor"
# A clean environment, outside the checkout, so nothing from the source tree or a venv can help.
CLEAN_ENV=(env -i "HOME=$ROOT/$OUT/home" "PATH=/usr/bin:/bin" "LANG=C.UTF-8")
mkdir -p "$OUT/home"
reported="$(cd / && "${CLEAN_ENV[@]}" vg-desktop --version)"
[ "$reported" = "vg-desktop $VERSION" ] || fail "vg-desktop --version says '$reported', expected $VERSION"
echo "vg-desktop --version: $reported"
phase_end

phase_start "self-test, installed, offline"
SHOT="$ROOT/$OUT/installed-self-test.png"
rm -f "$SHOT"
# The namespace has only a loopback interface, and it is down: not even 127.0.0.1 is reachable.
unshare -n -- python3 -c '
import socket, sys
names = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
try:
    socket.create_connection(("127.0.0.1", 9), timeout=1)
except OSError as exc:
    print(f"network namespace: interfaces {names}; connecting to 127.0.0.1: {exc.strerror}")
else:
    sys.exit("network namespace: a connection succeeded")
' || fail "unshare -n did not cut the network"
set +e
(cd "$OUT/home" && "${CLEAN_ENV[@]}" unshare -n -- \
  vg-desktop --self-test --duration "$DURATION" --screenshot "$SHOT")
status=$?
set -e
[ "$status" = 0 ] || fail "installed vg-desktop --self-test exited with status $status"
[ -s "$SHOT" ] || fail "the self-test saved no screenshot at $SHOT"
echo "screenshot: $SHOT"
phase_end

if command -v xvfb-run >/dev/null; then
  # The self-test draws offscreen; this starts the installed app the normal way on an X server
  # (Xvfb), which needs the xcb platform plugin and every library it links to (libxcb-cursor0...).
  phase_start "real window on X11 (Xvfb, 8 s)"
  (cd "$OUT/home" && "${CLEAN_ENV[@]}" QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" \
    sh -c 'vg-desktop & pid=$!; sleep 8
           if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid"; echo "running; quit with status $?"
           else wait "$pid"; echo "exited early with status $?"; fi') > "$OUT/x11.log" 2>&1 || true
  cat "$OUT/x11.log"
  grep -q '^running; quit with status' "$OUT/x11.log" || fail "the installed app did not keep running on X11"
  ! grep -qi 'could not load the qt platform plugin\|qt.qpa.plugin' "$OUT/x11.log" ||
    fail "the xcb platform plugin did not load"
  phase_end
else
  echo; echo "(xvfb-run not installed: skipping the real-window check; apt-get install xvfb xauth)"
fi

phase_start "remove (dpkg -r)"
dpkg -r vg-desktop >/dev/null
for f in "${INSTALLED_FILES[@]}" /opt/vg-desktop; do
  [ ! -e "$f" ] || fail "still present after dpkg -r: $f"
done
dpkg --purge vg-desktop >/dev/null  # also forget the maintainer scripts: leave no trace
phase_end

BUNDLE_SIZE="$(du -sh dist/vg-desktop | cut -f1)"
DEB_SIZE="$(du -h "$DEB" | cut -f1)"
TOTAL=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
echo
echo "=== packaging smoke test passed"
printf '%-34s %8s\n' "bundle dist/vg-desktop" "$BUNDLE_SIZE"
printf '%-34s %8s\n' "installer $DEB" "$DEB_SIZE"
printf '%s\n' "${TIMINGS[@]}"
printf '%-34s %7s s\n' "total" "$TOTAL"
echo "packaging: ${#TIMINGS[@]} passed, 0 failed"
