"""Lesson files: strict reading with messages a teacher can act on, exact round trips, and —
because we teach — every measurable claim of the built-in lessons re-measured on the engine."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from vg_desktop.engine import ExperimentConfig
from vg_desktop.lessons import (
    MEASURES,
    Expectation,
    LessonFileError,
    LessonStep,
    Measure,
    builtin_lessons,
    check_step,
    lesson_from_dict,
    lesson_to_dict,
    load_lesson,
    save_lesson,
)

CLASSIC_CITATIONS = [
    "Glorot, X. & Bengio, Y. (2010)",
    "He, K., Zhang, X., Ren, S. & Sun, J. (2015)",
    "Ioffe, S. & Szegedy, C. (2015)",
    'He, K., Zhang, X., Ren, S. & Sun, J. (2016) "Identity Mappings',
]


def small_document() -> dict:
    """A complete, valid two-step lesson (cheap networks, so checks run in milliseconds)."""
    return {
        "format": "vg-desktop-lesson",
        "version": 1,
        "title": "A small lesson",
        "author": "A teacher",
        "description": "",
        "steps": [
            {
                "id": "deep",
                "title": "Deep sigmoid",
                "text": "Ten sigmoid layers.",
                "question": "Which bar is lowest?",
                "settings": {
                    "network": {"depth": 10, "width": 8},
                    "data": {"n_samples": 64},
                    "train": {"batch_size": 16},
                },
                "view": {"quantity": "signal", "overlay": True, "layer": 3, "play": False},
                "citation": "Someone (2020)",
                "expect": [{"signal_ratio_first_to_last": {"below": 1e-3}}],
            },
            {
                "id": "defaults",
                "title": "Defaults",
                "text": "<p>All <b>defaults</b>.</p>",
                "question": "What do you see?",
                "settings": {},
            },
        ],
    }


def write(tmp_path, document, name="lesson.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def expect_error(tmp_path, document, *fragments):
    with pytest.raises(LessonFileError) as info:
        load_lesson(write(tmp_path, document))
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# ---------------------------------------------------------------------------- built-in lessons
def builtin_steps() -> list[tuple[str, LessonStep]]:
    return [
        (f"{path.stem}:{step.id}", step)
        for path in builtin_lessons()
        for step in load_lesson(path).steps
    ]


def test_builtin_lessons_are_shipped_and_load():
    names = [path.name for path in builtin_lessons()]
    assert names == [
        "01-the-vanishing-gradient.json",
        "02-classic-papers.json",
        "03-what-the-first-layers-learn.json",
    ]
    story, classics, digits = (load_lesson(path) for path in builtin_lessons())
    assert len(digits.steps) == 2
    assert all(step.settings.data.name == "digits" for step in digits.steps)
    assert 8 <= len(story.steps) <= 17  # 14 story steps + clipping + "Does Adam fix it?" (2)
    assert len(classics.steps) == 8
    for lesson in (story, classics, digits):
        for step in lesson.steps:
            assert isinstance(step.settings, ExperimentConfig)
            assert step.question.strip() and step.text.strip()
            assert step.expect, f"{step.id} makes no checkable claim"


def test_classic_presets_carry_their_citations():
    classics = load_lesson(builtin_lessons()[1])
    cited = " ".join(step.citation or "" for step in classics.steps)
    for reference in CLASSIC_CITATIONS:
        assert reference in cited
    assert all(step.citation for step in classics.steps)
    assert all("small scale" in step.text for step in classics.steps)


def test_story_never_claims_resnet_was_about_vanishing_gradients():
    story = load_lesson(builtin_lessons()[0])
    residual = next(step for step in story.steps if step.settings.network.residual)
    assert "degradation" in residual.text
    assert "Identity Mappings" in residual.text


@pytest.mark.parametrize(
    "step", [s for _, s in builtin_steps()], ids=[name for name, _ in builtin_steps()]
)
def test_builtin_claims_hold_on_the_engine(step):
    results = check_step(step)
    assert results
    failed = [f"{r.claim}: measured {r.value:.3g}" for r in results if not r.passed]
    assert not failed, "; ".join(failed)


# ---------------------------------------------------------------------------- round trips
def test_round_trip_through_a_file_is_exact(tmp_path):
    for path in builtin_lessons():
        lesson = load_lesson(path)
        copy_path = tmp_path / path.name
        save_lesson(lesson, copy_path)
        assert load_lesson(copy_path) == lesson
        assert lesson_from_dict(lesson_to_dict(lesson)) == lesson
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in builtin_lessons())


def test_saving_over_a_file_replaces_it_whole(tmp_path):
    path = write(tmp_path, small_document())
    lesson = load_lesson(path)
    changed = replace(lesson, title="Renamed")
    save_lesson(changed, path)
    assert load_lesson(path) == changed
    assert [p.name for p in tmp_path.iterdir()] == ["lesson.json"]  # no temporary left behind


def test_partial_settings_override_the_defaults():
    lesson = lesson_from_dict(small_document())
    deep, defaults = lesson.steps
    assert defaults.settings == ExperimentConfig()
    assert deep.settings.network.depth == 10 and deep.settings.network.width == 8
    assert deep.settings.network.activation == ExperimentConfig().network.activation
    assert deep.view.layer == 3 and deep.view.overlay is True
    assert defaults.view.quantity is None and defaults.citation is None


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(small_document()).encode("utf-8"))
    assert load_lesson(path).title == "A small lesson"


# ---------------------------------------------------------------------------- bad files
@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not text"),
        (b'{"format": "vg-desktop-lesson",\x00 "version": 1}', "not text"),
        (b"[1, 2, 3]", "JSON object"),
        (b'{"format": "vg-desktop-lesson", "version": 1, "title": NaN}', "NaN"),
        (b'{"format": "vg-desktop-lesson", "format": "vg-desktop-lesson"}', "appears twice"),
        (b'{"version": 1' + b"0" * 5000 + b"}", "no lesson needs"),
        (b"[" * 100_000, "no lesson needs|not valid JSON"),
    ],
    ids=["empty", "blank", "binary", "nul", "list", "nan", "duplicate-key", "huge-int", "nesting"],
)
def test_unreadable_files_are_refused(tmp_path, payload, fragment):
    path = tmp_path / "bad.json"
    path.write_bytes(payload)
    with pytest.raises(LessonFileError, match=fragment):
        load_lesson(path)


def test_truncated_file_is_refused(tmp_path):
    text = (builtin_lessons()[0]).read_text(encoding="utf-8")
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(LessonFileError, match="truncated"):
        load_lesson(path)


def test_huge_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as fh:
        fh.truncate(1_000_001)
    with pytest.raises(LessonFileError, match="under 1 MB"):
        load_lesson(path)


def test_missing_file_and_folder_are_refused(tmp_path):
    with pytest.raises(LessonFileError, match="cannot read"):
        load_lesson(tmp_path / "nope.json")
    with pytest.raises(LessonFileError, match="cannot read"):
        load_lesson(tmp_path)


def mutate(change):
    document = small_document()
    change(document)
    return document


def step0(document):
    return document["steps"][0]


BAD_DOCUMENTS = {
    "not-a-lesson": (lambda d: d.update(format="vg-desktop-experiment"), ["not a Vanishing"]),
    "no-format": (lambda d: d.pop("format"), ["not a Vanishing"]),
    "version-2": (lambda d: d.update(version=2), ["version 2", "reads version 1"]),
    "version-text": (lambda d: d.update(version="1"), ["version '1'"]),
    "version-bool": (lambda d: d.update(version=True), ["version True"]),
    "missing-title": (lambda d: d.pop("title"), ["lacks 'title'"]),
    "extra-field": (lambda d: d.update(colour="red"), ["unknown field(s) 'colour'"]),
    "title-number": (lambda d: d.update(title=3), ["'title' must be text"]),
    "empty-title": (lambda d: d.update(title="  "), ["'title' is empty"]),
    "steps-object": (lambda d: d.update(steps={}), ["non-empty list"]),
    "no-steps": (lambda d: d.update(steps=[]), ["non-empty list"]),
    "step-not-object": (lambda d: d["steps"].append(5), ["step 3", "JSON object"]),
    "step-missing-question": (
        lambda d: step0(d).pop("question"),
        ["step 1 ('deep')", "lacks 'question'"],
    ),
    "step-extra-field": (lambda d: step0(d).update(answer="x"), ["step 1", "'answer'"]),
    "duplicate-id": (lambda d: d["steps"][1].update(id="deep"), ["step 2", "'deep'"]),
    "unknown-section": (lambda d: step0(d)["settings"].update(optimizer={}), ["'optimizer'"]),
    "unknown-setting": (
        lambda d: step0(d)["settings"]["network"].update(dropout=0.5),
        ["step 1 ('deep')", "'dropout'"],
    ),
    "depth-out-of-range": (
        lambda d: step0(d)["settings"]["network"].update(depth=500),
        ["step 1 ('deep')", "depth must be an integer from 1 to 200", "500"],
    ),
    "depth-as-text": (
        lambda d: step0(d)["settings"]["network"].update(depth="20"),
        ["step 1", "depth must be an integer"],
    ),
    "bad-activation": (
        lambda d: step0(d)["settings"]["network"].update(activation="swish"),
        ["activation must be one of"],
    ),
    "residual-text": (
        lambda d: step0(d)["settings"]["network"].update(residual="yes"),
        ["residual must be true or false"],
    ),
    "gain-huge-integer": (
        lambda d: step0(d)["settings"]["network"].update(init_gain=10**400),
        ["step 1 ('deep')", "far too large"],
    ),
    "bound-huge-integer": (
        lambda d: step0(d)["expect"].append({"dataset_loss": {"above": 10**400}}),
        ["must be a finite number"],
    ),
    "lr-too-large": (
        lambda d: step0(d)["settings"]["train"].update(learning_rate=50),
        ["learning_rate must be a number from"],
    ),
    "batch-norm-batch-1": (
        lambda d: step0(d)["settings"].update(
            network={"normalization": "batch"}, train={"batch_size": 1}
        ),
        ["step 1 ('deep')", "batch size of at least 3"],
    ),
    "section-not-object": (
        lambda d: step0(d)["settings"].update(network=[]),
        ["settings 'network' must be a JSON object"],
    ),
    "view-quantity": (
        lambda d: step0(d)["view"].update(quantity="loss"),
        ["view 'quantity' must be one of signal, weight, update"],
    ),
    "view-overlay-text": (
        lambda d: step0(d)["view"].update(overlay="true"),
        ["view 'overlay' must be true or false"],
    ),
    "view-layer-too-deep": (
        lambda d: step0(d)["view"].update(layer=11),
        ["view 'layer'", "from 1 to 10"],
    ),
    "view-unknown": (lambda d: step0(d)["view"].update(zoom=2), ["'zoom'"]),
    "expect-not-list": (lambda d: step0(d).update(expect={}), ["'expect' must be a list"]),
    "expect-unknown-measure": (
        lambda d: step0(d)["expect"].append({"magic": {"below": 1}}),
        ["'magic'", "signal_ratio_first_to_last"],
    ),
    "expect-no-bounds": (
        lambda d: step0(d)["expect"].append({"signal_ratio_first_to_last": {}}),
        ["needs 'above', 'below' or both"],
    ),
    "expect-bounds-reversed": (
        lambda d: step0(d)["expect"].append({"dataset_loss": {"above": 2, "below": 1}}),
        ["must be less than 'below'"],
    ),
    "expect-bound-text": (
        lambda d: step0(d)["expect"].append({"dataset_loss": {"above": "0.5"}}),
        ["must be a finite number"],
    ),
    "expect-layer-missing": (
        lambda d: step0(d)["expect"].append({"mean_derivative_layer": {"below": 0.25}}),
        ["needs a 'layer'"],
    ),
    "expect-layer-too-deep": (
        lambda d: step0(d)["expect"].append(
            {"mean_derivative_layer": {"layer": 11, "below": 0.25}}
        ),
        ["from 1 to 10"],
    ),
    "expect-layer-not-allowed": (
        lambda d: step0(d)["expect"].append({"dataset_loss": {"layer": 1, "below": 1}}),
        ["takes no 'layer'"],
    ),
    "expect-nothing": (
        lambda d: step0(d)["expect"].append({"after_steps": 5}),
        ["names nothing to measure"],
    ),
    "expect-negative-steps": (
        lambda d: step0(d)["expect"].append({"after_steps": -1, "dataset_loss": {"below": 1}}),
        ["'after_steps'"],
    ),
    "expect-too-many-steps": (
        lambda d: step0(d)["expect"].append({"after_steps": 10**6, "dataset_loss": {"below": 1}}),
        ["from 0 to 5000"],
    ),
    "diverges-with-extra": (
        lambda d: step0(d)["expect"].append({"diverges_within_steps": 5, "after_steps": 1}),
        ["'after_steps'"],
    ),
    "long-text": (lambda d: step0(d).update(text="x" * 7000), ["keep it under"]),
}


@pytest.mark.parametrize("name", list(BAD_DOCUMENTS))
def test_bad_documents_are_refused_with_a_useful_message(tmp_path, name):
    change, fragments = BAD_DOCUMENTS[name]
    expect_error(tmp_path, mutate(change), *fragments)


def test_valid_document_is_accepted(tmp_path):
    lesson = load_lesson(write(tmp_path, small_document()))
    assert [s.id for s in lesson.steps] == ["deep", "defaults"]
    original = small_document()
    assert lesson_from_dict(copy.deepcopy(original)) == lesson


# ---------------------------------------------------------------------------- checking claims
def small_step(expect: tuple[Expectation, ...], **network) -> LessonStep:
    document = small_document()
    step0(document)["settings"]["network"].update(network)
    step = lesson_from_dict(document).steps[0]
    return replace(step, expect=expect)


def test_a_false_claim_is_reported_as_failed():
    claim = Expectation(measures=(Measure("signal_ratio_first_to_last", above=1.0),))
    (result,) = check_step(small_step((claim,)))
    assert not result.passed
    assert result.value < 1e-3
    assert "at initialization" in result.claim


def test_claims_after_training_and_divergence():
    trained = Expectation(
        after_steps=20,
        measures=(
            Measure("dataset_accuracy", above=0.0),
            Measure("mean_derivative_layer", below=0.25, layer=2),
        ),
    )
    healthy = Expectation(diverges_within_steps=3)
    results = check_step(small_step((trained, healthy)))
    assert [r.passed for r in results] == [True, True, False]
    assert "after 20 steps" in results[0].claim


def test_a_run_that_diverges_fails_later_claims():
    exploding = {"activation": "relu", "init": "he", "init_gain": 20.0, "depth": 10}
    step = small_step(
        (
            Expectation(diverges_within_steps=20),
            Expectation(after_steps=50, measures=(Measure("dataset_loss", below=1),)),
        ),
        **exploding,
    )
    step = replace(
        step, settings=replace(step.settings, train=replace(step.settings.train, learning_rate=1.0))
    )
    late, diverges = check_step(step)
    assert diverges.passed and diverges.value <= 20
    assert not late.passed and "diverged at step" in late.claim


def test_every_measure_is_documented_for_teachers():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "writing-lessons.md").read_text(
        encoding="utf-8"
    )
    for name in [*MEASURES, "after_steps", "diverges_within_steps"]:
        assert f"`{name}`" in guide, f"{name} is not documented in docs/writing-lessons.md"


def test_the_guide_example_loads_and_its_claims_hold(tmp_path):
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "docs" / "writing-lessons.md").read_text(
        encoding="utf-8"
    )
    example = re.findall(r"```json\n(.*?)```", guide, re.S)[-1]
    path = tmp_path / "example.json"
    path.write_text(example, encoding="utf-8")
    lesson = load_lesson(path)
    assert len(lesson.steps) == 2
    for step in lesson.steps:
        assert all(r.passed for r in check_step(step))


def test_train_for_stability_reports_the_divergence_step():
    """The helper the 20,000-step cure test uses: lesson 01's exploding step becomes NaN at step
    3 (as its ``diverges_within_steps`` claim measures), a small healthy network never does."""
    from vg_desktop.lessons import train_for_stability

    story = load_lesson(builtin_lessons()[0])
    exploding = next(step for step in story.steps if step.id == "exploding")
    assert train_for_stability(exploding.settings, 10).diverged_at == 3
    healthy = train_for_stability(small_step(()).settings, 50)
    assert healthy.diverged_at is None and 0.0 <= healthy.accuracy <= 1.0
