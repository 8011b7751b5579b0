"""Run a student's function, or the reference while it is still unfinished.

Lecture cells that *use* an exercise (a plot, a training run, a widget) should work before the
student has written it: a stub raises ``NotImplementedError``, and the cell then runs the
reference of the same name and says so once. Test cells never use this: they check the
student's own function.
"""

from __future__ import annotations

import importlib
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["yours_or_reference"]

# Where a reference of the same name is looked for, in order (dlcourse.gpu imports torch, so last).
_REFERENCE_PACKAGES = ("dlcourse.ref", "dlcourse.gpu")


class _YoursOrReference:
    """Callable: ``yours(*args)``, or ``reference(*args)`` when ``yours`` raises NotImplementedError."""

    def __init__(self, yours: Callable[..., Any], reference: Callable[..., Any]) -> None:
        self.yours = yours
        self.reference = reference
        self.fell_back = False
        self.__name__ = getattr(yours, "__name__", "function")
        self.__doc__ = getattr(yours, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self.yours(*args, **kwargs)
        except NotImplementedError:
            if not self.fell_back:
                where = f"{getattr(self.reference, '__module__', '?')}.{getattr(self.reference, '__name__', '?')}"
                print(f"({self.__name__} is not written yet: this cell uses the reference {where} instead.)")
                self.fell_back = True
            return self.reference(*args, **kwargs)

    @property
    def note(self) -> str:
        """A short label suffix for figures: empty, or says that the reference was used."""
        return " (reference: yours is not written yet)" if self.fell_back else ""


def yours_or_reference(yours: Callable[..., Any], reference: Callable[..., Any] | None = None) -> _YoursOrReference:
    """Wrap ``yours`` so that it falls back to ``reference`` while it is unfinished.

    Args:
        yours: the student's function (or class).
        reference: what to run instead; by default the object of the same name in
            ``dlcourse.ref``, else in ``dlcourse.gpu``.

    Returns:
        A callable with the same name; its ``fell_back`` attribute says whether the reference ran,
        and ``note`` gives a label suffix for figures.

    Raises:
        ValueError: no ``reference`` given and neither package has one of that name.
    """
    if not callable(yours):
        raise TypeError(f"yours_or_reference expects your function, got {type(yours).__name__}")
    if reference is None:
        name = getattr(yours, "__name__", None)
        for package in _REFERENCE_PACKAGES:
            found = getattr(importlib.import_module(package), name, None) if name else None
            if found is not None:
                reference = found
                break
        else:
            raise ValueError(
                f"no reference named {name!r} in {' or '.join(_REFERENCE_PACKAGES)}: pass reference=... explicitly"
            )
    try:
        cached = _WRAPPERS.get(yours)
    except TypeError:  # not weak-referenceable (a builtin): no cache, a fresh wrapper each time
        return _YoursOrReference(yours, reference)
    if cached is None or cached.reference is not reference:
        cached = _WRAPPERS[yours] = _YoursOrReference(yours, reference)
    return cached


# One wrapper per student function, so that `yours_or_reference(f)(x)` in several cells says
# "not written yet" once; redefining the function starts a new entry. The wrapper holds its
# function, so entries live as long as the kernel: a few small objects per lecture.
_WRAPPERS: weakref.WeakKeyDictionary[Any, _YoursOrReference] = weakref.WeakKeyDictionary()
