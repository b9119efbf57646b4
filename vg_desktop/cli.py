"""Headless runs: ``vg-desktop run [options]`` trains on the engine and writes statistics.

No Qt is imported here, so it works on a server, in CI, or over SSH.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import numpy as np

from .engine import (
    ACTIVATIONS,
    DATASETS,
    DTYPES,
    INITS,
    NORMALIZATIONS,
    DataConfig,
    ExperimentConfig,
    ExperimentFileError,
    NetworkConfig,
    StepStats,
    TrainConfig,
    TrainingRun,
    load_experiment,
)

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
]


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


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
    net.add_argument("--init", choices=INITS)
    net.add_argument("--init-gain", type=float, dest="init_gain")
    net.add_argument("--dtype", choices=DTYPES)
    net.add_argument("--seed", type=int, help="network seed (weights and batch order)")
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS)
    data.add_argument("--samples", type=int, dest="n_samples")
    data.add_argument("--noise", type=float)
    data.add_argument("--classes", type=int, dest="n_classes")
    data.add_argument("--data-seed", type=int, dest="data_seed")
    train = p.add_argument_group("training")
    train.add_argument("--learning-rate", "--lr", type=float, dest="learning_rate")
    train.add_argument("--momentum", type=float)
    train.add_argument("--batch-size", type=int, dest="batch_size")
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
                values[f.name] = value
        return replace(section, **values)

    return ExperimentConfig(
        network=merged(base.network, NetworkConfig),
        data=merged(base.data, DataConfig, {"name": "dataset", "seed": "data_seed"}),
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


def summary_table(first: StepStats, last: StepStats, steps: int) -> str:
    lines = [
        f"{'layer':>5}  {'|dL/dz| first':>14}  {'|dL/dz| last':>13}  "
        f"{'|dL/dW| last':>13}  {'mean f′':>8}  {'saturated':>9}"
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
            f"{last.mean_derivatives[layer]:>8.4f}  {last.saturated_fractions[layer]:>9.1%}"
        )
    ratio = last.signal_grad_norms[0] / last.signal_grad_norms[-1]
    lines.append(
        f"after {steps} steps: loss {last.loss:.4f}, accuracy {last.accuracy:.1%}, "
        f"|dL/dz| layer 1 / layer {depth} = {ratio:.3g}"
    )
    if not last.finite:
        lines.append("the run DIVERGED (NaN or Inf): the gradients exploded")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    try:
        config = config_from_args(args)
    except ExperimentFileError as exc:
        parser.error(f"cannot use {args.config}: {exc}")
    except ValueError as exc:
        parser.error(str(exc))

    run = TrainingRun(config)
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        csv_file = args.csv.open("w", newline="") if args.csv else None
    except OSError as exc:
        parser.error(f"cannot write {args.csv}: {exc.strerror or exc}")
    writer = csv.writer(csv_file) if csv_file else None
    if writer:
        writer.writerow(CSV_HEADER)
    records = []
    first = last = None
    started = time.perf_counter()
    try:
        for step in range(1, args.steps + 1):
            last = run.step()
            first = first or last
            if writer:
                writer.writerows(stats_rows(step, last))
            if args.json:
                records.append(
                    {
                        "step": step,
                        "loss": last.loss,
                        "accuracy": last.accuracy,
                        "signal_grad_norms": last.signal_grad_norms.tolist(),
                        "weight_grad_norms": last.weight_grad_norms.tolist(),
                        "update_ratios": last.update_ratios.tolist(),
                        "mean_derivatives": last.mean_derivatives.tolist(),
                        "saturated_fractions": last.saturated_fractions.tolist(),
                    }
                )
            if show_progress and (step % 10 == 0 or step == args.steps):
                _progress(step, args.steps, last.loss, started)
            if not last.finite:
                break
    finally:
        if csv_file:
            csv_file.close()
    if show_progress:
        sys.stderr.write("\n")
    if args.json:
        payload = {"config": config.to_dict(), "steps": records}
        args.json.write_text(json.dumps(payload, allow_nan=True) + "\n")
    if not args.quiet:
        print(summary_table(first, last, run.step_count))
    return 0 if last.finite else 3


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
