"""JSON as experiment and lesson files read it: one rule for both.

``json.loads`` lets a repeated key silently win (``{"depth": 5, "depth": 200}`` is depth 200, and
a reader of the file sees 5 first) and accepts ``NaN`` and ``Infinity``, which JSON does not
have. Both file kinds refuse them, naming the key or the constant, through the caller's own
error class.

Standard library only.
"""

from __future__ import annotations

import json


class _Constant:
    """Stands in for NaN/Infinity while parsing, so the message can name the field."""

    def __init__(self, name: str) -> None:
        self.name = name


def _constant_in(value: object) -> _Constant | None:
    if isinstance(value, _Constant):
        return value
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, _Constant)), None)
    return None


def loads_strict(text: str, error: type[Exception], what: str) -> object:
    """Parse ``text``; a repeated key or a NaN/Infinity constant raises ``error`` naming the
    field (``what`` names the file kind, e.g. "an experiment"). JSON syntax errors are
    ``json.JSONDecodeError`` as usual."""

    def shown(key: str) -> str:
        return repr(key if len(key) <= 40 else key[:39] + "…")

    def check_object(pairs: list[tuple[str, object]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                raise error(f"the field {shown(key)} appears twice in one object")
            constant = _constant_in(value)
            if constant is not None:
                raise error(
                    f"the field {shown(key)} holds {constant.name}, which is not a number "
                    f"{what} can use"
                )
            out[key] = value
        return out

    data = json.loads(text, object_pairs_hook=check_object, parse_constant=_Constant)
    constant = _constant_in(data)
    if constant is not None:
        raise error(f"{constant.name} is not a number {what} can use")
    return data
