"""Points CSV (issue 14): exact round trips, every bad input refused with its line and problem,
hostile files (huge, binary, special) refused by the bounded reader; the two new shapes."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from vg_desktop.engine import (
    CustomPoints,
    DataConfig,
    ExperimentConfig,
    TrainConfig,
    dataset_from_config,
    load_points_csv,
    save_points_csv,
)
from vg_desktop.engine.datasets import _checkerboard, _sine
from vg_desktop.engine.experiment import (
    ExperimentFileError,
    experiment_bytes,
    experiment_from_dict,
    experiment_to_dict,
    load_experiment,
    save_experiment,
)
from vg_desktop.engine.points_csv import points_csv_bytes


def write(tmp_path, content, name="points.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def awkward_points(n=1000, seed=0):
    """Floats that a careless writer would round: tiny, huge, negative zero, 17 digits."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)) * 10.0 ** rng.integers(-300, 300, (n, 2))
    x[0] = (-0.0, 5e-324)
    x[1] = (1.7976931348623157e308, 0.1 + 0.2)
    return CustomPoints(x, np.arange(n) % 3, ("cat", "dog", "émeu"))


def test_round_trip_csv_load_export_load_is_exact(tmp_path):
    points = awkward_points()
    save_points_csv(points, tmp_path / "a.csv")
    x, y, names = load_points_csv(tmp_path / "a.csv")
    assert x.dtype == np.float64 and x.shape == (1000, 2) and y.dtype == np.int64
    assert x.tobytes() == points.x.tobytes()  # bit for bit, -0.0 included
    assert np.array_equal(y, points.y) and names == points.class_names
    again = CustomPoints(x, y, names)
    save_points_csv(again, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert load_points_csv(tmp_path / "b.csv")[0].tobytes() == x.tobytes()


def test_a_name_holding_a_comma_is_exported_with_another_delimiter(tmp_path):
    path = write(tmp_path, "1;2;big, red\n3;4;small\n5;6;big, red\n7;8;small\n")
    x, y, names = load_points_csv(path)
    assert names == ("big, red", "small")
    save_points_csv(CustomPoints(x, y, names), tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == "x1;x2;label"
    assert load_points_csv(tmp_path / "out.csv")[2] == names


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_delimiters_header_optional_crlf_and_bom(tmp_path, sep):
    body = sep.join(["0.5", "-1", "b"]) + "\n" + sep.join(["2", "3e-2", "a"]) + "\n"
    body += sep.join(["1", "1", "a"]) + "\n" + sep.join([" 4 ", "5", ' "b" ']) + "\n"
    for header in ("", sep.join(["x1", "x2", "label"]) + "\n"):
        for newline in ("\n", "\r\n"):
            for bom in (b"", b"\xef\xbb\xbf"):
                text = (header + body).replace("\n", newline)
                x, y, names = load_points_csv(write(tmp_path, bom + text.encode()))
                assert names == ("a", "b")
                np.testing.assert_array_equal(x, [[0.5, -1], [2, 0.03], [1, 1], [4, 5]])
                np.testing.assert_array_equal(y, [1, 0, 0, 1])


def test_integer_labels_sort_numerically_and_keep_their_names(tmp_path):
    rows = "".join(f"{k},{k},{label}\n" for k, label in enumerate([10, 2, -1, 2, 10, -1]))
    _, y, names = load_points_csv(write(tmp_path, rows))
    assert names == ("-1", "2", "10")
    np.testing.assert_array_equal(y, [2, 1, 0, 1, 2, 0])


def test_eight_classes_and_blank_lines_are_fine(tmp_path):
    rows = "\n".join(f"{k},{-k},c{k % 8}" for k in range(16)) + "\n\n\n"
    _, y, names = load_points_csv(write(tmp_path, "\n" + rows))
    assert names == tuple(f"c{k}" for k in range(8)) and len(y) == 16


BAD = [
    ("empty", "", "the file is empty"),
    ("blank", "\n  \n\r\n", "the file is empty"),
    ("header only", "x1,x2,label\n", "line 1: the file has a header but no points"),
    ("header only crlf", "x1,x2,label\r\n", "line 1: the file has a header but no points"),
    ("non-numeric", "1,2,a\n3,x,b\n", "line 2: x2 is 'x', not a number"),
    ("underscore", "1,2,a\n3,1_0,b\n", "line 2: x2 is '1_0', not a number"),
    ("nan", "1,2,a\nnan,2,b\n", "line 2: x1 is nan"),
    ("inf", "1,2,a\n1,-Infinity,b\n", "line 2: x2 is -Infinity"),
    ("overflow", "1,2,a\n1e999,2,b\n", "line 2: x1 '1e999' is too large"),
    ("columns", "1,2,a\n1,2\n", "line 2: 2 columns, expected 3"),
    ("too many columns", "1,2,a\n1,2,a,4\n", "line 2: 4 columns, expected 3"),
    ("one column", "hello\n", "line 1: expected 3 columns"),
    ("one class", "1,2,a\n3,4,a\n5,6,a\n7,8,a\n", "line 4: every point has the label 'a'"),
    (
        "nine classes",
        "".join(f"{k},0,c{k}\n" for k in range(9)),
        "line 9: label 'c8' is a class beyond the 8",
    ),
    ("too few", "x1,x2,y\n1,2,a\n3,4,b\n5,6,a\n", "line 4: the file ends after 3 points"),
    ("empty label", "1,2,a\n3,4,\n", "line 2: the label is empty"),
    ("long label", "1,2," + "z" * 25 + "\n", "line 1: the label 'zzz"),
    ("control char", "1,2,a\n3,4,a\x07b\n", "line 2: the label 'a\\x07b' holds control"),
    (
        "two spellings",
        "1,2,1\n3,4,01\n5,6,1\n7,8,01\n",
        "line 2: label '01' is another spelling of '1'",
    ),
    ("binary", b"1,2,a\n\x00\x01\x02\x03", "line 2: points.csv is not text"),
    ("latin-1", "1,2,a\n3,4,\xe9\n".encode("latin-1"), "line 2: points.csv is not text"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 3: points.csv is not text"),
    ("pickle", b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00", "line 1: points.csv is not text"),
]


@pytest.mark.parametrize(("what", "content", "message"), BAD, ids=[b[0] for b in BAD])
def test_each_bad_input_names_its_line_and_problem(tmp_path, what, content, message):
    with pytest.raises(ValueError) as info:
        load_points_csv(write(tmp_path, content))
    assert message in str(info.value)
    assert type(info.value) is ValueError


def test_the_readme_example_message(tmp_path):
    rows = "".join(f"{k},{k},{k % 2}\n" for k in range(6)) + "1,abc,0\n"
    with pytest.raises(ValueError, match=r"^line 7: x2 is 'abc', not a number$"):
        load_points_csv(write(tmp_path, rows))


def test_too_many_points_names_the_first_line_past_the_limit(tmp_path):
    rows = "x1,x2,label\n" + "".join(f"{k},{k % 7},{k % 2}\n" for k in range(100_001))
    with pytest.raises(ValueError, match=r"^line 100002: more than 100,000 points"):
        load_points_csv(write(tmp_path, rows))
    _, y, names = load_points_csv(write(tmp_path, rows.rsplit("\n", 2)[0] + "\n"))
    assert len(y) == 100_000 and names == ("0", "1")


def test_a_50_mb_file_is_refused_before_it_is_read_whole(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as fh:
        fh.write(b"1,2,a\n" * (50_000_000 // 6))
    with pytest.raises(ValueError, match=r"huge\.csv is larger than 16 MB"):
        load_points_csv(path)


def test_special_files_are_refused_without_blocking(tmp_path):
    with pytest.raises(ValueError, match="it is a folder, not a file"):
        load_points_csv(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="it is a pipe, not a file"):
        load_points_csv(fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ValueError, match="it is a device"):
            load_points_csv("/dev/zero")
    with pytest.raises(ValueError, match=r"cannot read missing\.csv"):
        load_points_csv(tmp_path / "missing.csv")


def test_nothing_is_evaluated(tmp_path):
    marker = tmp_path / "ran"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(ValueError, match="not a number"):
        load_points_csv(write(tmp_path, f"1,2,a\n{code},2,b\n"))
    assert not marker.exists()


# -- the custom dataset in the experiment ---------------------------------------------------


def custom_experiment(points=None):
    points = points or awkward_points(50)
    return ExperimentConfig(data=DataConfig.custom(points, seed=3), train=TrainConfig(batch_size=8))


def test_custom_points_are_the_training_data():
    cfg = custom_experiment()
    x, y = dataset_from_config(cfg.data)
    assert x.tobytes() == cfg.data.points.x.tobytes() and np.array_equal(y, cfg.data.points.y)
    x[0] = 7.0  # a copy: the config stays as it was
    assert cfg.data.points.x[0, 0] != 7.0
    with pytest.raises(ValueError):
        cfg.data.points.x[0, 0] = 1.0


def test_custom_experiment_file_round_trip_is_exact(tmp_path):
    cfg = custom_experiment()
    save_experiment(cfg, tmp_path / "e.vgx")
    again = load_experiment(tmp_path / "e.vgx")
    assert again == cfg and again.data.points.x.tobytes() == cfg.data.points.x.tobytes()
    text = (tmp_path / "e.vgx").read_text()
    assert '"version": 4' in text and len(text.splitlines()) < 50 + 60  # a point per line


def test_100000_points_fit_an_experiment_file(tmp_path):
    rng = np.random.default_rng(1)
    points = CustomPoints(
        rng.standard_normal((100_000, 2)), rng.integers(0, 8, 100_000), tuple("abcdefgh")
    )
    cfg = custom_experiment(points)
    save_experiment(cfg, tmp_path / "big.vgx")
    assert (tmp_path / "big.vgx").stat().st_size < 7_000_000
    assert load_experiment(tmp_path / "big.vgx") == cfg


@pytest.mark.parametrize("version", [1, 2, 3])
def test_older_versions_still_open_without_points(version):
    document = experiment_to_dict(ExperimentConfig(), version=version)
    assert "points" not in document["data"]
    assert experiment_from_dict(document) == ExperimentConfig()
    with pytest.raises(ValueError, match=r"cannot hold data\.points"):
        experiment_to_dict(custom_experiment(), version=version)
    document["data"]["points"] = None
    with pytest.raises(ExperimentFileError, match="do not have"):
        experiment_from_dict(document)


BAD_POINTS = [
    ("not an object", [], "data.points must be null"),
    ("extra key", {"class_names": ["a", "b"], "rows": [], "x": 1}, "data.points must be null"),
    ("bool label", {"class_names": ["a", "b"], "rows": [[1, 2, True]] * 4}, "point 1 is not"),
    ("string x", {"class_names": ["a", "b"], "rows": [[1, 2, 0], ["1", 2, 0]]}, "point 2 is not"),
    ("label range", {"class_names": ["a", "b"], "rows": [[1, 2, 2]] * 4}, "labels must be from"),
    ("few", {"class_names": ["a", "b"], "rows": [[1, 2, 1]] * 3}, "4 to 100,000"),
    ("one name", {"class_names": ["a"], "rows": [[1, 2, 0]] * 4}, "2 to 8 class names"),
    ("same names", {"class_names": ["a", "a"], "rows": [[1, 2, 0]] * 4}, "must differ"),
]


@pytest.mark.parametrize(("what", "points", "message"), BAD_POINTS, ids=[b[0] for b in BAD_POINTS])
def test_bad_points_in_a_file_are_refused(what, points, message):
    document = json.loads(experiment_bytes(custom_experiment()))
    document["data"]["points"] = points
    with pytest.raises(ExperimentFileError, match=message):
        experiment_from_dict(document)


def test_counts_must_match_the_points():
    cfg = custom_experiment()
    document = json.loads(experiment_bytes(cfg))
    document["data"]["n_samples"] = 49
    with pytest.raises(ExperimentFileError, match="number of custom points"):
        experiment_from_dict(document)
    with pytest.raises(ValueError, match="holds no custom points"):
        DataConfig(points=cfg.data.points)
    with pytest.raises(ValueError, match="needs its points"):
        DataConfig(name="custom", n_samples=4, noise=0.0)


def test_exported_csv_matches_the_experiment_points(tmp_path):
    cfg = custom_experiment()
    (tmp_path / "p.csv").write_bytes(points_csv_bytes(cfg.data.points))
    x, y, names = load_points_csv(tmp_path / "p.csv")
    assert CustomPoints(x, y, names) == cfg.data.points


# -- the two new shapes ---------------------------------------------------------------------


def test_sine_classes_by_the_curve():
    rng = np.random.default_rng(0)
    x, y = _sine(2000, 2, 0.0, rng)
    np.testing.assert_array_equal(y, (x[:, 1] > np.sin(np.pi * x[:, 0])).astype(int))
    assert 0.3 < y.mean() < 0.7


def test_checkerboard_is_four_by_four():
    rng = np.random.default_rng(0)
    x, y = _checkerboard(4000, 2, 0.0, rng)
    cells = np.floor((x + 1) / 0.5).astype(int)
    assert set(map(tuple, cells)) == {(i, j) for i in range(4) for j in range(4)}
    for (i, j), label in zip(map(tuple, cells), y, strict=True):
        assert label == (i + j) % 2


@pytest.mark.parametrize("name", ["sine", "checkerboard"])
def test_noise_control_moves_the_points(name):
    from vg_desktop.engine import make_dataset

    clean, y0 = make_dataset(name, 400, 0.0, 5)
    noisy, y1 = make_dataset(name, 400, 0.3, 5)
    assert np.array_equal(y0, y1) and not np.allclose(clean, noisy)
