"""Build every plot from real engine runs and save PNG screenshots, to look at them.

    python tools/plots_demo.py OUTDIR [--steps 50] [--size 1000x600]

Scenarios: sigmoid + Xavier (the vanishing gradient), ReLU + He, sigmoid + batch norm, each at
depth 30, a diverging run, and the sigmoid run again in the dark and presentation themes; then
extras (``--only extra``): an A/B comparison, a depth-200 stack (before and after fit_to) and a
narrow docked bar plot. Runs offscreen (QT_QPA_PLATFORM=offscreen unless already set).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PySide6.QtWidgets import QApplication, QWidget

from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    RunHistory,
    TrainConfig,
    TrainingRun,
)
from vg_desktop.snapshot import DecisionGrid, HistoryChunk, Snapshot, snapshot_from_stats


@dataclass(frozen=True)
class Scenario:
    tag: str
    network: NetworkConfig
    theme: str = "light"
    learning_rate: float = 0.1


SCENARIOS = (
    Scenario("a_sigmoid_xavier", NetworkConfig(depth=30, activation="sigmoid", init="xavier")),
    Scenario("b_relu_he", NetworkConfig(depth=30, activation="relu", init="he")),
    Scenario(
        "c_sigmoid_batchnorm",
        NetworkConfig(depth=30, activation="sigmoid", init="xavier", normalization="batch"),
    ),
    Scenario(
        "d_diverged_residual_relu",
        NetworkConfig(depth=30, activation="relu", init="he", residual=True, width=64),
        learning_rate=0.5,
    ),
    Scenario("e_sigmoid_dark", NetworkConfig(depth=30, activation="sigmoid"), theme="dark"),
    Scenario(
        "f_sigmoid_presentation",
        NetworkConfig(depth=30, activation="sigmoid"),
        theme="presentation",
    ),
)


def decision_grid(run: TrainingRun, n: int = 120) -> DecisionGrid:
    """The network's prediction on an n × n grid over the data (plus a margin)."""
    lo, hi = run.x.min(axis=0), run.x.max(axis=0)
    margin = 0.1 * (hi - lo)
    xs = np.linspace(lo[0] - margin[0], hi[0] + margin[0], n)
    ys = np.linspace(lo[1] - margin[1], hi[1] + margin[1], n)
    gx, gy = np.meshgrid(xs, ys)
    proba = run.network.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))
    predicted = np.argmax(proba, axis=1).reshape(n, n)
    confidence = np.max(proba, axis=1).reshape(n, n)
    return DecisionGrid(xs=xs, ys=ys, predicted=predicted, confidence=confidence)


def train(scenario: Scenario, steps: int) -> tuple[Snapshot, RunHistory]:
    config = ExperimentConfig(
        network=scenario.network,
        data=DataConfig(name="spiral", n_samples=512, noise=0.1),
        train=TrainConfig(learning_rate=scenario.learning_rate, batch_size=64),
    )
    run = TrainingRun(config)
    history = RunHistory(scenario.network.depth)
    stats = run.probe()
    diverged = False
    for step in range(1, steps + 1):
        stats = run.step()
        history.append(
            step,
            stats.loss,
            stats.accuracy,
            signal_grad_norm=stats.signal_grad_norms,
            weight_grad_norm=stats.weight_grad_norms,
            update_ratio=stats.update_ratios,
        )
        if not stats.finite:
            diverged = True
            break
    snapshot = snapshot_from_stats(
        stats,
        run_id=1,
        step=run.step_count,
        config=config,
        data_x=run.x,
        data_y=run.y,
        history=HistoryChunk.empty(scenario.network.depth),
        decision=decision_grid(run),
        diverged=diverged,
        message=f"loss became NaN at step {run.step_count}" if diverged else "",
    )
    return snapshot, history


def save(widget: QWidget, path: Path, size: tuple[int, int]) -> None:
    widget.resize(*size)
    widget.show()
    app = QApplication.instance()
    for _ in range(3):  # layouts settle over a few passes (axis widths, legends)
        app.processEvents()
    widget.grab().save(str(path))
    print(path)


def render(scenario: Scenario, steps: int, outdir: Path, size: tuple[int, int]) -> None:
    from vg_desktop.plots import (
        THEMES,
        ActivationPlot,
        DatasetPlot,
        GradientBarsPlot,
        GradientHeatmap,
        TrainingCurvesPlot,
    )

    theme = THEMES[scenario.theme]
    snap, history = train(scenario, steps)
    layer = 0  # the input side, where vanishing shows first
    tag = scenario.tag

    bars = GradientBarsPlot()
    bars.apply_theme(theme)
    bars.set_animated(False)
    bars.set_selected_layer(layer)
    bars.show_values(snap.signal_grad_norms, predicted=snap.predicted_signal_norms)
    if snap.diverged:
        bars.set_diverged(snap.message)
    save(bars, outdir / f"{tag}_bars_signal.png", size)
    signal_bounds = bars.bounds()
    bars.set_quantity("weight")
    bars.show_values(snap.weight_grad_norms)
    save(bars, outdir / f"{tag}_bars_weight.png", size)
    bars.set_quantity("update")
    bars.show_values(snap.update_ratios)
    save(bars, outdir / f"{tag}_bars_update.png", size)

    act = ActivationPlot()
    act.apply_theme(theme)
    act.set_activation(snap.config.network.activation)
    act.show_layer(
        layer,
        snap.preactivations[layer],
        float(snap.mean_derivatives[layer]),
        float(snap.saturated_fractions[layer]),
        rms_derivative=float(snap.rms_derivatives[layer]),
    )
    save(act, outdir / f"{tag}_activation.png", size)

    curves = TrainingCurvesPlot()
    curves.apply_theme(theme)
    curves.set_history(history.steps, history.loss, history.accuracy)
    curves.set_chance_level(1 / snap.config.data.n_classes)
    save(curves, outdir / f"{tag}_curves.png", size)

    heat = GradientHeatmap()
    heat.apply_theme(theme)
    heat.set_levels(*signal_bounds)
    depth = snap.depth
    heat.set_quantity("signal")
    with np.errstate(divide="ignore", invalid="ignore"):
        heat.set_data(history.steps, np.log10(history.layer_field("signal_grad_norm")[:, :depth]))
    save(heat, outdir / f"{tag}_heatmap.png", size)

    data = DatasetPlot()
    data.apply_theme(theme)
    data.set_data(snap.data_x, snap.data_y)
    data.show_decision(snap.decision)
    save(data, outdir / f"{tag}_dataset.png", size)

    for widget in (bars, act, curves, heat, data):
        widget.close()
        widget.deleteLater()


def render_extras(steps: int, outdir: Path, size: tuple[int, int]) -> None:
    """A/B comparison (sigmoid vs ReLU), a depth-200 stack, and a narrow docked bar plot."""
    from vg_desktop.plots import GradientBarsPlot, TrainingCurvesPlot

    snap_a, hist_a = train(SCENARIOS[0], steps)
    snap_b, hist_b = train(SCENARIOS[1], steps)
    bars = GradientBarsPlot()
    bars.set_animated(False)
    bars.show_values(
        snap_a.signal_grad_norms,
        predicted=snap_a.predicted_signal_norms,
        values_b=snap_b.signal_grad_norms,
    )
    save(bars, outdir / "g_ab_sigmoid_vs_relu_bars.png", size)
    curves = TrainingCurvesPlot()
    curves.set_history(hist_a.steps, hist_a.loss, hist_a.accuracy)
    curves.set_history_b(hist_b.steps, hist_b.loss, hist_b.accuracy)
    curves.set_chance_level(0.5)
    save(curves, outdir / "g_ab_sigmoid_vs_relu_curves.png", size)

    deep = Scenario("h_depth200", NetworkConfig(depth=200, activation="sigmoid", width=16))
    snap, _ = train(deep, 5)
    deep_bars = GradientBarsPlot()
    deep_bars.set_animated(False)
    deep_bars.show_values(snap.signal_grad_norms, predicted=snap.predicted_signal_norms)
    save(deep_bars, outdir / "h_depth200_bars_signal.png", size)
    deep_bars.fit_to(snap.signal_grad_norms)
    deep_bars.show_values(snap.signal_grad_norms, predicted=snap.predicted_signal_norms)
    save(deep_bars, outdir / "h_depth200_bars_signal_fitted.png", size)

    bars.show_values(snap_a.signal_grad_norms, predicted=snap_a.predicted_signal_norms)
    save(bars, outdir / "i_narrow_dock_bars.png", (520, 380))
    for widget in (bars, curves, deep_bars):
        widget.close()
        widget.deleteLater()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--steps", type=int, default=50, help="SGD steps per run (default 50)")
    parser.add_argument("--size", default="1000x600", help="widget size WxH (default 1000x600)")
    parser.add_argument("--only", help="run only scenarios whose tag contains this text")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.outdir.mkdir(parents=True, exist_ok=True)

    from vg_desktop.plots import configure_pyqtgraph

    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    for scenario in SCENARIOS:
        if args.only and args.only not in scenario.tag:
            continue
        render(scenario, args.steps, args.outdir, (width, height))
    if not args.only or "extra" in args.only:
        render_extras(args.steps, args.outdir, (width, height))
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
