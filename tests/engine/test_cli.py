"""The headless command line: ``python -m vg_desktop run ...`` in a fresh interpreter."""

from __future__ import annotations

import csv
import json
import math

import pytest

from vg_desktop import cli
from vg_desktop.engine import (
    DataConfig,
    ExperimentConfig,
    NetworkConfig,
    TrainConfig,
    save_experiment,
)

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
