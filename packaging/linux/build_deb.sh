#!/usr/bin/env bash
# Build dist/vg-desktop_<version>_<arch>.deb from the PyInstaller bundle in dist/vg-desktop/.
#
#   bash packaging/linux/build_deb.sh        (run packaging/build_linux.sh first, or let it call us)
#
# Layout installed by the package:
#   /opt/vg-desktop/                               the one-folder bundle (vg-desktop + _internal/)
#   /usr/bin/vg-desktop                            launcher (a two-line shell script)
#   /usr/share/applications/vg-desktop.desktop     menu entry, opens .vgx and .vglesson files
#   /usr/share/mime/packages/vg-desktop.xml        the two document types (*.vgx, *.vglesson)
#   /usr/share/icons/hicolor/{16..512}/apps/vg-desktop.png, scalable/apps/vg-desktop.svg
#   /usr/share/doc/vg-desktop/copyright
#
# Environment: DEB_MAINTAINER ("Name <email>") overrides the Maintainer field; DEB_COMPRESSION
# (xz, the default and smallest; zstd builds in a second but is 35 % larger) picks the compressor.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
HERE=packaging/linux
BUNDLE=dist/vg-desktop
PYTHON="${PYTHON:-python3}"

[ -x "$BUNDLE/vg-desktop" ] || { echo "build_deb: no bundle at $BUNDLE (run packaging/build_linux.sh)" >&2; exit 1; }
command -v dpkg-deb >/dev/null || { echo "build_deb: dpkg-deb not found (Debian/Ubuntu: dpkg)" >&2; exit 1; }

VERSION="$("$PYTHON" packaging/project_info.py version)"
# Debian orders 1.0~rc1 before 1.0; PEP 440 writes 1.0rc1.
DEB_VERSION="$(printf '%s' "$VERSION" | sed -E 's/^([0-9.]+)(a|b|rc)([0-9]+)$/\1~\2\3/')"
ARCH="$("$PYTHON" packaging/project_info.py deb-arch)"
MAINTAINER="${DEB_MAINTAINER:-Vanishing Gradient Lab maintainers <vg-desktop@users.noreply.github.com>}"
OUT="dist/vg-desktop_${DEB_VERSION}_${ARCH}.deb"

# The system libraries the bundled Qt, Python and NumPy link against (the spec leaves them out of
# the bundle on purpose: see "Linux" in packaging/vg-desktop.spec). "a | b" covers the 64-bit
# time_t renames of Debian 13 / Ubuntu 24.04. check_depends below fails the build if the bundle
# needs a library from a package that is not listed here.
DEPENDS_BASE=(
  "libstdc++6" "libgcc-s1" "zlib1g" "libzstd1" "liblzma5" "libbz2-1.0" "libffi8"
  "libglib2.0-0t64 | libglib2.0-0" "libdbus-1-3" "libfontconfig1" "libfreetype6"
  "libgl1" "libegl1"
  "libx11-6" "libx11-xcb1" "libxcb1" "libxcb-cursor0" "libxcb-glx0" "libxcb-icccm4"
  "libxcb-image0" "libxcb-keysyms1" "libxcb-randr0" "libxcb-render-util0" "libxcb-render0"
  "libxcb-shape0" "libxcb-shm0" "libxcb-sync1" "libxcb-util1" "libxcb-xfixes0" "libxcb-xkb1"
  "libxkbcommon0" "libxkbcommon-x11-0"
  "libwayland-client0" "libwayland-cursor0" "libwayland-egl1"
)
RECOMMENDS="fonts-dejavu-core | fonts-liberation2 | fonts-noto-core"
# Plugins whose libraries are optional: Qt loads them only when the desktop has those libraries.
OPTIONAL_PLUGINS_RE='/platformthemes/libqgtk3\.so$'

elf_files() {  # every ELF file in the bundle
  find "$BUNDLE" -type f \( -name '*.so*' -o -name 'vg-desktop' \) -print0 |
    while IFS= read -r -d '' f; do
      if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then printf '%s\n' "$f"; fi
    done
}

# Libraries that the bundle needs but does not contain: "soname<TAB>needed-by".
external_libraries() {
  local bundled needed f
  bundled="$(find "$BUNDLE" \( -type f -o -type l \) -printf '%f\n' | sort -u)"
  elf_files | while IFS= read -r f; do
    [[ "$f" =~ $OPTIONAL_PLUGINS_RE ]] && continue
    readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
      while IFS= read -r needed; do
        grep -qxF "$needed" <<<"$bundled" || printf '%s\t%s\n' "$needed" "${f#"$BUNDLE"/}"
      done
  done | sort -u -k1,1
}

# The minimum glibc: the highest GLIBC_x.y symbol version any bundled binary asks for.
glibc_minimum() {
  elf_files | xargs -d '\n' objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9.]*' |
    sed 's/GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n -u | awk 'END {print}'
}

package_of() {  # the Debian package that owns a library file (usrmerge: try both spellings)
  local path="$1" candidate out
  for candidate in "$path" "$(readlink -f "$path")" "/usr${path}" "${path#/usr}"; do
    out="$(dpkg -S "$candidate" 2>/dev/null)" || continue
    printf '%s\n' "${out%%:*}"
    return 0
  done
  return 1
}

check_depends() {  # every external library must come from a package in Depends (or libc6)
  local listed soname by path pkg missing=0 cache
  cache="$(ldconfig -p)"
  listed=" libc6 $(printf '%s\n' "${DEPENDS_BASE[@]}" | tr '|' '\n' | sed 's/(.*//' | xargs) "
  while IFS=$'\t' read -r soname by; do
    path="$(awk -v n="$soname" '$1 == n && !found {print $NF; found = 1}' <<<"$cache")"
    if [ -z "$path" ]; then
      echo "build_deb: note: $soname (needed by $by) is not installed here; cannot check its package" >&2
      continue
    fi
    pkg="$(package_of "$path" || true)"
    if [ -z "$pkg" ]; then
      echo "build_deb: note: $soname ($path) belongs to no Debian package here" >&2
    elif [[ "$listed" != *" $pkg "* ]]; then
      echo "build_deb: ERROR: $soname (needed by $by) comes from package $pkg, which is not in Depends" >&2
      missing=1
    fi
  done < <(external_libraries)
  return "$missing"
}

echo "build_deb: checking the bundle's system libraries against Depends"
check_depends
GLIBC_MIN="$(glibc_minimum)"
DEPENDS="libc6 (>= ${GLIBC_MIN})"
for dep in "${DEPENDS_BASE[@]}"; do DEPENDS+=", $dep"; done

STAGE=build/deb/root
rm -rf build/deb
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/mime/packages" "$STAGE/usr/share/icons/hicolor/scalable/apps" \
  "$STAGE/usr/share/doc/vg-desktop"
cp -a "$BUNDLE" "$STAGE/opt/vg-desktop"
install -m 0755 "$HERE/vg-desktop.sh" "$STAGE/usr/bin/vg-desktop"
install -m 0644 "$HERE/vg-desktop.desktop" "$STAGE/usr/share/applications/vg-desktop.desktop"
install -m 0644 "$HERE/vg-desktop-mime.xml" "$STAGE/usr/share/mime/packages/vg-desktop.xml"
install -m 0644 resources/icons/vg-desktop.svg \
  "$STAGE/usr/share/icons/hicolor/scalable/apps/vg-desktop.svg"
for png in resources/icons/hicolor/*/apps/vg-desktop.png; do
  size_dir="$(basename "$(dirname "$(dirname "$png")")")"
  install -D -m 0644 "$png" "$STAGE/usr/share/icons/hicolor/$size_dir/apps/vg-desktop.png"
done
install -m 0644 "$HERE/copyright" "$STAGE/usr/share/doc/vg-desktop/copyright"
install -m 0755 "$HERE/postinst" "$HERE/postrm" "$STAGE/DEBIAN/"
# Debian permissions: directories 0755, files 0644 or 0755, nothing group/world-writable.
find "$STAGE" -type d -exec chmod 0755 {} +
chmod -R go-w,a+rX "$STAGE"

INSTALLED_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
DESCRIPTION="$("$PYTHON" packaging/project_info.py description)"
cat > "$STAGE/DEBIAN/control" <<EOF
Package: vg-desktop
Version: ${DEB_VERSION}
Architecture: ${ARCH}
Maintainer: ${MAINTAINER}
Installed-Size: ${INSTALLED_KB}
Depends: ${DEPENDS}
Recommends: ${RECOMMENDS}
Section: education
Priority: optional
Description: ${DESCRIPTION%%:*} - see gradients vanish, and each cure work
 ${DESCRIPTION}
 .
 A real NumPy network trains in the background while the window shows, live, the
 gradient that reaches each layer and where each layer's pre-activations fall on
 the activation's derivative curve. Switch sigmoid to ReLU, turn on residual
 connections or batch normalization, and watch the first layers come back to
 life. Made for classrooms and projectors; works fully offline.
 .
 The application is self-contained (its own Python, NumPy, PySide6/Qt and
 pyqtgraph) in /opt/vg-desktop; the command is vg-desktop.
EOF
(cd "$STAGE" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) \
  > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

mkdir -p dist
rm -f dist/vg-desktop_*.deb
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$OUT" >/dev/null
echo "build_deb: $OUT ($(du -h "$OUT" | cut -f1), installs $((INSTALLED_KB / 1024)) MiB)"
echo "build_deb: Depends: $DEPENDS"
