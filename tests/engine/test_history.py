"""RunHistory: bounded memory, even decimation that keeps the start and the latest steps."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.engine import HistoryStride, RunHistory
from vg_desktop.engine.history import FIELDS_PER_LAYER

DEPTH = 3


def layer_values(step: int) -> dict[str, np.ndarray]:
    """Per-layer values that encode the step, so decimation errors show up as wrong values."""
    return {
        "signal_grad_norm": step + np.arange(DEPTH) / 10.0,  # hidden layers only
        "weight_grad_norm": step + np.arange(DEPTH + 1) / 10.0,
        "update_ratio": np.full(DEPTH + 1, step * 1e-3),
        "saturated_fraction": np.full(DEPTH, 0.5),
        "mean_derivative": np.full(DEPTH, 0.25),
        "stream_grad_norm": step + np.arange(DEPTH) / 100.0,
    }


def record(history: RunHistory, steps) -> None:
    for step in steps:
        history.append(step, float(step) * 0.5, 0.75, **layer_values(step))


def array_bytes(history: RunHistory) -> int:
    """Bytes held by every NumPy array the history owns (flat memory means this never grows)."""
    total = 0
    for value in vars(history).values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
        elif isinstance(value, dict):
            total += sum(v.nbytes for v in value.values() if isinstance(v, np.ndarray))
    return total


def test_short_run_keeps_every_step():
    history = RunHistory(depth=DEPTH, capacity=64)
    record(history, range(1, 41))
    assert len(history) == 40
    np.testing.assert_array_equal(history.steps, np.arange(1, 41))
    np.testing.assert_array_equal(history.loss, np.arange(1, 41) * 0.5)
    np.testing.assert_array_equal(history.accuracy, 0.75)


@pytest.mark.parametrize("first", [0, 1], ids=["from-step-0", "from-step-1"])
def test_long_run_stays_bounded_and_evenly_decimated(first):
    history = RunHistory(depth=DEPTH, capacity=32)
    memory = array_bytes(history)
    last = first + 3000
    for step in range(first, last + 1):
        record(history, [step])
        assert len(history) <= history.capacity
    assert array_bytes(history) == memory

    steps = history.steps
    assert len(steps) >= history.capacity // 2  # decimation halves, it does not empty
    assert steps[0] == first, "the first step of the run must stay visible"
    gaps = np.diff(steps)
    assert np.all(gaps == gaps[0]), "the recorded steps must be evenly spaced"
    assert gaps[0] == history.stride and history.stride & (history.stride - 1) == 0
    assert steps[-1] > last - history.stride, "the latest steps must stay visible"
    # The values that survived belong to their steps.
    np.testing.assert_array_equal(history.loss, steps * 0.5)
    np.testing.assert_array_equal(history.layer_field("weight_grad_norm")[:, 0], steps)


def test_capacity_is_even_and_at_least_sixteen():
    assert RunHistory(depth=1, capacity=3).capacity == 16
    assert RunHistory(depth=1, capacity=101).capacity == 100


def test_layer_fields_have_an_output_column_left_nan_for_hidden_only_fields():
    history = RunHistory(depth=DEPTH, capacity=32)
    record(history, [1, 2])
    signal = history.layer_field("signal_grad_norm")
    assert signal.shape == (2, DEPTH + 1)
    np.testing.assert_allclose(signal[:, :DEPTH], [[1.0, 1.1, 1.2], [2.0, 2.1, 2.2]])
    assert np.all(np.isnan(signal[:, DEPTH]))
    weight = history.layer_field("weight_grad_norm")
    np.testing.assert_allclose(weight[1], [2.0, 2.1, 2.2, 2.3])


def test_rows_yield_one_row_per_step_and_layer():
    history = RunHistory(depth=DEPTH, capacity=32)
    record(history, [1, 2, 3])
    rows = list(history.rows())
    assert len(rows) == 3 * (DEPTH + 1)
    assert [(r[0], r[1]) for r in rows] == [(s, layer) for s in (1, 2, 3) for layer in (1, 2, 3, 4)]
    assert all(len(r) == 4 + len(FIELDS_PER_LAYER) for r in rows)
    step, layer, loss, accuracy, *fields = rows[5]  # step 2, layer 2
    assert (step, layer, loss, accuracy) == (2, 2, 1.0, 0.75)
    values = dict(zip(FIELDS_PER_LAYER, fields, strict=True))
    assert values["signal_grad_norm"] == pytest.approx(2.1)
    assert values["weight_grad_norm"] == pytest.approx(2.1)
    assert values["mean_derivative"] == 0.25
    assert values["stream_grad_norm"] == pytest.approx(2.01)
    output_row = dict(zip(FIELDS_PER_LAYER, rows[3][4:], strict=True))  # step 1, output layer
    assert np.isnan(output_row["signal_grad_norm"]) and np.isnan(output_row["stream_grad_norm"])
    assert output_row["weight_grad_norm"] == pytest.approx(1.3)


def test_clear_starts_over():
    history = RunHistory(depth=DEPTH, capacity=16)
    record(history, range(100))
    history.clear()
    assert len(history) == 0 and history.stride == 1
    record(history, [1])
    np.testing.assert_array_equal(history.steps, [1])


@pytest.mark.parametrize("first", [0, 1, 7])
def test_history_stride_predicts_exactly_the_steps_a_history_keeps(first):
    """The training loop computes statistics only for the steps the window's history keeps:
    the stride mirror must agree with a RunHistory, step for step, through several halvings."""
    history = RunHistory(depth=2, capacity=16)
    mirror = HistoryStride(capacity=16)
    kept_by_mirror = []
    for step in range(first, first + 600):
        expected = mirror.keeps(step)
        if expected:
            mirror.add(step)
            kept_by_mirror.append(step)
        history.append(step, 0.5, 0.5, signal_grad_norm=np.ones(2))
        recorded = len(history) > 0 and history.steps[-1] == step
        assert recorded == expected, step
        assert mirror.stride == history.stride
    # fed only the steps the mirror keeps, a history ends with the same rows
    thin = RunHistory(depth=2, capacity=16)
    for step in kept_by_mirror:
        thin.append(step, 0.5, 0.5, signal_grad_norm=np.ones(2))
    assert thin.steps.tolist() == history.steps.tolist()
    assert history.stride >= 32  # it halved several times


def _resident_kb() -> int:
    """Resident memory (Linux; 0 elsewhere, where the memory check below cannot fail)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    except OSError:
        return 0


def test_a_field_not_given_reads_nan_and_a_new_history_touches_no_memory():
    """The per-layer arrays start uninitialized (a depth-200 history is 33 MB, allocated on
    the GUI thread for every new run): every row read must have been written whole."""
    before = _resident_kb()
    history = RunHistory(depth=200)
    assert _resident_kb() - before < 16_000  # not the 33 MB that filling them touches
    history.append(1, 0.5, 0.5, weight_grad_norm=np.ones(201))
    for name in FIELDS_PER_LAYER:
        row = history.layer_field(name)[0]
        if name == "weight_grad_norm":
            np.testing.assert_array_equal(row, 1.0)
        else:
            assert np.isnan(row).all(), name
    # The output layer's column of a hidden-layer field is NaN, whatever the memory held.
    history.append(2, 0.5, 0.5, signal_grad_norm=np.ones(200))
    assert np.isnan(history.layer_field("signal_grad_norm")[1, 200])


def test_dataset_series_is_kept_and_thinned():
    history = RunHistory(depth=DEPTH, capacity=16)
    for step in range(40):
        history.append_dataset(step * 10, 1.0 / (step + 1), step / 40)
    assert len(history.dataset_steps) <= 16
    assert np.all(np.diff(history.dataset_steps) > 0) and history.dataset_steps[-1] == 390
    assert history.dataset_loss[-1] == pytest.approx(1 / 40)
    history.clear()
    assert history.dataset_steps.size == 0
