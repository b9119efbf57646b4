"""Issue 13 in the real window: distance from initialization in the bars, heatmap, history and
export."""

from __future__ import annotations

import csv

import numpy as np

from vg_desktop import files


def wait_drawn(qtbot, win):
    qtbot.waitUntil(lambda: win._drawn is not None and win._drawn is win._latest, timeout=5000)
    return win._drawn


def test_distance_from_init_is_a_quantity_of_the_bars_heatmap_and_history(qtbot, window, tmp_path):
    q = window.quantity
    row = q.findData("distance")
    assert row >= 0 and not q.view().isRowHidden(row)  # offered in simple mode too
    window.set_quantity("distance")
    assert window.bars.quantity() == "distance"
    assert "‖W−W₀‖/‖W₀‖" in window.bars.axis_label()
    for _ in range(5):
        window.controller.step()
    qtbot.waitUntil(lambda: window._latest is not None and window._latest.step >= 5, timeout=8000)
    snap = wait_drawn(qtbot, window)
    depth = snap.depth
    assert snap.distance_from_init.shape == (depth + 1,)
    np.testing.assert_allclose(window.bars.target_heights(), np.log10(snap.distance_from_init))
    assert "Layer 1's weights moved" in window.headline.text()
    history = window.run_a.history.layer_field("distance_from_init")
    assert history.shape[1] == depth + 1
    assert np.all(history[0] == 0.0)  # step 1's statistics: before its update, nothing moved
    assert np.all(history[-1] > 0.0)
    out = tmp_path / "history.csv"
    assert files.export_to(window, "history", out)
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert "distance_from_init" in rows[0]
    last_step = max(int(r["step"]) for r in rows)
    exported = [float(r["distance_from_init"]) for r in rows if int(r["step"]) == last_step]
    np.testing.assert_allclose(exported, history[-1])
