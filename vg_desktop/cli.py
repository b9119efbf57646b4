"""Headless runs: ``vg-desktop run [options]`` trains on the engine and writes statistics.

No Qt is imported here, so it works on a server, in CI, or over SSH.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import sys
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import TextIO

import numpy as np

from .engine import (
    ACTIVATIONS,
    DATASETS,
    DTYPES,
    INITS,
    NORMALIZATIONS,
    OPTIMIZERS,
    RESIDUAL_FORMS,
    CustomPoints,
    DataConfig,
    ExperimentConfig,
    ExperimentFileError,
    NetworkConfig,
    StepStats,
    TrainConfig,
    TrainingInterrupted,
    TrainingRun,
    load_experiment,
)
from .engine.config import CUSTOM_DATASET
from .engine.points_csv import load_points_csv

CSV_HEADER = [
    "step",
    "layer",
    "loss",
    "accuracy",
    "signal_grad_norm",
    "weight_grad_norm",
    "update_ratio",
    "mean_derivative",
    "saturated_fraction",
    "rms_derivative",  # √mean f′², the factor the gradient's norm pays at the layer
    "stream_grad_norm",  # ‖dL/dh_l‖ at the layer's output (the residual stream's gradient)
    "distance_from_init",  # ‖W_l − W_l(0)‖/‖W_l(0)‖ before the step: how far the layer moved
]


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


_NO_CLIPPING = "none"


def _clip_norm(text: str) -> float | str:
    """A positive number, or 'none' (no clipping; overrides a --config file's value)."""
    if text.lower() in ("none", "off"):
        return _NO_CLIPPING
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vg-desktop run",
        description="Train a network headless and write per-step, per-layer gradient statistics.",
    )
    p.add_argument("--config", type=Path, help="experiment JSON file (options below override it)")
    net = p.add_argument_group("network")
    net.add_argument("--depth", type=int, help="hidden layers (1-200)")
    net.add_argument("--width", type=int, help="units per hidden layer (2-256)")
    net.add_argument("--activation", choices=ACTIVATIONS)
    net.add_argument("--normalization", choices=NORMALIZATIONS)
    net.add_argument("--residual", type=_bool, metavar="{true,false}")
    net.add_argument(
        "--residual-form",
        choices=RESIDUAL_FORMS,
        dest="residual_form",
        help="the residual block: post-activation h + f(norm(hW+b)) (default) or "
        "pre-activation h + f(norm(h))W+b (He et al. 2016)",
    )
    net.add_argument("--init", choices=INITS)
    net.add_argument("--init-gain", type=float, dest="init_gain")
    net.add_argument("--dtype", choices=DTYPES)
    net.add_argument("--seed", type=int, help="network seed (weights and batch order)")
    data = p.add_argument_group("data")
    data.add_argument(
        "--dataset",
        choices=[name for name in DATASETS if name != CUSTOM_DATASET],
        help="digits: the 1,797 shipped 8x8 handwritten digits (64 inputs, 10 classes, "
        "n // 5 held out for testing); sine: classes above and below x2 = sin(pi x1); "
        "checkerboard: a 4x4 board",
    )
    data.add_argument(
        "--points",
        type=Path,
        metavar="FILE.csv",
        help="train on your own 2-D points: a CSV of x1, x2, label (header optional; comma, "
        "semicolon or tab; 2-8 classes, 4-100,000 points); the batch size shrinks to fit",
    )
    data.add_argument("--samples", type=int, dest="n_samples")
    data.add_argument("--noise", type=float)
    data.add_argument("--classes", type=int, dest="n_classes")
    data.add_argument("--data-seed", type=int, dest="data_seed")
    train = p.add_argument_group("training")
    train.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate")
    train.add_argument("--momentum", type=float, help="SGD's heavy-ball momentum (0-0.99)")
    train.add_argument("--batch-size", type=int, dest="batch_size")
    train.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        help="the update rule, as torch.optim: sgd (default), rmsprop (alpha 0.99, eps 1e-8), "
        "adam (betas 0.9/0.999, eps 1e-8)",
    )
    train.add_argument(
        "--weight-decay",
        type=float,
        dest="weight_decay",
        help="coupled L2 weight decay: the gradient gets + λ·θ (0-1, default 0)",
    )
    train.add_argument(
        "--clip-norm",
        type=_clip_norm,
        dest="clip_norm",
        metavar="{NORM,none}",
        help="clip the total gradient norm to NORM before each step (0.001-1000; default none)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--steps", type=int, default=200, help="SGD steps to run (default 200)")
    out.add_argument("--csv", type=Path, help="write one row per step and layer")
    out.add_argument("--json", type=Path, help="write the config and per-step statistics")
    out.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    base = load_experiment(args.config) if args.config else ExperimentConfig()

    def merged(section, cls, renames=None):
        renames = renames or {}
        values = {}
        for f in fields(cls):
            value = getattr(args, renames.get(f.name, f.name), None)
            if value is not None:
                values[f.name] = None if value is _NO_CLIPPING else value
        return replace(section, **values)

    data = base.data
    if args.dataset is not None and args.points is not None:
        raise ValueError("--dataset and --points both choose the data: give one")
    if args.dataset is not None:  # the digits bring their own size, classes and noise
        data = data.with_dataset(args.dataset)
    if args.points is not None:
        try:
            x, y, names = load_points_csv(args.points)
        except ValueError as exc:
            raise ValueError(f"cannot use {args.points}: {exc}") from None
        data = DataConfig.custom(CustomPoints(x, y, names), seed=data.seed)
        if args.batch_size is None:
            fitted = min(base.train.batch_size, len(y))
            base = replace(base, train=replace(base.train, batch_size=fitted))
    return ExperimentConfig(
        network=merged(base.network, NetworkConfig),
        data=merged(data, DataConfig, {"name": "dataset", "seed": "data_seed", "points": ""}),
        train=merged(base.train, TrainConfig),
    )


def stats_rows(step: int, s: StepStats) -> list[list]:
    depth = s.depth
    rows = []
    for layer in range(depth + 1):
        hidden = layer < depth
        rows.append(
            [
                step,
                layer + 1,
                s.loss,
                s.accuracy,
                float(s.signal_grad_norms[layer]) if hidden else "",
                float(s.weight_grad_norms[layer]),
                float(s.update_ratios[layer]),
                float(s.mean_derivatives[layer]) if hidden else "",
                float(s.saturated_fractions[layer]) if hidden else "",
                float(s.rms_derivatives[layer]) if hidden else "",
                float(s.stream_grad_norms[layer]) if hidden else "",
                float(s.distance_from_init[layer]),
            ]
        )
    return rows


def _progress(done: int, total: int, loss: float, started: float) -> None:
    width = 30
    filled = int(width * done / total)
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
        f"loss {loss:.4f}  {rate:,.0f} steps/s"
    )
    sys.stderr.flush()


def summary_table(
    first: StepStats, last: StepStats, steps: int, distance: np.ndarray | None = None
) -> str:
    """The per-layer table printed after a run; ``distance`` is each layer's
    ‖W − W(0)‖/‖W(0)‖ after the last step (``Network.distance_from_init``)."""
    if distance is None:
        distance = last.distance_from_init
    lines = [
        f"{'layer':>5}  {'|dL/dz| first':>14}  {'|dL/dz| last':>13}  "
        f"{'|dL/dW| last':>13}  {'mean f′':>8}  {'saturated':>9}  {'distance_from_init':>18}"
    ]
    depth = last.depth
    shown = range(depth) if depth <= 12 else [*range(3), None, *range(depth - 3, depth)]
    for layer in shown:
        if layer is None:
            lines.append(f"{'...':>5}")
            continue
        lines.append(
            f"{layer + 1:>5}  {first.signal_grad_norms[layer]:>14.3e}  "
            f"{last.signal_grad_norms[layer]:>13.3e}  {last.weight_grad_norms[layer]:>13.3e}  "
            f"{last.mean_derivatives[layer]:>8.4f}  {last.saturated_fractions[layer]:>9.1%}  "
            f"{distance[layer]:>18.3e}"
        )
    lines.append(
        f"{'out':>5}  {'':>14}  {'':>13}  {'':>13}  {'':>8}  {'':>9}  {distance[-1]:>18.3e}"
    )
    ratio = last.signal_grad_norms[0] / last.signal_grad_norms[-1]
    lines.append(
        f"after {steps} steps: loss {last.loss:.4f}, accuracy {last.accuracy:.1%}, "
        f"|dL/dz| layer 1 / layer {depth} = {ratio:.3g}"
    )
    if not last.finite:
        lines.append("the run DIVERGED (NaN or Inf): the gradients exploded")
    return "\n".join(lines)


class OutputError(Exception):
    """An output file cannot be written: the message is one line for the terminal."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_path(path: Path) -> None:
    """Refuse an output path that cannot be written, before anything is created or truncated.

    What only a write can tell (a full disk, ``/dev/full``) shows when the header is written,
    still before training.
    """
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: the folder {parent} does not exist")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {path}: permission denied")
    elif not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: the folder {parent} is read-only")


class StepWriter:
    """The CSV and JSON outputs, written step by step as training goes.

    The JSON is streamed (``{"config": ..., "steps": [`` first, one record per step, the closing
    brackets at :meth:`close`), so a long run's memory stays flat and an interrupted run still
    leaves valid JSON holding every step trained.
    """

    def __init__(self, config: ExperimentConfig, csv_path: Path | None, json_path: Path | None):
        self._open_files: list[tuple[Path, TextIO]] = []
        self._created: list[Path] = []  # removed again if an output is refused
        self._csv_path, self._json_path = csv_path, json_path
        self._json_steps = 0
        try:
            if csv_path is not None:
                self._csv = csv.writer(self._open(csv_path, newline=""))
                self._write(csv_path, self._csv.writerow, CSV_HEADER)
            if json_path is not None:
                self._json = self._open(json_path)
                head = json.dumps({"config": config.to_dict()})[:-1]  # without the final "}"
                self._write(json_path, self._json.write, head + ', "steps": [')
            for path, fh in self._open_files:  # a full disk says so now, before training
                self._write(path, fh.flush)
        except OutputError:
            self.close(finish=False)
            for path in self._created:
                path.unlink(missing_ok=True)
            raise

    def _open(self, path: Path, **kwargs) -> TextIO:
        if not path.exists():
            self._created.append(path)
        try:
            fh = path.open("w", encoding="utf-8", **kwargs)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {_why(exc)}") from None
        self._open_files.append((path, fh))
        return fh

    @staticmethod
    def _write(path: Path, write, *args) -> None:
        try:
            write(*args)
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {_why(exc)}") from None

    def add(self, step: int, s: StepStats) -> None:
        if self._csv_path is not None:
            self._write(self._csv_path, self._csv.writerows, stats_rows(step, s))
        if self._json_path is not None:
            record = {
                "step": step,
                "loss": s.loss,
                "accuracy": s.accuracy,
                "signal_grad_norms": s.signal_grad_norms.tolist(),
                "weight_grad_norms": s.weight_grad_norms.tolist(),
                "update_ratios": s.update_ratios.tolist(),
                "mean_derivatives": s.mean_derivatives.tolist(),
                "saturated_fractions": s.saturated_fractions.tolist(),
                "rms_derivatives": s.rms_derivatives.tolist(),
                "stream_grad_norms": s.stream_grad_norms.tolist(),
                "distance_from_init": s.distance_from_init.tolist(),
            }
            text = ("\n" if self._json_steps == 0 else ",\n") + json.dumps(record, allow_nan=True)
            self._write(self._json_path, self._json.write, text)
            self._json_steps += 1

    def close(self, finish: bool = True) -> None:
        """Close every file, the JSON finished first (``finish``); the first write error is
        raised once all are closed."""
        error = None
        if finish and self._json_path is not None:
            try:
                self._write(self._json_path, self._json.write, "\n]}\n")
            except OutputError as exc:
                error = exc
        for path, fh in self._open_files:
            try:
                fh.close()
            except OSError as exc:
                error = error or OutputError(f"cannot write {path}: {_why(exc)}")
        self._open_files = []
        if error is not None and finish:
            raise error


class _Interrupt:
    """Ctrl+C as a flag: the network abandons its pass at the next layer (a step of a large
    network takes seconds), nothing is left half-written, and the run ends with a summary."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __enter__(self) -> _Interrupt:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread (called from a test's thread): no handler
            self._previous = None
        return self

    def _handle(self, signum, frame) -> None:
        self.requested = True

    def __call__(self) -> bool:
        return self.requested

    def __exit__(self, *exc) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _error(message: str) -> None:
    sys.stderr.write(f"vg-desktop run: {message}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    try:
        config = config_from_args(args)
    except ExperimentFileError as exc:  # one line, not the whole usage
        print(f"vg-desktop run: error: cannot use {args.config}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValueError as exc:
        parser.error(str(exc))
    outputs = [p for p in (args.csv, args.json) if p is not None]
    if len(outputs) == 2 and outputs[0].absolute() == outputs[1].absolute():
        _error(f"--csv and --json name the same file ({args.csv})")
        return 2
    try:
        for path in outputs:
            check_output_path(path)
        writer = StepWriter(config, args.csv, args.json)
    except OutputError as exc:
        _error(str(exc))
        return 2

    run = TrainingRun(config)
    show_progress = not args.quiet and sys.stderr.isatty()
    first = last = None
    failure: OutputError | None = None
    started = time.perf_counter()
    with _Interrupt() as interrupted:
        run.network.interrupt = interrupted
        try:
            for step in range(1, args.steps + 1):
                try:
                    last = run.step()
                except TrainingInterrupted:
                    break
                first = first or last
                writer.add(step, last)
                if show_progress and (step % 10 == 0 or step == args.steps):
                    _progress(step, args.steps, last.loss, started)
                if not last.finite or interrupted():
                    break
        except OutputError as exc:
            failure = exc
        try:
            writer.close()
        except OutputError as exc:
            failure = failure or exc
    if show_progress:
        sys.stderr.write("\n")
    if not args.quiet:
        if last is not None:
            distance = run.network.distance_from_init()
            print(summary_table(first, last, run.step_count, distance))
            if len(run.y_test):
                print(
                    f"test accuracy on the {len(run.y_test)} held-out samples: "
                    f"{run.test_accuracy():.1%}"
                )
        if interrupted():
            print(f"interrupted (Ctrl+C) after {run.step_count} of {args.steps} steps")
        sys.stdout.flush()
    if failure is not None:
        _error(f"{failure} (after {run.step_count} steps)")
        return 1
    if interrupted():
        return 130
    return 0 if last.finite else 3


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
