"""Lesson text as safe HTML: a small whitelist of inline tags, everything else shown as text.

A lesson is a file anyone can write and share, and Qt's rich text is a full layout engine: a
668-byte lesson of 30 nested ``<table>``s froze the window for good (its layout doubles per
level), and ``<img src="file:///dev/zero">`` made Qt read an endless device. So lesson text never
reaches Qt as written. It is parsed and rebuilt from these tags only, without attributes:

    p  br  b  strong  i  em  u  sub  sup  small  code  ul  ol  li  a

nested at most :data:`MAX_DEPTH` deep (deeper tags are dropped, their text kept). Any other tag,
``<table>`` and ``<img>`` included, is shown literally, as the text it is; comments and
declarations are dropped. ``<a href="https://...">label</a>`` becomes ``label (https://...)``:
the app is offline and follows no link, so the address is shown for the teacher to open
elsewhere (other schemes show the label only). Nothing in the result refers to a resource, so
Qt has nothing to load; the lesson panel's browser refuses every load anyway.

Standard library only (no Qt), so it is testable on its own.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

ALLOWED_TAGS = frozenset(
    {"p", "br", "b", "strong", "i", "em", "u", "sub", "sup", "small", "code", "ul", "ol", "li", "a"}
)
VOID_TAGS = frozenset({"br"})
MAX_DEPTH = 6  # elements open at once; Qt lays out a few levels of lists or emphasis instantly
LINK_SCHEMES = ("http://", "https://")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        # Open elements: (tag, emitted). Tags past MAX_DEPTH are tracked but not emitted, so
        # their end tags close the right element.
        self.stack: list[tuple[str, bool]] = []
        self.links: list[tuple[str | None, list[str]]] = []  # (href, text seen inside)

    def _depth(self) -> int:
        return sum(1 for _, emitted in self.stack if emitted)

    def _text(self, text: str) -> None:
        self.out.append(html.escape(text, quote=False))
        for _, seen in self.links:
            seen.append(text)

    def _literal(self) -> None:
        """Show the markup just parsed as the text it is."""
        text = self.get_starttag_text() or ""
        self._text(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self._literal()
            return
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}>")
            return
        emitted = self._depth() < MAX_DEPTH
        if tag == "a":
            href = dict(attrs).get("href") or ""
            href = href.strip()
            self.links.append((href if href.lower().startswith(LINK_SCHEMES) else None, []))
            self.stack.append((tag, False))  # a link is never emitted as a link
            return
        self.stack.append((tag, emitted))
        if emitted:
            self.out.append(f"<{tag}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            self.out.append(f"<{tag}>")
        elif tag in ALLOWED_TAGS:
            pass  # an empty element: nothing to show
        else:
            self._literal()

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self._text(f"</{tag}>")
            return
        if tag in VOID_TAGS or all(open_tag != tag for open_tag, _ in self.stack):
            return  # a stray end tag: nothing to close
        while self.stack:
            open_tag, emitted = self.stack.pop()
            self._close(open_tag, emitted)
            if open_tag == tag:
                break

    def _close(self, tag: str, emitted: bool) -> None:
        if tag == "a":
            href, seen = self.links.pop()
            if href is not None and "".join(seen).strip() != href:
                self._text(f" ({href})")
        elif emitted:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self._text(data)

    # Comments, declarations and processing instructions: dropped.
    def handle_comment(self, data: str) -> None:
        pass

    def handle_decl(self, decl: str) -> None:
        pass

    def handle_pi(self, data: str) -> None:
        pass

    def unknown_decl(self, data: str) -> None:
        pass

    def finish(self) -> str:
        self.close()
        while self.stack:
            self._close(*self.stack.pop())
        return "".join(self.out)


def sanitize_lesson_html(text: str) -> str:
    """``text`` rebuilt from the allowed tags only (see the module docstring)."""
    parser = _Sanitizer()
    parser.feed(text)
    return parser.finish()
