"""Render the application icon from ``resources/icons/vg-desktop.svg`` to what desktops use.

    python packaging/render_icons.py          # (re)write every output below
    python packaging/render_icons.py --check  # exit 1 if an output is missing or has a wrong size
    python packaging/render_icons.py --check-installed /usr/share/icons/hicolor

Outputs (all committed, so a build needs nothing but the repository):

- ``resources/icons/hicolor/<N>x<N>/apps/vg-desktop.png`` for N in 16 24 32 48 64 128 256 512 —
  the freedesktop.org icon theme layout; the .deb copies this tree to /usr/share/icons/hicolor.
- ``resources/icons/vg-desktop.ico`` — Windows (executable, installer, file associations).
- ``resources/icons/vg-desktop.icns`` — macOS (the .app bundle).

Only PySide6 (QtSvg, part of PySide6-Essentials) is needed: the ICO and ICNS containers are
written here, with PNG-compressed images inside (ICO: supported since Windows Vista; ICNS: the
``ic07``-``ic14`` and ``icp4``/``icp5`` types, supported since Mac OS X 10.7), so Pillow is not
required.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "vg-desktop.svg"
NAME = "vg-desktop"
HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element type -> pixel size (the @2x types carry the same pixels as the next size up).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def hicolor_path(size: int, theme_dir: Path = ICONS / "hicolor") -> Path:
    return theme_dir / f"{size}x{size}" / "apps" / f"{NAME}.png"


def render_png(renderer, size: int) -> bytes:
    """The SVG drawn on a transparent ``size`` x ``size`` canvas, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.convertToFormat(QImage.Format.Format_ARGB32).save(buffer, "PNG"):
        raise RuntimeError(f"could not encode the {size}px icon as PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICO container (ICONDIR + one ICONDIRENTRY per image), PNG-compressed entries."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))  # reserved, type 1 = icon, count
    offset = 6 + 16 * len(sizes)
    entries, blobs = [], []
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256
        # width, height, palette colours, reserved, colour planes, bits per pixel, size, offset
        entries.append(struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset))
        blobs.append(blob)
        offset += len(blob)
    return header + b"".join(entries) + b"".join(blobs)


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ICNS container: 'icns', total length, then (type, length incl. 8-byte header, PNG)."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if it is not a PNG."""
    try:
        head = path.read_bytes()[:24]
    except OSError:
        return None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def check_theme(theme_dir: Path) -> list[str]:
    """Problems with the PNG sizes in an icon theme folder (empty if all are right)."""
    return [
        f"{hicolor_path(size, theme_dir)}: missing or not a {size}x{size} PNG"
        for size in HICOLOR_SIZES
        if png_size(hicolor_path(size, theme_dir)) != (size, size)
    ]


def check() -> list[str]:
    """Problems with the committed outputs (empty if all are present and the right size)."""
    problems = check_theme(ICONS / "hicolor")
    ico = ICONS / f"{NAME}.ico"
    data = ico.read_bytes() if ico.exists() else b""
    if data[:4] != b"\x00\x00\x01\x00" or struct.unpack("<H", data[4:6])[0] != len(ICO_SIZES):
        problems.append(
            f"{ico.relative_to(ROOT)}: missing or not an ICO with {len(ICO_SIZES)} images"
        )
    icns = ICONS / f"{NAME}.icns"
    data = icns.read_bytes() if icns.exists() else b""
    if data[:4] != b"icns" or struct.unpack(">I", data[4:8])[0] != len(data):
        problems.append(f"{icns.relative_to(ROOT)}: missing or not an ICNS file")
    return problems


def render() -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    sizes = sorted(set(HICOLOR_SIZES) | set(ICO_SIZES) | {s for _, s in ICNS_TYPES})
    pngs = {size: render_png(renderer, size) for size in sizes}
    written = []
    for size in HICOLOR_SIZES:
        path = hicolor_path(size)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pngs[size])
        written.append(path)
    ico = ICONS / f"{NAME}.ico"
    ico.write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    icns = ICONS / f"{NAME}.icns"
    icns.write_bytes(icns_bytes(pngs))
    return [*written, ico, icns]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only verify the committed outputs; render nothing"
    )
    parser.add_argument(
        "--check-installed",
        type=Path,
        metavar="THEME_DIR",
        help="only verify the PNG sizes installed in an icon theme folder",
    )
    args = parser.parse_args(argv)
    if args.check or args.check_installed:
        problems = check_theme(args.check_installed) if args.check_installed else check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    for path in render():
        print(f"{path.relative_to(ROOT)}  ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
