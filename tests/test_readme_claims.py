"""Every figure the README states about what the app shows, measured on the engine.

The README describes the network the app opens with (``ExperimentConfig()``: 20 sigmoid layers,
Xavier, spiral data, learning rate 0.1, seed 0) and the two cures it tells the reader to switch
on. Statistics "at step N" are those the app shows: the probe of the freshly built network at
step 0, the statistics of the N-th SGD step after that. Each test quotes the sentence it checks.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vg_desktop import health
from vg_desktop.engine import ExperimentConfig, StepStats, TrainingRun
from vg_desktop.findings import headline

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEFAULT = ExperimentConfig()
SCREENSHOT_STEPS = 150  # tools/screenshots.py trains this many steps before each shot


def network(**changes) -> ExperimentConfig:
    return replace(DEFAULT, network=replace(DEFAULT.network, **changes))


def stats_at(config: ExperimentConfig, step: int) -> tuple[StepStats, TrainingRun]:
    run = TrainingRun(config)
    stats = run.probe()
    while run.step_count < step:
        stats = run.step()
    return stats, run


def ratio_first_to_last(stats: StepStats) -> float:
    g = stats.signal_grad_norms
    return float(g[0] / g[-1])


def say(fragment: str) -> None:
    """The README still says this (so a changed sentence cannot leave its test behind)."""
    flat = " ".join(README.split())
    assert fragment in flat, f"README no longer says {fragment!r}"


def test_screenshots_show_the_depth_the_text_describes():
    """The README's screenshots are of the network the app opens with (and its two cures)."""
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "tools" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    assert len(screenshots.SCENARIOS) == 3
    for name, net in screenshots.SCENARIOS.items():
        assert net.depth == DEFAULT.network.depth == 20, name
        assert f"docs/screenshots/{name}.png" in README
        assert (ROOT / "docs" / "screenshots" / f"{name}.png").is_file()
    say(f"a {DEFAULT.network.depth}-layer sigmoid network")


def test_sigmoid_default_network_loses_about_4_3x_per_layer_and_1e_12_at_layer_1():
    say("the bars fall by about 4.3× per layer")
    say("Layer 1 receives about 10⁻¹² of the gradient its last layer gets")
    stats, _ = stats_at(DEFAULT, 0)
    ratio = ratio_first_to_last(stats)  # measured 8.9e-13
    per_layer = ratio ** (-1 / (DEFAULT.network.depth - 1))  # measured 4.31
    assert round(per_layer, 1) == 4.3
    assert round(math.log10(ratio)) == -12
    # The headline above the bars, quoted in the README, for the same network before Play.
    quoted = headline(stats.signal_grad_norms, "signal")
    assert (
        quoted == "Layer 1 receives about 9 × 10⁻¹³ of the last hidden layer's gradient — vanishing"
    )
    say(f'before Play: "{quoted}"')
    # "at least 4" from the activation alone: every layer's RMS sigmoid' is below 0.25.
    say("each layer's activation divides the gradient by at least 4")
    assert np.all(stats.mean_derivatives <= 0.25)


def test_sigmoid_default_network_stays_at_the_loss_of_guessing():
    say("the loss stays near 0.69 (ln 2, the loss of guessing)")
    run = TrainingRun(DEFAULT)
    for step in (100, 300, 1000):  # measured 0.694, 0.695, 0.695; accuracy 0.5
        while run.step_count < step:
            run.step_lean()
        loss, accuracy = run.network.evaluate(run.x, run.y)
        assert abs(loss - math.log(2)) < 0.01 and accuracy < 0.6, (step, loss, accuracy)


def test_relu_he_bars_stay_within_a_few_times_the_last():
    say("every layer's bar within a factor of a few of the last")
    for step in (0, SCREENSHOT_STEPS):
        stats, _ = stats_at(network(activation="relu", init="he"), step)
        g = stats.signal_grad_norms
        spread = g / g[-1]  # measured 0.73-1.38 at step 0, 1.0-2.27 at step 150
        assert np.all((spread > 0.2) & (spread < 5)), (step, spread)


BN = network(normalization="batch")


def test_batch_norm_explodes_toward_the_input_at_initialization():
    say("layer 1 starts with about 130 times the last layer's ‖∂L/∂z‖")
    say('layers 1–2 are coloured "exploding" at step 0')
    stats, _ = stats_at(BN, 0)
    ratio = ratio_first_to_last(stats)  # measured 128
    assert 115 < ratio < 145
    codes = health.classify(stats.signal_grad_norms, "signal")
    assert list(np.flatnonzero(codes == health.EXPLODING) + 1) == [1, 2]


@pytest.mark.parametrize(
    ("depth", "fragment", "low", "high"),
    [
        (30, "about 200–330× at depth 30", 200, 340),  # measured 207, 332, 243
        (100, "3,000–8,000× at depth 100", 3000, 8000),  # measured 7560, 5340, 3320
    ],
)
def test_batch_norm_explosion_grows_with_depth(depth, fragment, low, high):
    say(fragment + ", seeds 0–2" if depth == 100 else fragment)
    for seed in (0, 1, 2):
        stats, _ = stats_at(network(normalization="batch", depth=depth, seed=seed), 0)
        assert low < ratio_first_to_last(stats) < high, seed


def test_batch_norm_explosion_calms_by_the_screenshot():
    say("at step 150, the moment in the screenshot, layer 1 gets about 30 times")
    stats, _ = stats_at(BN, SCREENSHOT_STEPS)
    assert 25 < ratio_first_to_last(stats) < 35  # measured 30.0
    assert not np.any(health.classify(stats.signal_grad_norms, "signal") == health.EXPLODING)


# The README's chain-rule estimate sentence: plain stacks, at the app's settings (spiral, batch 64
# probe), seeds 0-2; estimate ÷ measured ‖∂L/∂z‖ at layer 1.
PLAIN_STACKS = {
    "sigmoid-xavier-20": dict(activation="sigmoid", init="xavier", depth=20),
    "sigmoid-xavier-30": dict(activation="sigmoid", init="xavier", depth=30),
    "sigmoid-normal-w256": dict(activation="sigmoid", init="normal", depth=30, width=256),
    "tanh-xavier-30": dict(activation="tanh", init="xavier", depth=30),
    "relu-he-20": dict(activation="relu", init="he", depth=20),
    "relu-he-30": dict(activation="relu", init="he", depth=30),
    "relu-he-30-w64": dict(activation="relu", init="he", depth=30, width=64),
    "gelu-he-20": dict(activation="gelu", init="he", depth=20),
}


def test_chain_rule_estimate_lands_where_the_readme_says():
    say("there it lands within a factor of 10 of the layer-1 bar")
    say("eight plain stacks, sigmoid, tanh, ReLU and GELU at depths 20–30 and widths 32–256")
    say("three seeds each: 0.16 to 6 times the bar")
    assert len(PLAIN_STACKS) == 8
    ratios = []
    for stack in PLAIN_STACKS.values():
        for seed in (0, 1, 2):
            stats, _ = stats_at(network(seed=seed, **stack), 0)
            ratios.append(stats.predicted_signal_norms[0] / stats.signal_grad_norms[0])
    assert min(ratios) > 0.1 and max(ratios) < 10
    assert round(min(ratios), 2) == 0.16 and round(max(ratios)) == 6  # measured 0.161, 6.04


def test_readme_rms_figures():
    """'sigmoid 0.212, mean 0.207; ReLU 1/√2 ≈ 0.707, mean 0.5' for N(0, 1) inputs."""
    say("for N(0, 1) inputs: sigmoid 0.212, mean 0.207; ReLU 1/√2 ≈ 0.707, mean 0.5")
    from vg_desktop.engine import get_activation

    z = np.linspace(-12.0, 12.0, 240_001)
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    sig, relu = get_activation("sigmoid").grad(z), get_activation("relu").grad(z)
    assert round(math.sqrt(np.trapezoid(sig**2 * pdf, z)), 3) == 0.212
    assert round(float(np.trapezoid(sig * pdf, z)), 3) == 0.207
    assert round(math.sqrt(np.trapezoid(relu**2 * pdf, z)), 3) == 0.707
    assert round(float(np.trapezoid(relu * pdf, z)), 3) == 0.5


def test_the_estimate_overlay_tooltip_states_the_same_measured_range():
    """The overlay check box's tooltip repeats the README's figures (measured above)."""
    from vg_desktop.app import OVERLAY_TOOLTIP

    tip = " ".join(OVERLAY_TOOLTIP.split())
    assert "lands within a factor of 10 of the layer-1 bar" in tip
    assert "0.16 to 6 times it on eight plain stacks, three seeds each" in tip


def test_readme_inside_the_layers_figures_are_measured():
    """README, 'Inside the layers': the digits networks after 1,000 steps (lesson 3's settings)
    and the 20-layer sigmoid network's distance from initialization after 500 steps."""
    from vg_desktop.lessons import builtin_lessons, load_lesson

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "test accuracy reaches 96 %" in text and "test accuracy 10 %, chance" in text
    assert "layer 1 has moved about 2 × 10⁻¹² of its size and the last hidden layer about 1 %" in (
        text
    )
    sigmoid_digits, relu_digits = load_lesson(builtin_lessons()[2]).steps
    for step, expected in ((sigmoid_digits, 0.10), (relu_digits, 0.96)):
        run = TrainingRun(step.settings)
        for _ in range(1000):
            run.step_lean()
        assert round(run.test_accuracy(), 2) == expected
    story = {s.id: s for s in load_lesson(builtin_lessons()[0]).steps}
    run = TrainingRun(story["inside-the-layers"].settings)
    for _ in range(500):
        run.step_lean()
    distance = run.network.distance_from_init()
    assert f"{distance[0]:.0e}" == "2e-12"
    assert round(distance[19], 2) == 0.01
