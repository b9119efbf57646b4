"""The headline over the bars states the snapshot's finding honestly (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from vg_desktop.findings import headline, power_of_ten, ratio_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3.2e-15, "3 × 10⁻¹⁵"),
        (1.04e8, "10⁸"),
        (9.6e-3, "10⁻²"),
        (0.25, "2 × 10⁻¹"),
        (1.0, "10⁰"),
        (0.0, "0"),
    ],
)
def test_power_of_ten_rounds_to_one_figure(value, text) -> None:
    assert power_of_ten(value) == text


def test_ratio_text_never_prints_exponent_notation() -> None:
    for r in np.logspace(-6, 6, 241):
        text = ratio_text(float(r))
        assert "e" not in text, text
    assert ratio_text(0.42) == "0.42" and ratio_text(99.7) == "100"


def test_vanishing_headline_states_layer_one_over_the_last() -> None:
    values = np.logspace(-16, -2, 20)  # layer 1 gets 10⁻¹⁴ of the last hidden layer
    text = headline(values, "signal")
    assert text == ("Layer 1 receives about 10⁻¹⁴ of the last hidden layer's gradient — vanishing")
    values[0] = 3.2e-17  # 3.2e-15 of the last
    assert "about 3 × 10⁻¹⁵ of the last hidden layer's gradient" in headline(values, "signal")


def test_healthy_exploding_and_diverged_headlines() -> None:
    healthy = np.array([0.042, 0.05, 0.1])
    assert headline(healthy, "signal") == (
        "Layer 1 receives about 0.42 × the last hidden layer's gradient — healthy"
    )
    exploding = np.array([4e9, 1e5, 10.0])
    assert headline(exploding, "signal") == (
        "Layer 1 receives about 4 × 10⁸ times the last hidden layer's gradient — exploding"
    )
    assert "diverged" in headline(np.array([np.nan, 1.0]), "signal")
    assert "diverged" in headline(np.array([1.0, np.inf]), "signal")
    big = np.array([2e7, 1e7, 1e7])  # ratio 2, but above the absolute limit
    assert headline(big, "signal").endswith("exploding (gradients above 10⁶)")
    assert "no gradient at all" in headline(np.array([0.0, 1e-3]), "signal")


def test_weight_headline_compares_with_the_last_hidden_not_the_output() -> None:
    values = np.array([1e-6, 1e-3, 1e-2, 50.0])  # the output layer (last) is ignored
    assert headline(values, "weight") == (
        "Layer 1 receives about 10⁻⁴ of the last hidden layer's weight gradient — vanishing"
    )


def test_update_headline_uses_the_fixed_thresholds() -> None:
    assert headline(np.array([3e-9, 1e-3]), "update") == (
        "One step changes layer 1's weights by about 3 × 10⁻⁹ of their size — "
        "too little to learn (below 10⁻⁵)"
    )
    assert "healthy" in headline(np.array([1e-3, 1e-3]), "update")
    assert "too much" in headline(np.array([0.5, 1e-3]), "update")


def test_one_layer_and_empty() -> None:
    assert headline(np.zeros(0), "signal") == ""
    assert (
        headline(np.array([0.03]), "signal") == "One hidden layer: its gradient is about 3 × 10⁻²"
    )


def test_the_readme_quotes_the_opening_headline() -> None:
    """The README's example sentence is the default experiment's own, before Play."""
    from pathlib import Path

    from vg_desktop.engine import ExperimentConfig, TrainingRun

    stats = TrainingRun(ExperimentConfig()).probe()
    sentence = headline(stats.signal_grad_norms, "signal")
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f'"{sentence}"' in " ".join(readme.split()), sentence
