"""Issue 14 in the real window: File › Import Points… / Export Points…, the points kept in
.vgx files and at the next start, and a bad CSV that changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop import points_io
from vg_desktop.engine import CustomPoints, load_points_csv
from vg_desktop.engine.config import DataConfig


def write_points(path, n=60):
    rng = np.random.default_rng(7)
    names = ["oak", "ash", "elm"]
    lines = ["x1;x2;label"]
    for k in range(n):
        a, b = rng.standard_normal(2) * 0.5 + [k % 3 - 1.0, 0.3 * (k % 3)]
        lines.append(f"{float(a)!r};{float(b)!r};{names[k % 3]}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def shown(window, qtbot, name="custom"):
    """The first snapshot drawn for dataset ``name``."""
    qtbot.waitUntil(
        lambda: window.run_a.drawn is not None and window.run_a.drawn.config.data.name == name,
        timeout=10_000,
    )
    return window.run_a.drawn


def test_import_through_the_menu_trains_on_the_points(window, qtbot, tmp_path, monkeypatch):
    path = write_points(tmp_path / "trees.csv")
    monkeypatch.setattr(points_io.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.docks["dataset"].raise_()  # views behind another tab are drawn when they come forward
    window.import_points_action.trigger()
    snap = shown(window, qtbot)
    x, y, names = load_points_csv(path)
    assert names == ("ash", "elm", "oak")  # sorted
    assert snap.data_x.tobytes() == x.tobytes() and np.array_equal(snap.data_y, y)
    assert window.run_a.config.data == DataConfig.custom(CustomPoints(x, y, names))
    assert window.controls.dataset.currentData() == "custom"
    qtbot.waitUntil(lambda: window.dataset_plot.class_labels() == list(names), timeout=5000)
    assert "Imported 60 points in 3 classes" in window.statusBar().currentMessage()
    # training runs on them, from the same seed each time
    window.step()
    qtbot.waitUntil(lambda: window.run_a.latest.step >= 1, timeout=10_000)


def test_a_bad_file_through_the_menu_is_read_off_the_gui_thread(
    window, qtbot, tmp_path, monkeypatch
):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,a\n3,4,b\n5,6,a\n7,nan,b\n")
    monkeypatch.setattr(points_io.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    before = window.run_a.config
    read_on = []
    original = points_io.load_points_csv

    def spy(path):
        import threading

        read_on.append(threading.current_thread() is threading.main_thread())
        return original(path)

    monkeypatch.setattr(points_io, "load_points_csv", spy)
    window.last_error = ""
    window.import_points_action.trigger()
    qtbot.waitUntil(lambda: "line 4: x2 is nan" in window.last_error, timeout=5000)
    assert read_on == [False]
    assert window.run_a.config == before


def test_few_points_shrink_the_batch(window, qtbot, tmp_path):
    path = tmp_path / "four.csv"
    path.write_text("0,0,a\n1,1,b\n0,1,a\n1,0,b\n")
    assert points_io.import_points(window, path), window.last_error
    assert window.run_a.config.train.batch_size == 4
    assert window.controls.batch_size.value() == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1,2,a\n3,x,b\n", "line 2: x2 is 'x', not a number"),
        ("1,2,a\n3,4,a\n5,6,a\n7,8,a\n", "one class only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not text"),
        ("x1,x2,label\r\n", "header but no points"),
    ],
)
def test_a_bad_csv_shows_an_error_and_changes_nothing(window, qtbot, tmp_path, content, message):
    window.step()
    qtbot.waitUntil(lambda: window.run_a.latest.step >= 1, timeout=10_000)
    before_config, before_run = window.run_a.config, window.run_a.latest.run_id
    before_history = len(window.run_a.history)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert not points_io.import_points(window, bad)
    assert message in window.last_error and "unchanged" in window.last_error
    qtbot.wait(300)
    assert window.run_a.config == before_config and window.controls.config() == before_config
    assert window.run_a.latest.run_id == before_run  # not rebuilt
    assert len(window.run_a.history) >= before_history  # not cleared


def test_export_reads_back_identically(window, qtbot, tmp_path):
    assert points_io.import_points(window, write_points(tmp_path / "in.csv"))
    out = tmp_path / "out.csv"
    assert points_io.export_points(window, out), window.last_error
    x, y, names = load_points_csv(out)
    assert CustomPoints(x, y, names) == window.run_a.config.data.points
    # a generated dataset exports too (its classes as the legend names them)
    window.apply_config(window.run_a.config.__class__())
    assert points_io.export_points(window, out)
    x, y, names = load_points_csv(out)
    assert names == ("class 1", "class 2") and len(y) == 512


def test_save_open_and_next_start_keep_the_points(window, qtbot, tmp_path):
    from vg_desktop import files
    from vg_desktop.app import MainWindow
    from vg_desktop.engine import ExperimentConfig

    assert points_io.import_points(window, write_points(tmp_path / "in.csv"))
    custom = window.run_a.config
    assert files.save_to(window, tmp_path / "mine.vgx")
    window.apply_config(ExperimentConfig())
    assert window.run_a.config.data.name == "spiral"
    assert files.open_path(window, tmp_path / "mine.vgx"), window.last_error
    assert window.run_a.config == custom
    shown(window, qtbot)
    window.close()  # remembers the experiment
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert again.run_a.config == custom
        assert again.controls.dataset.currentData() == "custom"
    finally:
        again.close()


def test_your_points_come_back_after_switching_away(window, qtbot, tmp_path):
    assert points_io.import_points(window, write_points(tmp_path / "in.csv"))
    custom = window.run_a.config.data
    combo = window.controls.dataset
    combo.setCurrentIndex(combo.findData("moons"))
    assert window.run_a.config.data.name == "moons"
    combo.setCurrentIndex(combo.findData("custom"))
    assert window.run_a.config.data == custom


def test_your_points_before_any_explains_how(window):
    combo = window.controls.dataset
    combo.setCurrentIndex(combo.findData("custom"))
    assert window.run_a.config.data.name == "spiral"
    assert "Import Points" in window.controls.hint.text()
