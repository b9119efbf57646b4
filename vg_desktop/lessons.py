"""Guided lessons as versioned JSON files: each step is a short text, a question for the class,
the settings of the experiment that shows it, and (optionally) checkable claims.

A lesson file looks like ``{"format": "vg-desktop-lesson", "version": 1, "title": ...,
"author": ..., "description": ..., "steps": [...]}``; ``docs/writing-lessons.md`` documents every
field. Reading is as strict as an experiment file: anything wrong raises
:class:`LessonFileError` with a message a teacher can act on, naming the step at fault, so a
broken lesson never half-loads in front of a class.

A step's optional ``summary`` is the few sentences the class must see and remember, short enough
to project in large type beside the question; the full ``text`` stays one click away.

A step's ``expect`` list states what the class will see in numbers a test can re-measure
(:func:`check_step`). We teach, so every claim a built-in lesson makes is re-checked by the test
suite against the engine itself.

NumPy and the standard library only: no Qt here.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from . import health
from .engine import ExperimentConfig, Network, StepStats, TrainingRun
from .engine.bounded_read import FileTooLarge, NotARegularFile, read_bounded
from .engine.config import DataConfig, NetworkConfig, TrainConfig
from .engine.experiment import atomic_write_bytes
from .engine.strict_json import loads_strict
from .paths import resource_path

FORMAT = "vg-desktop-lesson"
VERSION = 1
MAX_FILE_BYTES = 1_000_000  # a long lesson is a few tens of kilobytes
MAX_STEPS = 100
MAX_EXPECT_STEPS = 5000  # a check may train at most this many steps (it must stay quick)
QUANTITIES = ("signal", "weight", "update", "stream", "distance")
PANELS = ("data", "features")  # the tabs a step can bring to the front
_TEXT_LIMITS = {"title": 200, "author": 200, "description": 2000}
_STEP_TEXT_LIMITS = {
    "id": 80,
    "title": 200,
    "text": 6000,
    "question": 1000,
    "citation": 1000,
    "summary": 600,  # projected in large type beside the question: a few sentences at most
}
_SECTIONS = {"network": NetworkConfig, "data": DataConfig, "train": TrainConfig}


class LessonFileError(ValueError):
    """A file that is not a readable lesson; the message says why (and which step)."""


# ---------------------------------------------------------------------------- measurements
def _ratio(a: float, b: float) -> float:
    with np.errstate(all="ignore"):
        return float(np.float64(a) / np.float64(b))


def _signal_ratio(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return _ratio(s.signal_grad_norms[0], s.signal_grad_norms[-1])


def _stream_ratio(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return _ratio(s.stream_grad_norms[0], s.stream_grad_norms[-1])


def _vanishing_layers(attr: str, quantity: str) -> Callable[[StepStats, TrainingRun, None], float]:
    """How many bars the app colours "vanishing" for ``quantity`` (the rule of
    :mod:`vg_desktop.health`, against the last hidden layer)."""

    def measure(s: StepStats, run: TrainingRun, layer: None) -> float:
        codes = health.classify(np.asarray(getattr(s, attr)), quantity)
        return float(np.count_nonzero(codes == health.VANISHING))

    return measure


def _weight_ratio(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    # weight_grad_norms ends with the output layer; compare with the last *hidden* layer.
    return _ratio(s.weight_grad_norms[0], s.weight_grad_norms[s.depth - 1])


def _update_ratio_to_last(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    # update_ratios ends with the output layer; compare with the last *hidden* layer.
    return _ratio(s.update_ratios[layer - 1], s.update_ratios[s.depth - 1])


def _per_layer(attr: str) -> Callable[[StepStats, TrainingRun, int | None], float]:
    def measure(s: StepStats, run: TrainingRun, layer: int | None) -> float:
        return float(getattr(s, attr)[layer - 1])

    return measure


def _all_layers(attr: str, reduce: Callable) -> Callable[[StepStats, TrainingRun, None], float]:
    def measure(s: StepStats, run: TrainingRun, layer: None) -> float:
        return float(reduce(getattr(s, attr)))

    return measure


def _chain_rule_ratio(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return _ratio(s.predicted_signal_norms[layer - 1], s.signal_grad_norms[layer - 1])


def _dead_units_max(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return float(np.max(run.network.evaluate_dataset(run.x, run.y).dead_units))


def _dataset_loss(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return float(run.network.evaluate(run.x, run.y)[0])


def _dataset_accuracy(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return float(run.network.evaluate(run.x, run.y)[1])


def _test_accuracy(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return run.test_accuracy()  # NaN without a held-out split: such a claim fails


def _distance_from_init(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    return float(run.network.distance_from_init()[layer - 1])


def _weight_change_smoothness(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    """How much neighbouring pixels' weights changed together in layer 1 of an image network:
    the correlation of W − W₀ between horizontally and vertically adjacent pixels, averaged over
    the units. About 0 for independent random changes; high when the changes are shaped by the
    images (strokes and blobs)."""
    side = round(math.sqrt(run.network.n_inputs))
    if side * side != run.network.n_inputs:
        return math.nan  # not an image: no neighbouring pixels
    change = run.network.params[0]["W"] - run.network.initial_weights(1)
    values = []
    for image in change.T.reshape(-1, side, side):
        a = np.concatenate([image[:, :-1].ravel(), image[:-1, :].ravel()])
        b = np.concatenate([image[:, 1:].ravel(), image[1:, :].ravel()])
        if a.std() > 0 and b.std() > 0:
            values.append(np.corrcoef(a, b)[0, 1])
    return float(np.mean(values)) if values else math.nan


def _feature_change(s: StepStats, run: TrainingRun, layer: int | None) -> float:
    """Largest |a_l(now) − a_l(step 0)| over all training inputs and units: how much
    what the layer computes (the Layer features view) has changed since the network was built."""
    net = run.network
    initial = Network(net.config, n_inputs=net.n_inputs, n_classes=net.n_classes)
    return float(
        np.max(np.abs(net.unit_outputs(run.x, layer) - initial.unit_outputs(run.x, layer)))
    )


@dataclass(frozen=True)
class MeasureSpec:
    """One checkable quantity: how to compute it, whether it needs a layer, what it means."""

    compute: Callable[[StepStats, TrainingRun, int | None], float]
    needs_layer: bool
    meaning: str


# Each name is a key of an "expect" entry; docs/writing-lessons.md lists them for teachers.
MEASURES: dict[str, MeasureSpec] = {
    "signal_ratio_first_to_last": MeasureSpec(
        _signal_ratio, False, "‖∂L/∂z‖ of layer 1 divided by that of the last hidden layer"
    ),
    "weight_ratio_first_to_last": MeasureSpec(
        _weight_ratio, False, "‖∂L/∂W‖ of layer 1 divided by that of the last hidden layer"
    ),
    "signal_layer": MeasureSpec(_per_layer("signal_grad_norms"), True, "‖∂L/∂z‖ of a layer"),
    "stream_ratio_first_to_last": MeasureSpec(
        _stream_ratio, False, "‖∂L/∂h‖ (residual stream) of layer 1 over the last hidden layer"
    ),
    "signal_vanishing_layers": MeasureSpec(
        _vanishing_layers("signal_grad_norms", "signal"),
        False,
        "how many ‖∂L/∂z‖ bars are coloured vanishing",
    ),
    "stream_vanishing_layers": MeasureSpec(
        _vanishing_layers("stream_grad_norms", "stream"),
        False,
        "how many ‖∂L/∂h‖ (residual stream) bars are coloured vanishing",
    ),
    "stream_layer": MeasureSpec(
        _per_layer("stream_grad_norms"), True, "‖∂L/∂h‖ (residual stream) of a layer"
    ),
    "weight_layer": MeasureSpec(_per_layer("weight_grad_norms"), True, "‖∂L/∂W‖ of a layer"),
    "update_ratio_layer": MeasureSpec(
        _per_layer("update_ratios"), True, "‖ΔW‖ / ‖W‖ of one training step at a layer"
    ),
    "update_ratio_to_last_layer": MeasureSpec(
        _update_ratio_to_last,
        True,
        "a layer's ‖ΔW‖ / ‖W‖ divided by that of the last hidden layer",
    ),
    "mean_derivative_layer": MeasureSpec(
        _per_layer("mean_derivatives"), True, "mean f′ under a layer's histogram"
    ),
    "rms_derivative_layer": MeasureSpec(
        _per_layer("rms_derivatives"), True, "RMS f′ (√mean f′²) under a layer's histogram"
    ),
    "mean_derivative_min": MeasureSpec(
        _all_layers("mean_derivatives", np.min), False, "smallest mean f′ over all hidden layers"
    ),
    "mean_derivative_max": MeasureSpec(
        _all_layers("mean_derivatives", np.max), False, "largest mean f′ over all hidden layers"
    ),
    "mean_derivative_mean": MeasureSpec(
        _all_layers("mean_derivatives", np.mean), False, "mean f′ averaged over all hidden layers"
    ),
    "saturated_fraction_layer": MeasureSpec(
        _per_layer("saturated_fractions"),
        True,
        "share of a layer's pre-activations saturated (ReLU: u ≤ 0)",
    ),
    "saturated_fraction_max": MeasureSpec(
        _all_layers("saturated_fractions", np.max), False, "largest saturated share of any layer"
    ),
    "saturated_fraction_min": MeasureSpec(
        _all_layers("saturated_fractions", np.min), False, "smallest saturated share of any layer"
    ),
    "chain_rule_estimate_ratio_layer": MeasureSpec(
        _chain_rule_ratio, True, "chain-rule estimate of ‖∂L/∂z‖ at a layer over the measured"
    ),
    "dead_units_max": MeasureSpec(
        _dead_units_max,
        False,
        "most units of any hidden layer dead (inactive, or saturated) on every sample",
    ),
    "dataset_loss": MeasureSpec(
        _dataset_loss, False, "loss on the whole dataset (evaluation mode)"
    ),
    "dataset_accuracy": MeasureSpec(
        _dataset_accuracy, False, "accuracy on the whole dataset (evaluation mode)"
    ),
    "test_accuracy": MeasureSpec(
        _test_accuracy, False, "accuracy on the held-out test split (digits; evaluation mode)"
    ),
    "distance_from_init_layer": MeasureSpec(
        _distance_from_init, True, "‖W − W₀‖ / ‖W₀‖ of a layer: how far its weights moved"
    ),
    "weight_change_smoothness": MeasureSpec(
        _weight_change_smoothness,
        False,
        "correlation of layer 1's W − W₀ between neighbouring pixels (image datasets)",
    ),
    "feature_change_layer": MeasureSpec(
        _feature_change,
        True,
        "largest change of a layer's unit outputs f(u) on the training inputs since step 0",
    ),
}


# ---------------------------------------------------------------------------- data classes
@dataclass(frozen=True)
class Measure:
    """A claim about one quantity: ``above < value < below`` (either bound may be absent)."""

    name: str
    above: float | None = None
    below: float | None = None
    layer: int | None = None  # 1 = first hidden layer, as numbered in the app

    def describe(self) -> str:
        where = f" (layer {self.layer})" if self.layer is not None else ""
        bounds = [
            f"> {self.above:g}" if self.above is not None else "",
            f"< {self.below:g}" if self.below is not None else "",
        ]
        return f"{self.name}{where} {' and '.join(b for b in bounds if b)}"


@dataclass(frozen=True)
class Expectation:
    """Claims measured after ``after_steps`` SGD steps (0: the freshly built network, as the
    app shows it before Play), or a claim that training diverges within a number of steps."""

    after_steps: int = 0
    measures: tuple[Measure, ...] = ()
    diverges_within_steps: int | None = None


@dataclass(frozen=True)
class ViewHints:
    """How the window should show a step; ``None`` leaves that part of the view as it is."""

    quantity: str | None = None  # "signal", "weight", "update", "stream" or "distance"
    overlay: bool | None = None  # the chain-rule estimate on the gradient bars
    layer: int | None = None  # the layer whose histogram the activation plot shows (1-based)
    play: bool | None = None  # start training at once
    panel: str | None = None  # bring "data" (the data view) or "features" (Layer features) to front


@dataclass(frozen=True)
class LessonStep:
    """One step: what to read, what to ask, and the experiment that shows it."""

    id: str
    title: str
    text: str
    question: str
    settings: ExperimentConfig
    view: ViewHints = field(default_factory=ViewHints)
    citation: str | None = None
    expect: tuple[Expectation, ...] = ()
    # The question asks the class to predict what the bars will show: the window hides the
    # bars and the headline once the step is set up, until Play (or Step) reveals them.
    predict: bool = False
    # What the class must see and remember, short enough to project beside the question
    # (the full text stays one click away); None: the file gives none (e.g. a user's lesson).
    summary: str | None = None


@dataclass(frozen=True)
class Lesson:
    title: str
    author: str
    description: str
    steps: tuple[LessonStep, ...]
    format: str = FORMAT
    version: int = VERSION


# ---------------------------------------------------------------------------- validation helpers
def _object(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise LessonFileError(f"{what} must be a JSON object {{...}}; got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "text",
        bool: "true/false",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _keys(data: dict, required: set[str], optional: set[str], what: str) -> None:
    missing = sorted(required - set(data))
    if missing:
        raise LessonFileError(f"{what} lacks {', '.join(repr(k) for k in missing)}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise LessonFileError(
            f"{what} has unknown field(s) {', '.join(repr(k) for k in unknown)} "
            f"(allowed: {allowed})"
        )


def _text(value: object, name: str, limit: int, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise LessonFileError(f"{name!r} must be text; got {_kind(value)}")
    if not allow_empty and not value.strip():
        raise LessonFileError(f"{name!r} is empty")
    if len(value) > limit:
        raise LessonFileError(f"{name!r} is {len(value):,} characters; keep it under {limit:,}")
    return value


def _int(value: object, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LessonFileError(
            f"{name!r} must be a whole number from {lo} to {hi}; got {_short(value)}"
        )
    return value


def _number(value: object, name: str) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    try:
        ok = ok and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        ok = False
    if not ok:
        raise LessonFileError(f"{name!r} must be a finite number; got {_short(value)}")
    return float(value)


def _short(value: object) -> str:
    return _clip(repr(value))


def _clip(text: str, limit: int = 200) -> str:
    """Keep a message readable even when the offending value is enormous."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _settings(data: object) -> ExperimentConfig:
    """Apply partial overrides onto the defaults; the engine's config classes validate them."""
    data = _object(data, "'settings'")
    _keys(data, set(), set(_SECTIONS), "'settings'")
    default = ExperimentConfig()
    parts = {}
    for section, cls in _SECTIONS.items():
        values = _object(data.get(section, {}), f"settings {section!r}")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise LessonFileError(
                f"settings {section!r} has unknown field(s) {', '.join(map(repr, unknown))} "
                f"(allowed: {', '.join(sorted(names))})"
            )
        try:
            parts[section] = replace(getattr(default, section), **values)
        except OverflowError:
            raise LessonFileError(f"settings {section!r}: a number is far too large") from None
        except (TypeError, ValueError) as exc:
            raise LessonFileError(f"settings {section!r}: {_clip(str(exc))}") from None
    try:
        return ExperimentConfig(**parts)
    except ValueError as exc:
        raise LessonFileError(f"settings: {exc}") from None


def _view(data: object, depth: int) -> ViewHints:
    data = _object(data, "'view'")
    _keys(data, set(), {f.name for f in fields(ViewHints)}, "'view'")
    quantity = data.get("quantity")
    if quantity is not None and quantity not in QUANTITIES:
        raise LessonFileError(
            f"view 'quantity' must be one of {', '.join(QUANTITIES)}; got {quantity!r}"
        )
    flags = {}
    for name in ("overlay", "play"):
        value = data.get(name)
        if value is not None and not isinstance(value, bool):
            raise LessonFileError(f"view {name!r} must be true or false; got {value!r}")
        flags[name] = value
    layer = data.get("layer")
    if layer is not None:
        layer = _layer(layer, depth, "view 'layer'")
    panel = data.get("panel")
    if panel is not None and panel not in PANELS:
        raise LessonFileError(f"view 'panel' must be one of {', '.join(PANELS)}; got {panel!r}")
    return ViewHints(quantity=quantity, layer=layer, panel=panel, **flags)


def _layer(value: object, depth: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= depth:
        raise LessonFileError(
            f"{name} must be a layer number from 1 to {depth} (this step's depth); got {value!r}"
        )
    return value


def _measure(name: str, value: object, depth: int) -> Measure:
    spec = MEASURES[name]
    value = _object(value, f"expect {name!r}")
    _keys(value, set(), {"above", "below", "layer"}, f"expect {name!r}")
    above = _number(value["above"], f"{name} above") if "above" in value else None
    below = _number(value["below"], f"{name} below") if "below" in value else None
    if above is None and below is None:
        raise LessonFileError(f"expect {name!r} needs 'above', 'below' or both")
    if above is not None and below is not None and not above < below:
        raise LessonFileError(f"expect {name!r}: 'above' ({above:g}) must be less than 'below'")
    layer = None
    if spec.needs_layer:
        if "layer" not in value:
            raise LessonFileError(f"expect {name!r} needs a 'layer' (1 = the first hidden layer)")
        layer = _layer(value["layer"], depth, f"expect {name!r} 'layer'")
    elif "layer" in value:
        raise LessonFileError(f"expect {name!r} takes no 'layer'")
    return Measure(name, above, below, layer)


def _expectation(data: object, depth: int) -> Expectation:
    data = _object(data, "each 'expect' entry")
    if "diverges_within_steps" in data:
        _keys(data, {"diverges_within_steps"}, set(), "a 'diverges_within_steps' entry")
        steps = _int(data["diverges_within_steps"], "diverges_within_steps", 1, MAX_EXPECT_STEPS)
        return Expectation(diverges_within_steps=steps)
    _keys(data, set(), {"after_steps", *MEASURES}, "an 'expect' entry")
    after = _int(data.get("after_steps", 0), "after_steps", 0, MAX_EXPECT_STEPS)
    measures = tuple(_measure(k, v, depth) for k, v in data.items() if k != "after_steps")
    if not measures:
        raise LessonFileError(
            f"an 'expect' entry names nothing to measure (use one of {', '.join(MEASURES)})"
        )
    return Expectation(after_steps=after, measures=measures)


def _step(data: object) -> LessonStep:
    data = _object(data, "the step")
    _keys(
        data,
        {"id", "title", "text", "question", "settings"},
        {"view", "citation", "expect", "predict", "summary"},
        "the step",
    )
    texts = {
        k: _text(data[k], k, _STEP_TEXT_LIMITS[k]) for k in ("id", "title", "text", "question")
    }
    settings = _settings(data["settings"])
    depth = settings.network.depth
    view = _view(data.get("view", {}), depth)
    citation = data.get("citation")
    if citation is not None:
        citation = _text(citation, "citation", _STEP_TEXT_LIMITS["citation"])
    summary = None
    if "summary" in data:  # optional, but if present it must be real text (null is refused)
        summary = _text(data["summary"], "summary", _STEP_TEXT_LIMITS["summary"])
    predict = data.get("predict", False)
    if not isinstance(predict, bool):
        raise LessonFileError(f"'predict' must be true or false; got {_short(predict)}")
    if predict and view.play:
        raise LessonFileError(
            'a step with "predict": true hides the answer until Play, so its view cannot '
            'start playing at once ("play": true)'
        )
    expect = data.get("expect", [])
    if not isinstance(expect, list):
        raise LessonFileError(f"'expect' must be a list of entries; got {_kind(expect)}")
    return LessonStep(
        settings=settings,
        view=view,
        citation=citation,
        expect=tuple(_expectation(e, depth) for e in expect),
        predict=predict,
        summary=summary,
        **texts,
    )


# ---------------------------------------------------------------------------- public API
def lesson_from_dict(data: object) -> Lesson:
    """Validate and convert a parsed JSON object; raises LessonFileError naming the step."""
    if not isinstance(data, dict):
        raise LessonFileError("the file does not hold a JSON object")
    if data.get("format") != FORMAT:
        raise LessonFileError(
            f"this is not a Vanishing Gradient Lab lesson (format is {_short(data.get('format'))}, "
            f"expected {FORMAT!r})"
        )
    version = data.get("version")
    if type(version) is not int or version != VERSION:  # as experiments: 1.0 is not 1
        raise LessonFileError(
            f"lesson version {_short(version)} is not supported (this app reads version {VERSION})"
        )
    _keys(
        data, {"format", "version", "title", "author", "description", "steps"}, set(), "the lesson"
    )
    title = _text(data["title"], "title", _TEXT_LIMITS["title"])
    author = _text(data["author"], "author", _TEXT_LIMITS["author"], allow_empty=True)
    description = _text(
        data["description"], "description", _TEXT_LIMITS["description"], allow_empty=True
    )
    raw_steps = data["steps"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonFileError("'steps' must be a non-empty list of steps")
    if len(raw_steps) > MAX_STEPS:
        raise LessonFileError(f"the lesson has {len(raw_steps)} steps; at most {MAX_STEPS}")
    steps: list[LessonStep] = []
    for number, raw in enumerate(raw_steps, start=1):
        step_id = raw.get("id") if isinstance(raw, dict) else None
        label = f"step {number}" + (f" ({_short(step_id)})" if isinstance(step_id, str) else "")
        try:
            steps.append(_step(raw))
        except LessonFileError as exc:
            raise LessonFileError(f"{label}: {exc}") from None
    seen: set[str] = set()
    for number, step in enumerate(steps, start=1):
        if step.id in seen:
            raise LessonFileError(f"step {number}: the id {step.id!r} is used by an earlier step")
        seen.add(step.id)
    return Lesson(title=title, author=author, description=description, steps=tuple(steps))


def _settings_to_dict(config: ExperimentConfig) -> dict:
    document = {section: dict(values) for section, values in config.to_dict().items()}
    if document["data"]["points"] is None:  # lessons use the built-in datasets
        del document["data"]["points"]
    return document


def _expectation_to_dict(e: Expectation) -> dict:
    if e.diverges_within_steps is not None:
        return {"diverges_within_steps": e.diverges_within_steps}
    out: dict = {"after_steps": e.after_steps}
    for m in e.measures:
        bounds = {
            k: v
            for k, v in (("layer", m.layer), ("above", m.above), ("below", m.below))
            if v is not None
        }
        out[m.name] = bounds
    return out


def lesson_to_dict(lesson: Lesson) -> dict:
    """The JSON object of a lesson; settings are written in full, so the file reproduces the
    same experiments even if a later version changes a default."""
    steps = []
    for s in lesson.steps:
        entry: dict = {"id": s.id, "title": s.title}
        if s.summary is not None:  # beside the text it condenses, as the built-in files put it
            entry["summary"] = s.summary
        entry.update(text=s.text, question=s.question, settings=_settings_to_dict(s.settings))
        view = {
            f.name: getattr(s.view, f.name)
            for f in fields(ViewHints)
            if getattr(s.view, f.name) is not None
        }
        if view:
            entry["view"] = view
        if s.citation is not None:
            entry["citation"] = s.citation
        if s.expect:
            entry["expect"] = [_expectation_to_dict(e) for e in s.expect]
        if s.predict:
            entry["predict"] = True
        steps.append(entry)
    return {
        "format": FORMAT,
        "version": VERSION,
        "title": lesson.title,
        "author": lesson.author,
        "description": lesson.description,
        "steps": steps,
    }


def load_lesson(path: str | os.PathLike) -> Lesson:
    """Read a lesson file; raises LessonFileError (never anything else for a bad file)."""
    path = Path(path)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES)
    except FileTooLarge:
        raise LessonFileError(
            f"the file is over {MAX_FILE_BYTES:,} bytes; a lesson is under 1 MB"
        ) from None
    except NotARegularFile as exc:
        raise LessonFileError(f"cannot read {path.name}: {exc}") from None
    except OSError as exc:
        raise LessonFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if not raw.strip():
        raise LessonFileError("the file is empty")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark from Windows editors is fine
    except UnicodeDecodeError:
        raise LessonFileError("the file is not text (it may be binary or corrupt)") from None
    if "\x00" in text:
        raise LessonFileError("the file is not text (it may be binary or corrupt)")
    try:
        data = loads_strict(text, LessonFileError, "a lesson")
    except json.JSONDecodeError as exc:
        raise LessonFileError(
            f"the file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated or miss a comma or quote"
        ) from None
    except LessonFileError:
        raise
    except (ValueError, RecursionError):
        # e.g. an integer with thousands of digits, or lists nested thousands deep
        raise LessonFileError("the file holds numbers or nesting no lesson needs") from None
    return lesson_from_dict(data)


def save_lesson(lesson: Lesson, path: str | os.PathLike) -> None:
    """Write atomically: a failed save never destroys the old file."""
    text = json.dumps(lesson_to_dict(lesson), indent=2, ensure_ascii=False) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def builtin_lessons() -> list[Path]:
    """The lesson files shipped with the app, in their intended order (by file name)."""
    folder = resource_path("lessons")
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


# ---------------------------------------------------------------------------- checking claims
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one claim: what was measured, the value, and whether the claim holds."""

    claim: str
    value: float
    passed: bool


def _judge(m: Measure, value: float, after_steps: int) -> CheckResult:
    ok = not math.isnan(value)
    ok = ok and (m.above is None or value > m.above) and (m.below is None or value < m.below)
    when = "at initialization" if after_steps == 0 else f"after {after_steps} steps"
    return CheckResult(f"{m.describe()} {when}", value, bool(ok))


def check_step(step: LessonStep) -> list[CheckResult]:
    """Re-measure every claim in ``step.expect`` with the engine, as the app would show it.

    Claims at ``after_steps`` = 0 use the statistics the app shows for a freshly built network
    (:meth:`TrainingRun.probe`); after N steps, those of the N-th training step. Dataset loss and
    accuracy are measured on the whole dataset in evaluation mode. One run serves every claim of
    the step, trained up to the largest ``after_steps``.
    """
    results: list[CheckResult] = []
    timed = sorted(
        (e for e in step.expect if e.diverges_within_steps is None), key=lambda e: e.after_steps
    )
    if timed:
        run = TrainingRun(step.settings)
        stats = run.probe()
        diverged_at = None if stats.finite else 0
        for e in timed:
            while run.step_count < e.after_steps and diverged_at is None:
                stats = run.step()
                if not stats.finite:
                    diverged_at = run.step_count
            for m in e.measures:
                if diverged_at is not None and diverged_at < e.after_steps:
                    results.append(
                        CheckResult(
                            f"{m.describe()} after {e.after_steps} steps (diverged at step "
                            f"{diverged_at})",
                            math.nan,
                            False,
                        )
                    )
                    continue
                with np.errstate(all="ignore"):
                    value = MEASURES[m.name].compute(stats, run, m.layer)
                results.append(_judge(m, value, e.after_steps))
    for e in step.expect:
        if e.diverges_within_steps is None:
            continue
        run = TrainingRun(step.settings)
        diverged_at = None
        while run.step_count < e.diverges_within_steps:
            if not run.step().finite:
                diverged_at = run.step_count
                break
        results.append(
            CheckResult(
                f"diverges within {e.diverges_within_steps} steps",
                math.nan if diverged_at is None else float(diverged_at),
                diverged_at is not None,
            )
        )
    return results


@dataclass(frozen=True)
class StabilityResult:
    """How a long training run ended: the step it diverged at (None: it never did), and the
    whole-dataset loss and accuracy (evaluation mode) after the last step."""

    diverged_at: int | None
    loss: float
    accuracy: float


def train_for_stability(config: ExperimentConfig, steps: int) -> StabilityResult:
    """Train ``steps`` SGD steps with the engine's lean step (the app's own step, without the
    per-layer statistics) and report whether the run stayed finite.

    A cure shown to a class must keep training: the test suite runs every demonstrated cure
    through this for 20,000 steps. A plain function of picklable arguments, so the tests can
    spread the runs over processes.
    """
    run = TrainingRun(config)
    for _ in range(steps):
        if not run.step_lean().finite:
            return StabilityResult(run.step_count, math.nan, math.nan)
    loss, accuracy = run.network.evaluate(run.x, run.y)
    return StabilityResult(None, float(loss), float(accuracy))
