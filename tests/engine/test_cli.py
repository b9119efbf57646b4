"""The headless command line: ``python -m vg_desktop run ...`` in a fresh interpreter."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vg_desktop import cli
from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    TrainConfig,
    TrainingRun,
    save_experiment,
)

from .conftest import REPO_ROOT

HEADER = [
    "step",
    "layer",
    "loss",
    "accuracy",
    "signal_grad_norm",
    "weight_grad_norm",
    "update_ratio",
    "mean_derivative",
    "saturated_fraction",
    "rms_derivative",
    "stream_grad_norm",
    "distance_from_init",
]


def read_csv(path):
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_issue_command_writes_csv_and_prints_a_summary(run_python, tmp_path):
    out = tmp_path / "out.csv"
    result = run_python(
        "-m", "vg_desktop", "run", "--depth", "30", "--activation", "sigmoid", "--steps", "50",
        "--csv", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    header, rows = read_csv(out)
    assert header == HEADER
    assert len(rows) == 50 * (30 + 1)
    assert [(int(r[0]), int(r[1])) for r in rows] == [
        (step, layer) for step in range(1, 51) for layer in range(1, 32)
    ]
    # The output layer (31) has no activation: no signal, derivative or saturation.
    output = rows[30]
    assert output[1] == "31" and output[4] == output[7] == output[8] == ""
    assert float(output[5]) > 0
    # The physics survives the trip through the CLI: sigmoid at depth 30 vanishes.
    layer1, layer30 = float(rows[0][4]), float(rows[29][4])
    assert 0 < layer1 / layer30 < 1e-6
    assert "after 50 steps" in result.stdout
    assert "layer 1 / layer 30" in result.stdout
    assert "loss" in result.stdout and "accuracy" in result.stdout


def test_config_file_is_used_and_options_override_it(run_python, tmp_path):
    experiment = ExperimentConfig(
        network=NetworkConfig(depth=4, width=8, activation="tanh", normalization="batch"),
        data=DataConfig(name="moons", n_samples=64),
        train=TrainConfig(batch_size=16),
    )
    config = tmp_path / "exp.json"
    save_experiment(experiment, config)

    out = tmp_path / "a.csv"
    result = run_python("-m", "vg_desktop", "run", "--config", str(config), "--steps", "5",
                        "--csv", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # --quiet
    assert len(read_csv(out)[1]) == 5 * (4 + 1)

    out = tmp_path / "b.csv"
    result = run_python("-m", "vg_desktop", "run", "--config", str(config), "--depth", "6",
                        "--steps", "3", "--csv", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(read_csv(out)[1]) == 3 * (6 + 1)


def test_json_output_holds_the_config_and_every_step(run_python, tmp_path):
    out = tmp_path / "run.json"
    result = run_python("-m", "vg_desktop", "run", "--depth", "3", "--width", "8", "--steps", "4",
                        "--json", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(out.read_text())
    assert payload["config"]["network"]["depth"] == 3
    assert [s["step"] for s in payload["steps"]] == [1, 2, 3, 4]
    assert len(payload["steps"][0]["signal_grad_norms"]) == 3
    assert len(payload["steps"][0]["weight_grad_norms"]) == 4


def test_same_command_twice_gives_identical_csv(run_python, tmp_path):
    args = ["-m", "vg_desktop", "run", "--depth", "5", "--steps", "10", "--quiet"]
    for name in ("1.csv", "2.csv"):
        assert run_python(*args, "--csv", str(tmp_path / name)).returncode == 0
    assert (tmp_path / "1.csv").read_bytes() == (tmp_path / "2.csv").read_bytes()


def test_divergence_is_reported_and_stops_the_run(run_python, tmp_path):
    out = tmp_path / "out.csv"
    result = run_python("-m", "vg_desktop", "run", "--depth", "30", "--activation", "relu",
                        "--init", "he", "--residual", "true", "--lr", "0.1", "--steps", "50",
                        "--csv", str(out))  # fmt: skip
    assert result.returncode == 3
    assert "DIVERGED" in result.stdout
    _, rows = read_csv(out)
    assert 0 < len(rows) < 50 * 31
    assert any(math.isnan(float(r[2])) or math.isinf(float(r[2])) for r in rows[-31:])


def test_bad_value_exits_with_status_2_and_a_message(run_python, tmp_path):
    result = run_python("-m", "vg_desktop", "run", "--depth", "0", "--csv", str(tmp_path / "x.csv"))
    assert result.returncode == 2
    assert "depth must be an integer from 1 to 200; got 0" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--depth", "0"], "depth must be an integer from 1 to 200"),
        (["--depth", "three"], "invalid int value"),
        (["--width", "300"], "width must be an integer from 2 to 256"),
        (["--activation", "swish"], "invalid choice: 'swish'"),
        (["--residual", "maybe"], "expected true or false"),
        (["--lr", "nan"], "learning_rate must be a number from 1e-05 to 10"),
        (["--lr", "0"], "learning_rate must be a number from 1e-05 to 10"),
        (["--momentum", "1"], "momentum must be a number from 0 to 0.99"),
        (["--init-gain", "100"], "init_gain must be a number from 0.01 to 20"),
        (["--samples", "5"], "n_samples must be an integer from 16 to 4096"),
        (["--classes", "9"], "n_classes must be an integer from 2 to 8"),
        (["--noise", "-1"], "noise must be a number from 0 to 1"),
        (["--steps", "0"], "--steps must be at least 1"),
        (["--samples", "100", "--batch-size", "400"], "cannot exceed the number of samples"),
        (["--normalization", "batch", "--batch-size", "1"], "needs a batch size of at least 3"),
        (["--dataset", "mnist"], "invalid choice: 'mnist'"),
        (["--residual-form", "post"], "invalid choice: 'post'"),
        (["--optimizer", "adagrad"], "invalid choice: 'adagrad'"),
        (["--weight-decay", "-1"], "weight_decay must be a number from 0 to 1"),
        (["--clip-norm", "0"], "clip_norm must be a number from 0.001 to 1000"),
        (["--clip-norm", "big"], "expected a number or 'none'"),
    ],
)
def test_bad_options_are_refused_by_the_parser(capsys, args, message):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--steps", "1", *args] if "--steps" not in args else args)
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b'{"format": 1', "not valid JSON"), (b"[]", "JSON object")],
)
def test_bad_config_file_is_refused_with_its_reason(capsys, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--config", str(path)])
    assert excinfo.value.code == 2
    err = capsys.readouterr().err
    assert "cannot use" in err and message in err


def test_missing_config_file_is_refused(capsys, tmp_path):
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--config", str(tmp_path / "missing.json")])
    assert excinfo.value.code == 2
    assert "cannot read missing.json" in capsys.readouterr().err


def test_unwritable_csv_path_gives_a_message_not_a_traceback(run_python, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "out.csv"
    result = run_python("-m", "vg_desktop", "run", "--steps", "2", "--csv", str(target))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "out.csv" in result.stderr


# ---------------------------------------------------------------- output errors and Ctrl+C


def _cli(*args: str, **popen) -> subprocess.Popen:
    """``python -m vg_desktop run ARGS`` in a fresh interpreter, pipes for stdout and stderr."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(
        [sys.executable, "-m", "vg_desktop", "run", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def _finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"the CLI did not end in {timeout} s: {err[-2000:]}")
    return proc.returncode, out, err


def _read_only_folder(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into a mode-0555 folder (the /proc/self case covers root)")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "out"


BAD_OUTPUTS = {
    "missing folder": lambda tmp: tmp / "no" / "such" / "folder" / "out",
    "a folder": lambda tmp: tmp,
    "/dev/full": lambda tmp: Path("/dev/full"),
    "read-only folder": _read_only_folder,
    "kernel folder": lambda tmp: Path("/proc/self/out"),
}


@pytest.mark.parametrize("option", ["--json", "--csv"])
@pytest.mark.parametrize("case", list(BAD_OUTPUTS))
def test_an_unwritable_output_is_one_line_before_training(tmp_path, option, case):
    target = BAD_OUTPUTS[case](tmp_path)
    other = tmp_path / ("other.csv" if option == "--json" else "other.json")
    other_option = "--csv" if option == "--json" else "--json"
    # 20,000 steps of a depth-200 network would take minutes: a refusal must come first.
    started = time.perf_counter()
    rc, out, err = _finish(
        _cli("--depth", "200", "--steps", "20000", other_option, str(other), option, str(target)),
        timeout=30,
    )
    assert time.perf_counter() - started < 20
    assert rc == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vg-desktop run: cannot write ") and str(target) in lines[0]
    assert out == ""  # nothing trained, no summary
    assert not other.exists()  # and no file left behind


def test_the_same_file_for_both_outputs_is_refused(tmp_path):
    target = tmp_path / "both"
    rc, _, err = _finish(_cli("--steps", "2", "--csv", str(target), "--json", str(target)))
    assert rc == 2 and err.strip().splitlines() == [
        f"vg-desktop run: --csv and --json name the same file ({target})"
    ]


def _file_size_limit(limit: int):
    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG

    return preexec


def test_a_disk_that_fills_during_training_ends_with_one_line_and_the_summary(tmp_path):
    out = tmp_path / "out.csv"
    proc = _cli("--depth", "20", "--steps", "2000", "--csv", str(out),
                preexec_fn=_file_size_limit(200_000))  # fmt: skip
    rc, stdout, err = _finish(proc)
    assert rc == 1
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(f"vg-desktop run: cannot write {out}: File too large (after ")
    steps = int(re.search(r"after (\d+) steps\)", line).group(1))
    assert 0 < steps < 2000
    assert f"after {steps} steps: loss" in stdout


def test_a_write_error_at_close_is_one_line(tmp_path):
    out = tmp_path / "out.csv"
    header = len(",".join(HEADER)) + 2
    # Three steps of a one-layer network fit in the write buffer: the error comes at close.
    proc = _cli("--depth", "1", "--steps", "3", "--csv", str(out),
                preexec_fn=_file_size_limit(header + 10))  # fmt: skip
    rc, stdout, err = _finish(proc)
    assert rc == 1
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        f"vg-desktop run: cannot write {out}: File too large (after 3 steps)"
    ]
    assert "after 3 steps: loss" in stdout


def test_ctrl_c_ends_cleanly_with_the_summary_and_the_outputs_so_far(tmp_path):
    csv_path, json_path = tmp_path / "out.csv", tmp_path / "out.json"
    proc = _cli("--depth", "200", "--steps", "1000000", "--csv", str(csv_path),
                "--json", str(json_path))  # fmt: skip
    deadline = time.monotonic() + 60
    while not csv_path.exists() or csv_path.stat().st_size < 200_000:  # a few steps in
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no steps written in 60 s"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    rc, stdout, err = _finish(proc, timeout=30)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    steps = int(re.search(r"after (\d+) steps: loss", stdout).group(1))
    assert f"interrupted (Ctrl+C) after {steps} of 1000000 steps" in stdout
    payload = json.loads(json_path.read_text())  # valid JSON, every step trained
    assert payload["config"]["network"]["depth"] == 200
    assert [s["step"] for s in payload["steps"]] == list(range(1, steps + 1))
    header, rows = read_csv(csv_path)
    assert header == HEADER
    assert [(int(r[0]), int(r[1])) for r in rows] == [
        (step, layer) for step in range(1, steps + 1) for layer in range(1, 202)
    ]
    # The CSV and JSON agree on the last step's loss.
    assert float(rows[-1][2]) == payload["steps"][-1]["loss"]


def test_residual_form_option_reaches_the_config():
    args = cli.build_parser().parse_args(
        ["--residual", "true", "--residual-form", "pre-activation"]
    )
    network = cli.config_from_args(args).network
    assert network.residual and network.residual_form == "pre-activation"
    assert cli.config_from_args(cli.build_parser().parse_args([])).network.residual_form == (
        "post-activation"
    )


def test_optimizer_options_reach_the_config_and_the_json(tmp_path):
    """--optimizer, --weight-decay and --clip-norm set the run's training settings (and 'none'
    turns off a config file's clipping); the JSON output records them."""
    from vg_desktop.engine import ExperimentConfig, TrainConfig, save_experiment

    args = ["--optimizer", "adam", "--weight-decay", "0.001", "--clip-norm", "0.5"]
    train = cli.config_from_args(cli.build_parser().parse_args(args)).train
    assert (train.optimizer, train.weight_decay, train.clip_norm) == ("adam", 0.001, 0.5)
    default = cli.config_from_args(cli.build_parser().parse_args([])).train
    assert (default.optimizer, default.weight_decay, default.clip_norm) == ("sgd", 0.0, None)
    saved = tmp_path / "clipped.json"
    save_experiment(ExperimentConfig(train=TrainConfig(clip_norm=2.0)), saved)
    off = ["--config", str(saved), "--clip-norm", "none"]
    assert cli.config_from_args(cli.build_parser().parse_args(off)).train.clip_norm is None
    out = tmp_path / "run.json"
    code = cli.main(["--depth", "3", "--steps", "3", "--quiet", "--json", str(out), *args])
    assert code == 0
    recorded = json.loads(out.read_text(encoding="utf-8"))["config"]["train"]
    assert recorded["optimizer"] == "adam" and recorded["clip_norm"] == 0.5


def test_distance_from_init_column_and_summary(tmp_path, capsys):
    """The CSV's distance_from_init is the distance before each step's update (as every column
    describes the weights that produced that step's gradients); the summary prints each layer's
    distance after the last step."""
    out = tmp_path / "d.csv"
    args = ["--depth", "3", "--width", "8", "--steps", "4", "--activation", "tanh"]
    assert cli.main([*args, "--csv", str(out)]) == 0
    header, rows = read_csv(out)
    column = header.index("distance_from_init")
    step1 = [float(r[column]) for r in rows if r[0] == "1"]
    assert step1 == [0.0] * 4  # before the first update nothing has moved
    step4 = [float(r[column]) for r in rows if r[0] == "4"]
    assert all(v > 0 for v in step4)
    run = TrainingRun(cli.config_from_args(cli.build_parser().parse_args(args)))
    for _ in range(4):
        run.step()
    summary = capsys.readouterr().out
    assert "distance_from_init" in summary
    for value in run.network.distance_from_init():
        assert f"{value:.3e}" in summary


def test_points_option_trains_on_a_csv(tmp_path):
    """Issue 14: --points FILE.csv is File › Import Points… on the command line."""
    from vg_desktop.engine import load_points_csv

    points = tmp_path / "mine.csv"
    points.write_text("x1\tx2\tlabel\n0\t0\tno\n1\t1\tyes\n0\t1\tno\n1\t0\tyes\n0.5\t0.5\tno\n")
    out = tmp_path / "run.json"
    args = ["--points", str(points), "--depth", "2", "--steps", "3", "--quiet"]
    code = cli.main([*args, "--json", str(out)])
    assert code == 0
    recorded = json.loads(out.read_text(encoding="utf-8"))
    data = recorded["config"]["data"]
    x, y, names = load_points_csv(points)
    assert data["name"] == "custom" and data["points"]["class_names"] == list(names)
    rows = [[a, b, k] for (a, b), k in zip(x.tolist(), y.tolist(), strict=True)]
    assert data["points"]["rows"] == rows
    assert recorded["config"]["train"]["batch_size"] == 5  # 64 shrunk to the 5 points
    assert len(recorded["steps"]) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0,0,a\n1,x,b\n", "bad.csv: line 2: x2 is 'x', not a number"),
        ("0,0,a\n1,1,a\n2,2,a\n3,3,a\n", "one class only"),
    ],
)
def test_a_bad_points_file_is_refused_in_one_line(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(SystemExit) as excinfo:
        cli.main(["--points", str(path), "--steps", "1"])
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


def test_points_and_dataset_cannot_both_be_given(capsys, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("0,0,a\n1,1,b\n0,1,a\n1,0,b\n")
    with pytest.raises(SystemExit):
        cli.main(["--points", str(path), "--dataset", "moons", "--steps", "1"])
    assert "give one" in capsys.readouterr().err
