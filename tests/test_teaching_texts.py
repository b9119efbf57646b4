"""Numbers in tooltips, status texts and lesson prose (outside the lessons' ``expect`` blocks),
each measured: the test computes the figure and checks that the sentence still states it."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from vg_desktop.engine import ExperimentConfig, NetworkConfig, TrainingRun, get_activation
from vg_desktop.lessons import builtin_lessons, load_lesson
from vg_desktop.training_loop import TrainingLoop
from vg_desktop.widgets.controls import TOOLTIPS


def flat(text: str) -> str:
    return " ".join(text.split())


def story_step(step_id: str):
    lesson = load_lesson(builtin_lessons()[0])
    return next(step for step in lesson.steps if step.id == step_id)


def gaussian_expectation(f) -> float:
    """E[f(Z)] for Z ~ N(0, 1), by the trapezoid rule on a fine grid (error far below 1e-6)."""
    z = np.linspace(-12.0, 12.0, 240_001)
    weights = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return float(np.trapezoid(f(z) * weights, z))


# ---------------------------------------------------------------- precision
def test_precision_tooltip_states_the_smallest_gradient_each_dtype_keeps():
    tip = flat(TOOLTIPS["Precision"])
    tiny32, tiny64 = np.finfo(np.float32).tiny, np.finfo(np.float64).tiny
    assert f"{tiny32:.1e}" == "1.2e-38" and "below 1.2e-38" in tip
    assert f"{tiny64:.1e}" == "2.2e-308" and "about 2.2e-308" in tip
    assert "flushes" in tip and "1e-45" not in tip
    # Measured: a deep float32 sigmoid stack shows exact zeros, and no non-zero layer norm below
    # float32's smallest normal number (the subnormals down to 1.4e-45 are never reached).
    config = ExperimentConfig(network=NetworkConfig(depth=100, dtype="float32"))
    signal = TrainingRun(config).probe().signal_grad_norms
    assert np.any(signal == 0)
    assert np.all(signal[signal > 0] >= tiny32)


def test_underflow_pause_message_states_the_float32_flush_threshold():
    config = ExperimentConfig(network=NetworkConfig(depth=100, dtype="float32"))
    run = TrainingRun(config)
    loop = TrainingLoop(config, send=lambda *args: None)
    message = flat(loop._underflow_reason(run.probe(), run))
    assert "exactly 0" in message and "about 1.2e-38" in message and "1e-45" not in message


# ---------------------------------------------------------------- activations
def test_chain_rule_step_states_the_rms_and_mean_of_the_slopes():
    """Lesson 01, 'chain-rule': sigmoid under N(0, 1) has RMS σ′ 0.212 and mean 0.207; ReLU′ has
    mean 0.5 and RMS 1/√2 ≈ 0.71, which He's gain of √2 ≈ 1.41 offsets exactly."""
    text = flat(story_step("chain-rule").text)
    sig = get_activation("sigmoid").grad
    relu = get_activation("relu").grad
    rms_sig = math.sqrt(gaussian_expectation(lambda z: sig(z) ** 2))
    mean_sig = gaussian_expectation(sig)
    assert f"({rms_sig:.3f} and {mean_sig:.3f} for standard normal inputs)" in text
    mean_relu = gaussian_expectation(relu)
    rms_relu = math.sqrt(gaussian_expectation(lambda z: relu(z) ** 2))
    assert abs(mean_relu - 0.5) < 1e-4 and abs(rms_relu - 1 / math.sqrt(2)) < 1e-4
    assert "a mean of 0.5 but a root mean square of 1/√2 ≈ 0.71" in text
    assert f"{math.sqrt(2):.2f}" == "1.41" and "a gain of √2 ≈ 1.41" in text
    assert f"{1 / math.sqrt(2):.2f} × {math.sqrt(2):.2f} = 1" in text  # 0.71 × 1.41 = 1
    assert "0.25ⁿ times the product of the gains" in text


def test_he_initialization_has_gain_root_2_and_xavier_gain_1():
    """The gain the lessons and tooltips speak of, ‖W‖_F / √fan_out, measured on square layers:
    about √2 for He, about 1 for Xavier (so ReLU's RMS 1/√2 × √2 = 1)."""
    for init, expected in (("he", math.sqrt(2)), ("xavier", 1.0)):
        config = ExperimentConfig(network=NetworkConfig(depth=20, width=32, init=init))
        stats = TrainingRun(config).probe()
        gains = stats.weight_norms[1:-1] / math.sqrt(32)
        assert abs(gains.mean() - expected) < 0.03, (init, gains.mean())  # 1.408, 0.997


def test_residual_step_bound_stream_at_least_4x_branch():
    """Lesson 01, 'cure-residual': with the post-activation block, dL/dz_l = dL/dh_l ⊙ σ′(z_l)
    and σ′ ≤ 0.25, so the stream's ‖dL/dh_l‖ is at least 4 × the bar's ‖dL/dz_l‖ (exact)."""
    text = flat(story_step("cure-residual").text)
    assert "‖∂L/∂h‖, is at least four times larger" in text
    assert get_activation("sigmoid").grad(np.linspace(-50, 50, 100_001)).max() == 0.25


def test_classic_residual_step_uses_the_pre_activation_block():
    classics = load_lesson(builtin_lessons()[1])
    step = next(s for s in classics.steps if s.id == "identity-residual")
    assert step.settings.network.residual
    assert step.settings.network.residual_form == "pre-activation"
    assert "'pre-activation'" in step.text


# ---------------------------------------------------------------- tooltips
def test_normalization_tooltip_states_the_batch_norm_explosion_it_measures():
    tip = flat(TOOLTIPS["Normalization"])
    assert "about 130x from the last layer to the first" in tip and "Yang et al. 2019" in tip
    default = ExperimentConfig()
    assert default.network.depth == 20 and default.network.activation == "sigmoid"
    bn = replace(default, network=replace(default.network, normalization="batch"))
    signal = TrainingRun(bn).probe().signal_grad_norms
    assert 115 < signal[0] / signal[-1] < 145  # measured 128


def test_signal_and_initialization_tooltips_state_the_sigmoid_xavier_loss_per_layer():
    from vg_desktop.app import QUANTITIES

    signal_tip = flat(next(tip for key, _, tip in QUANTITIES if key == "signal"))
    assert "at least 4 per layer" in signal_tip and "about 4.3x with Xavier" in signal_tip
    assert "about 4x per layer" in flat(TOOLTIPS["Initialization"])
    assert "slope 1 at 0" in flat(TOOLTIPS["Initialization"])
    g = TrainingRun(ExperimentConfig()).probe().signal_grad_norms
    per_layer = (g[-1] / g[0]) ** (1 / (len(g) - 1))
    assert round(per_layer, 1) == 4.3  # measured 4.31


def test_learning_rate_tooltip_states_the_depth_30_divergence():
    """The figures are measured in tests/test_cures_stable.py (the README states them too)."""
    tip = flat(TOOLTIPS["Learning rate"])
    assert "20,000 steps at 0.1 with 20 layers" in tip
    assert "with 30 layers it diverges at step 2,502 (at 0.05 it trains)" in tip


def test_residual_stream_step_question_states_layer_119():
    """Lesson 01, 'residual-stream', its question: at layer 119 of the depth-200 residual
    sigmoid network the branch gradient is a few millionths of the last layer's (3.3e-6) while
    the stream's is about the same (0.95); everywhere the stream is at least 4x the branch."""
    step = story_step("residual-stream")
    assert "Layer 119's branch gradient is a few millionths of the last layer's" in step.question
    stats = TrainingRun(step.settings).probe()
    g, h = stats.signal_grad_norms, stats.stream_grad_norms
    assert 1e-6 < g[118] / g[-1] < 1e-5
    assert 0.8 < h[118] / h[-1] < 1.25
    assert np.all(h >= 4 * g)


def test_pre_activation_bars_are_the_stream_from_layer_2_on():
    """Classic papers, He et al. 2016 B: 'the bars' ‖∂L/∂z‖ (from layer 2 on) is exactly the
    gradient the shortcut carries, ‖∂L/∂h‖'."""
    classics = load_lesson(builtin_lessons()[1])
    step = next(s for s in classics.steps if s.id == "identity-residual")
    assert "from layer 2 on) is exactly the gradient the shortcut carries" in flat(step.text)
    stats = TrainingRun(step.settings).probe()
    np.testing.assert_allclose(stats.signal_grad_norms[1:], stats.stream_grad_norms[1:], rtol=1e-12)


def test_glorot_normalized_question_states_the_factor_between_a_and_b():
    """Classic papers, Glorot & Bengio B, its question: 1.7 times larger weights change layer 1's
    ‖∂L/∂z‖ (relative to the last layer's) by a factor of tens of thousands (measured 2.6e4)."""
    classics = load_lesson(builtin_lessons()[1])
    steps = {s.id: s for s in classics.steps}
    question = flat(steps["glorot-normalized"].question)
    assert "only 1.7 times larger" in question and f"{1 / 0.577:.1f}" == "1.7"
    assert "by a factor of tens of thousands" in question
    ratios = []
    for step_id in ("glorot-standard", "glorot-normalized"):
        g = TrainingRun(steps[step_id].settings).probe().signal_grad_norms
        ratios.append(g[0] / g[-1])
    assert 1e4 < ratios[1] / ratios[0] < 1e5


def test_optimizer_tooltip_states_the_step_rmsprop_and_adam_give():
    """Adam's first step is about lr for a gradient well above ε, lr·g/ε far below it; RMSprop
    (PyTorch's, no bias correction, average starting at 0) takes about 10 lr on its first."""
    from vg_desktop.engine.optimizers import OPTIMIZER_EPS, OptimizerState

    tip = flat(TOOLTIPS["Optimizer"])
    assert "step of about the learning rate however small it is" in tip
    assert "about 10 times it on the first step" in tip
    assert "about learning rate × gradient / 1e-8" in tip and OPTIMIZER_EPS == 1e-8
    lr, grad = 0.01, np.array([1e-3, 1e-6, 1e-12])
    steps = {}
    for kind in ("adam", "rmsprop"):
        state = OptimizerState(kind, grad.size, np.float64)
        direction, scale = state.direction(grad, np.ones(grad.size), lr, 0.0, 0.0, None)
        steps[kind] = scale * direction / lr  # in units of the learning rate
    np.testing.assert_allclose(steps["adam"][:2], 1.0, rtol=0.02)
    np.testing.assert_allclose(steps["rmsprop"][:2], 10.0, rtol=0.1)
    for kind in steps:  # far below ε: about lr·g/ε
        np.testing.assert_allclose(steps[kind][2], grad[2] / OPTIMIZER_EPS, rtol=0.01)
