"""Helpers for the headless widget tests: walk a widget tree, find controls, count figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def walk(widget: Any) -> Iterator[Any]:
    """Every widget in a tree of boxes, depth first, the root included."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def find(root: Any, cls_name: str, description: str | None = None) -> list[Any]:
    """The widgets under ``root`` of class ``cls_name`` (and with this ``description``, if given)."""
    return [w for w in walk(root) if type(w).__name__ == cls_name
            and (description is None or getattr(w, "description", None) == description)]


def images_in(output: Any) -> int:
    """How many PNG figures an ``Output`` widget holds."""
    return sum("image/png" in o.get("data", {}) for o in output.outputs)
