"""Lesson text sanitizing (issue 16, items 1-2): only the whitelisted tags survive, without
attributes and nested at most MAX_DEPTH deep; everything else is shown as text. Qt-free."""

from __future__ import annotations

import random
from html.parser import HTMLParser

import pytest

from vg_desktop.lesson_html import ALLOWED_TAGS, MAX_DEPTH, sanitize_lesson_html


class _Audit(HTMLParser):
    """Every tag and attribute in a sanitized result, and the deepest nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: list = []
        self.depth = self.max_depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += attrs
        if tag != "br":
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)

    def handle_endtag(self, tag):
        self.depth -= 1

    def handle_data(self, data):
        self.text.append(data)


def audit(text: str) -> _Audit:
    result = _Audit()
    result.feed(sanitize_lesson_html(text))
    result.close()
    return result


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<p>Already <b>HTML</b></p>", "<p>Already <b>HTML</b></p>"),
        ("<p>x<sub>l</sub>, e<sup>2</sup>, <i>f</i>′<br>next</p>", None),
        ('<p style="color:red" onclick="x()">y</p>', "<p>y</p>"),
        ('<img src="file:///dev/zero">', '&lt;img src="file:///dev/zero"&gt;'),
        ("<b><table><tr><td>x", "<b>&lt;table&gt;&lt;tr&gt;&lt;td&gt;x</b>"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<!-- a teacher's note -->kept", "kept"),
        ("</b>stray end", "stray end"),
        ("<b><i>x</b>y</i>", "<b><i>x</i></b>y"),
        ("a &lt; b &amp; c", "a &lt; b &amp; c"),
        ('<a href="https://doi.org/10.1/x">He 2016</a>', "He 2016 (https://doi.org/10.1/x)"),
        ('<a href="https://doi.org/x">https://doi.org/x</a>', "https://doi.org/x"),
        ('<a href="file:///etc/passwd">a file</a>', "a file"),
        ('<a href="javascript:alert(1)">js</a>', "js"),
    ],
)
def test_examples(text, expected):
    if expected is None:
        expected = text
    assert sanitize_lesson_html(text) == expected


def test_nesting_is_bounded_and_text_kept():
    result = audit("<i>" * 500 + "deep" + "</i>" * 500)
    assert result.max_depth == MAX_DEPTH and "".join(result.text) == "deep"
    result = audit("<ul><li>" * 200 + "deep")
    assert result.max_depth <= MAX_DEPTH and "deep" in "".join(result.text)


def test_random_tag_soup_keeps_only_allowed_tags_without_attributes():
    """Random markup from real tag names, attributes that load things, and broken syntax."""
    rng = random.Random(16)
    tags = [*ALLOWED_TAGS, "table", "tr", "td", "img", "link", "style", "div", "span", "font"]
    tags += ["blockquote", "pre", "h1", "hr", "object", "iframe", "svg", "body", "html", "head"]
    attrs = [
        'src="file:///dev/zero"',
        'href="../x.css"',
        'style="background-image:url(file:///etc/passwd)"',
        "background=/dev/urandom",
        'href="https://example.org"',
        "width=99999",
        "",
    ]
    pieces = ["<", ">", "</", "&", "&amp;", "&#x3c;", "\n", "text", '"', "'", "<!--", "-->"]
    for _ in range(2000):
        parts = []
        for _ in range(rng.randint(1, 60)):
            roll = rng.random()
            tag = rng.choice(tags)
            if roll < 0.45:
                parts.append(f"<{tag} {rng.choice(attrs)}>")
            elif roll < 0.75:
                parts.append(f"</{tag}>")
            else:
                parts.append(rng.choice(pieces))
        text = "".join(parts)
        result = audit(text)
        assert result.tags <= ALLOWED_TAGS - {"a"}, (text, result.tags)
        assert result.attrs == [], (text, result.attrs)
        assert result.max_depth <= MAX_DEPTH, text
