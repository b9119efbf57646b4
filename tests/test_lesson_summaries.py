"""A step's ``summary`` (issue 11, item 9): the few sentences the lesson panel projects beside the
question. Reading is strict; the built-in summaries are short, plain, one line, make no claim
their step's text does not (every figure in them is one the text or question states), and a
step that asks the class to predict does not give the answer away."""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import pytest

from vg_desktop.lessons import (
    LessonFileError,
    builtin_lessons,
    lesson_from_dict,
    lesson_to_dict,
    load_lesson,
    save_lesson,
)

SUMMARY_MIN, SUMMARY_MAX = 60, 280  # the built-in steps' own rule (a file may hold up to 600)


def document(**step_fields) -> dict:
    step = {"id": "deep", "title": "Deep", "text": "Ten layers.", "question": "Why?"}
    step.update(settings={"network": {"depth": 3, "width": 4}}, **step_fields)
    return {
        "format": "vg-desktop-lesson",
        "version": 1,
        "title": "T",
        "author": "",
        "description": "",
        "steps": [step],
    }


# ---------------------------------------------------------------------------- reading
def test_a_step_without_a_summary_still_loads_and_saves_without_one(tmp_path):
    lesson = lesson_from_dict(document())
    assert lesson.steps[0].summary is None
    assert "summary" not in lesson_to_dict(lesson)["steps"][0]
    path = tmp_path / "plain.json"
    save_lesson(lesson, path)
    assert load_lesson(path) == lesson


def test_a_summary_is_read_and_round_trips(tmp_path):
    text = "Three layers: the first layer's bar is the lowest. " + "x" * 549
    assert len(text) == 600  # the longest a file may hold
    lesson = lesson_from_dict(document(summary=text))
    assert lesson.steps[0].summary == text
    assert lesson_to_dict(lesson)["steps"][0]["summary"] == text
    path = tmp_path / "with-summary.json"
    save_lesson(lesson, path)
    assert load_lesson(path) == lesson


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (5, "'summary' must be text; got a number"),
        (None, "'summary' must be text; got null"),
        (["a", "b"], "'summary' must be text; got a list"),
        ("", "'summary' is empty"),
        ("   \n ", "'summary' is empty"),
        ("y" * 601, "'summary' is 601 characters"),
    ],
)
def test_a_bad_summary_is_refused_naming_the_step_and_the_key(value, fragment):
    with pytest.raises(LessonFileError) as info:
        lesson_from_dict(document(summary=value))
    message = str(info.value)
    assert message.startswith("step 1 ('deep'): ") and fragment in message, message


# ---------------------------------------------------------------------------- figures in prose
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ⁿˣ", "0123456789-+nx")
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_EXPONENT = r"\^[-+]?(?:[0-9]+|[nx])"
_TOKEN = re.compile(
    rf"(?P<mantissa>{_NUMBER})\s*×\s*10(?P<sci>{_EXPONENT})"  # 4 × 10⁻¹²
    rf"|(?P<base>{_NUMBER})(?P<power>{_EXPONENT})"  # 10⁻¹², 0.25¹⁹, 2¹⁹, 4ⁿ
    rf"|(?P<percent>{_NUMBER})\s*%"  # 86 %
    rf"|(?P<plain>{_NUMBER})",  # 0.69, 1,000
    re.ASCII,
)


def _normalized(text: str) -> str:
    """Superscripts as ``^exponent``; thousands separators dropped (1,000 → 1000)."""
    text = re.sub(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺ⁿˣ]+", lambda m: "^" + m.group().translate(_SUPERSCRIPTS), text)
    return re.sub(r"(?<=[0-9]),(?=[0-9]{3}(?![0-9]))", "", text)


def _value(number: str) -> str:
    return format(Decimal(number).normalize(), "f") if "." in number else str(int(number))


def figures(text: str) -> set[str]:
    """Every figure in a sentence, one canonical string per value and notation kind: '4e-12'
    for 4 × 10⁻¹², '10^-12' for 10⁻¹², '86%', '0.69'. Subscripts (W₀, log₁₀) are names, not
    figures."""
    found = set()
    for m in _TOKEN.finditer(_normalized(text)):
        if m["mantissa"]:
            found.add(f"{_value(m['mantissa'])}e{m['sci'][1:]}")
        elif m["base"]:
            found.add(f"{_value(m['base'])}{m['power']}")
        elif m["percent"]:
            found.add(f"{_value(m['percent'])}%")
        else:
            found.add(_value(m["plain"]))
    return found


def test_figures_are_read_in_every_notation_the_lessons_use():
    assert figures("about 4 × 10⁻¹² and 10⁻¹², 0.25¹⁹, 2¹⁹ and 4ⁿ") == {
        "4e-12",
        "10^-12",
        "0.25^19",
        "2^19",
        "4^n",
    }
    assert figures("2,000 steps, 86 % of 1,797 digits; 0.20 and 0.2; 8 × 8 images") == {
        "2000",
        "86%",
        "1797",
        "0.2",
        "8",
    }
    assert figures("‖W − W₀‖ / ‖W₀‖ on a log₁₀ axis, N(0, 1)") == {"0", "1"}
    # A figure the text does not state is caught, in any notation.
    assert not figures("about 3 × 10⁻¹²") <= figures("about 4 × 10⁻¹² and 3 layers")
    assert not figures("10⁻⁶") <= figures("0.25¹⁰ ≈ 10⁻⁸, 6 layers")
    assert not figures("87 %") <= figures("86 % after 87 steps")


# ---------------------------------------------------------------------------- built-in lessons
def builtin_steps():
    return [
        (f"{path.stem[:2]}:{step.id}", step)
        for path in builtin_lessons()
        for step in load_lesson(path).steps
    ]


STEPS = builtin_steps()
IDS = [name for name, _ in STEPS]


def test_every_built_in_step_has_a_summary():
    missing = [name for name, step in STEPS if step.summary is None]
    assert not missing, f"steps without a summary: {missing}"
    assert len(STEPS) == 27


@pytest.mark.parametrize("step", [s for _, s in STEPS], ids=IDS)
def test_built_in_summary_is_short_plain_and_one_line(step):
    summary = step.summary
    assert SUMMARY_MIN <= len(summary) <= SUMMARY_MAX, len(summary)
    assert summary == summary.strip() and "  " not in summary
    assert not re.search(r"[\n\r\t\u2028\u2029]", summary), "one line, no breaks"
    assert not re.search(r"<[A-Za-z/!?]|&#?\w+;", summary), "plain text, no HTML"
    assert "?" not in summary, "the question is shown beside the summary: do not repeat it"
    assert summary.count(". ") + 1 <= 3 + summary.count("e.g. "), "one to three sentences"


@pytest.mark.parametrize("step", [s for _, s in STEPS], ids=IDS)
def test_every_figure_of_a_summary_is_stated_by_its_step(step):
    stated = figures(step.text) | figures(step.question)
    new = figures(step.summary) - stated
    assert not new, f"{step.id}: the summary states {sorted(new)}, which its text does not"


def _expected_bounds(step) -> set[str]:
    """The bounds of the step's measured claims, as figures (1e-10 as '10^-10' and '1e-10')."""
    bounds = set()
    for e in step.expect:
        if e.diverges_within_steps is not None:
            bounds.add(str(e.diverges_within_steps))
        for m in e.measures:
            for bound in (m.above, m.below):
                if bound is None:
                    continue
                exact = Decimal(repr(bound)).normalize()
                bounds.add(format(exact, "f"))  # 0.65, 10000
                bounds |= {f"10^{exact.adjusted()}", f"1e{exact.adjusted()}"}
    return bounds


PREDICT = [(name, step) for name, step in STEPS if step.predict]


@pytest.mark.parametrize("step", [s for _, s in PREDICT], ids=[n for n, _ in PREDICT])
def test_a_predicting_summary_does_not_give_the_answer_away(step):
    """The bars are veiled until Play: the summary sets the experiment up, with no power of ten
    (a measured ratio), no bound of a measured claim and none of the outcome's words."""
    summary = step.summary
    found = figures(summary)
    assert not [f for f in found if "^" in f or "e" in f], f"a power of ten in {summary!r}"
    assert not found & _expected_bounds(step), found & _expected_bounds(step)
    words = ("vanish", "explod", "smallest", "largest", "millionth", "diverg", "overflow", "0.69")
    assert not [w for w in words if w in summary.lower()], summary
    assert "predict" in summary.lower()


def test_the_answer_check_catches_a_summary_that_tells():
    story = {s.id: s for s in load_lesson(builtin_lessons()[0]).steps}
    tells = story["the-problem"].text.split("\n\n")[1]  # "… about 10⁻¹² of it …"
    assert [f for f in figures(tells) if "^" in f]
    exploding = story["exploding"]
    assert figures("more than 10⁴ times") & _expected_bounds(exploding)


def test_summaries_survive_a_round_trip_through_a_file(tmp_path):
    for path in builtin_lessons():
        lesson = load_lesson(path)
        copy_path = tmp_path / path.name
        save_lesson(lesson, copy_path)
        again = load_lesson(copy_path)
        assert [s.summary for s in again.steps] == [s.summary for s in lesson.steps]
        assert lesson_from_dict(copy.deepcopy(lesson_to_dict(lesson))) == lesson
