"""A step's ``summary`` (issue 11, item 9): the few sentences the lesson panel projects beside the
question. Reading is strict; the built-in summaries are short, plain, one line, make no claim
their step's text does not (every figure in them is one the text or question states), and a
step that asks the class to predict does not give the answer away."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from vg_desktop.lessons import (
    LessonFileError,
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
