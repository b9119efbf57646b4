"""Remembered preferences (QSettings): the last experiment, recent files, theme and zoom.

A broken store — a hand-edited file, a value of the wrong type, settings from a future version —
is ignored with a warning, never fatal: the app then starts from its defaults.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths

from .engine import DataConfig, ExperimentConfig
from .engine.bounded_read import FileTooLarge, read_bounded
from .engine.experiment import (
    ExperimentFileError,
    experiment_from_dict,
    experiment_to_dict,
    load_experiment,
)
from .engine.experiment import save_experiment as save_experiment_file

log = logging.getLogger(__name__)
MAX_RECENT = 8
MAX_FILE_BYTES = 4_000_000  # a settings file is a few kilobytes; anything huge is not ours


def _default_store_path() -> str | None:
    """Where ``QSettings()`` keeps its INI file on Linux (elsewhere: a registry or a plist)."""
    app = QCoreApplication.instance()
    if not sys.platform.startswith("linux") or app is None:
        return None
    org, name = app.organizationName(), app.applicationName()
    if not org or not name:
        return None
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return str(Path(folder) / org / f"{name}.conf")


def _special_file(path: str | None) -> str | None:
    """``path`` if it exists and is not a regular file (after following symlinks)."""
    if not path:
        return None
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else path


class SettingsStore:
    """Typed access to QSettings; every read survives garbage."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.warnings: list[str] = []
        if settings is None:
            # VG_DESKTOP_SETTINGS_FILE points the app at another store (tests, kiosk set-ups).
            path = os.environ.get("VG_DESKTOP_SETTINGS_FILE")
            special = _special_file(path or _default_store_path())
            if special is not None:
                # Qt would block for good reading a pipe: use a store for this session only.
                self._warn(
                    f"the settings file {special} is not a file (a pipe or device); "
                    "settings will not be remembered"
                )
                folder = tempfile.mkdtemp(prefix="vg-desktop-")
                atexit.register(shutil.rmtree, folder, ignore_errors=True)  # leave nothing
                path = str(Path(folder) / "settings.ini")
            settings = QSettings(path, QSettings.Format.IniFormat) if path else QSettings()
        self.settings = settings
        garbled = self._garbled_file()
        if garbled is not None or self.settings.status() != QSettings.Status.NoError:
            kept = self._keep_copy(garbled)
            note = f" (the old file was kept as {kept.name})" if kept else ""
            self._warn(f"the settings file could not be read; starting from defaults{note}")
            self.settings.clear()

    def _garbled_file(self) -> Path | None:
        """The store's file if it is binary garbage (QSettings reads that as "no keys", silently).

        Only text (INI) stores are checked: a macOS plist is binary by design.
        """
        text_store = self.settings.format() == QSettings.Format.IniFormat or (
            self.settings.format() == QSettings.Format.NativeFormat
            and sys.platform not in ("darwin", "win32")
        )
        path = Path(self.settings.fileName())
        if not text_store or not path.is_file():
            return None
        try:
            raw = read_bounded(path, MAX_FILE_BYTES)
            raw.decode("utf-8")
        except (UnicodeDecodeError, FileTooLarge):
            return path
        except OSError:
            return None  # unreadable: QSettings reports that through status()
        return path if b"\x00" in raw else None

    def _keep_copy(self, path: Path | None) -> Path | None:
        """Keep a corrupt store beside the new one (``settings.ini.corrupt``), best effort."""
        if path is None:
            path = Path(self.settings.fileName())
            if not path.is_file():
                return None
        copy = path.with_name(path.name + ".corrupt")
        try:
            shutil.copyfile(path, copy)
        except OSError:
            return None
        return copy

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning(message)

    # ---------------------------------------------------------------- experiment
    def _points_file(self) -> Path:
        """Where the last experiment goes when it holds a teacher's own points (up to ~5 MB,
        too much for a settings file): an experiment file beside the settings."""
        store = Path(self.settings.fileName() or "vg-desktop")
        folder = store.parent
        if not folder.is_dir():  # a registry path (Windows)
            folder = Path(
                QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
            )
        return folder / f"{store.stem or 'vg-desktop'}-last-points.vgx"

    def last_experiment(self) -> ExperimentConfig | None:
        file = self.settings.value("experiment/last_file")
        if file is not None:
            try:
                return load_experiment(str(file))
            except ExperimentFileError as exc:
                self._warn(f"the remembered points could not be read and were dropped ({exc})")
                self.settings.remove("experiment/last_file")
        raw = self.settings.value("experiment/last")
        if raw is None:
            return None
        try:
            return experiment_from_dict(json.loads(str(raw)))
        except (ValueError, TypeError) as exc:
            self._warn(f"the remembered settings were unusable and were reset ({exc})")
            self.settings.remove("experiment/last")
            return None

    def save_experiment(self, config: ExperimentConfig) -> None:
        if config.data.points is not None:
            path = self._points_file()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                save_experiment_file(config, path)
            except OSError as exc:
                self._warn(f"your points could not be remembered ({exc.strerror or exc})")
            else:
                self.settings.setValue("experiment/last_file", str(path))
                self.settings.remove("experiment/last")
                return
            # At least the rest of the settings, on the default data (batch sizes fit 512).
            config = replace(config, data=DataConfig(seed=config.data.seed))
        self.settings.remove("experiment/last_file")
        self.settings.setValue("experiment/last", json.dumps(experiment_to_dict(config)))

    # ---------------------------------------------------------------- recent files
    def recent_files(self) -> list[Path]:
        raw = self.settings.value("files/recent")
        try:
            items = json.loads(str(raw)) if raw is not None else []
            if not isinstance(items, list):
                raise TypeError("not a list")
            return [Path(p) for p in items if isinstance(p, str)][:MAX_RECENT]
        except (ValueError, TypeError):
            self._warn("the recent-files list was unreadable and was cleared")
            self.settings.remove("files/recent")
            return []

    def add_recent_file(self, path: Path) -> list[Path]:
        path = Path(path).resolve()
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT]
        self.settings.setValue("files/recent", json.dumps([str(p) for p in files]))
        return files

    def clear_recent_files(self) -> None:
        self.settings.remove("files/recent")

    # ---------------------------------------------------------------- simple values
    def text(self, key: str, default: str, allowed: tuple[str, ...] | None = None) -> str:
        value = self.settings.value(key, default)
        if not isinstance(value, str) or (allowed is not None and value not in allowed):
            if value is not None and value != default:
                self._warn(f"ignored the unusable setting {key}={value!r}")
                self.settings.remove(key)  # reset: warn once, not at every start
            return default
        return value

    def number(self, key: str, default: float, lo: float, hi: float) -> float:
        value = self.settings.value(key, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            self._warn(f"ignored the unusable setting {key}={value!r}")
            self.settings.remove(key)  # reset: warn once, not at every start
            return default
        return number if lo <= number <= hi else default

    def set(self, key: str, value) -> None:
        self.settings.setValue(key, value)

    def sync(self) -> None:
        self.settings.sync()
