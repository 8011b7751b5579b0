"""Run reference code as if a student had written it, so the anti-shortcut guard lets it through.

The guard flags any call into a file under ``dlcourse/ref`` or ``dlcourse/gpu``. Tests need
"the reference passes its own check", so :func:`as_student` copies a reference function, or a
reference class with all its methods, with the code objects re-labelled to another file name,
and swaps the reference functions they call for such copies too. Only tests use this; a
notebook has no reason to.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any, Callable, TypeVar

import dlcourse

_PACKAGE = str(Path(dlcourse.__file__).resolve().parent)
_cache: dict[int, Any] = {}  # id(reference object) -> its student copy (reference objects live for good)

Impl = TypeVar("Impl", bound=Callable[..., Any])


def _relabel(code: types.CodeType) -> types.CodeType:
    consts = tuple(_relabel(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=f"<student copy of {Path(code.co_filename).name}>", co_consts=consts)


def _is_reference(obj: Any) -> bool:
    return isinstance(obj, types.FunctionType) and obj.__code__.co_filename.startswith(_PACKAGE)


def _is_reference_class(obj: Any) -> bool:
    return isinstance(obj, type) and getattr(sys.modules.get(obj.__module__), "__file__", "").startswith(_PACKAGE)


def is_reference(obj: Any) -> bool:
    """Whether ``obj`` is a function or class of the ``dlcourse`` package (the guard's answer key)."""
    return _is_reference(obj) or _is_reference_class(obj)


def _copy_function(fn: types.FunctionType, namespace: dict[str, Any],
                   class_cell: types.CellType | None = None) -> types.FunctionType:
    """A copy of ``fn`` with relabelled code, running in ``namespace``; ``class_cell`` replaces its
    ``__class__`` cell (the one zero-argument ``super()`` reads), for a method of a copied class."""
    closure = fn.__closure__
    if class_cell is not None and closure and "__class__" in fn.__code__.co_freevars:
        closure = tuple(class_cell if name == "__class__" else cell
                        for name, cell in zip(fn.__code__.co_freevars, closure))
    copy = types.FunctionType(_relabel(fn.__code__), namespace, fn.__name__, fn.__defaults__, closure)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    return copy


def as_student(impl: Impl) -> Impl:
    """A copy of the reference function or class ``impl`` whose code counts as a student's.

    A function runs in a copy of its module's namespace in which the reference functions it may
    call are student copies as well, and so are the classes of its own module (helpers whose
    methods it calls, e.g. a classmethod building constants). A class is rebuilt from the methods of every reference class
    in its MRO (a mixin's ``__sub__`` included); inside them, the names of those classes mean the
    copy (so ``Value(...)`` built in ``__add__`` is a student ``Value``) and the module's reference
    functions are copies. Non-reference bases stay bases. Copies are cached, so a test can call
    this as often as it likes.
    """
    if id(impl) in _cache:
        return _cache[id(impl)]
    if isinstance(impl, type):
        return _student_class(impl)  # type: ignore[return-value]
    namespace = dict(impl.__globals__)
    copy = _copy_function(impl, namespace)  # type: ignore[arg-type]
    _cache[id(impl)] = copy
    for name, value in list(namespace.items()):
        if _is_reference_class(value) and value.__module__ == impl.__module__:
            namespace[name] = _student_helper(value, namespace)
        else:
            namespace[name] = _with_student_copies(value)
    return copy  # type: ignore[return-value]


def _student_helper(cls: type, namespace: dict[str, Any]) -> type:
    """A helper class of a reference module (one whose methods the reference function calls) as a
    subclass whose own methods are student copies; ``cls`` itself if it has none. A subclass, not a
    rebuild, so that what the class inherits or had generated (a NamedTuple's ``__new__``) still works."""
    methods: dict[str, Any] = {}
    for key, value in vars(cls).items():
        wrapper = type(value) if isinstance(value, (classmethod, staticmethod)) else None
        fn = value.__func__ if wrapper else value
        if _is_reference(fn):
            copied = _copy_function(fn, namespace)
            methods[key] = wrapper(copied) if wrapper else copied
    if not methods:
        return cls
    if "__slots__" in vars(cls):
        methods["__slots__"] = ()
    return type(cls.__name__, (cls,), methods)


def _with_student_copies(value: Any) -> Any:
    """``value`` with reference functions swapped for student copies, also inside the dicts and
    tuples a module dispatches through (e.g. ``activations._BY_NAME``); other values unchanged."""
    if _is_reference(value):
        return as_student(value)
    if isinstance(value, tuple):
        items = tuple(_with_student_copies(v) for v in value)
        return items if any(a is not b for a, b in zip(items, value)) else value
    if isinstance(value, dict):
        entries = {k: _with_student_copies(v) for k, v in value.items()}
        return entries if any(entries[k] is not v for k, v in value.items()) else value
    return value


def _student_class(cls: type) -> type:
    own = [k for k in reversed(cls.__mro__) if _is_reference_class(k)]  # base-most first: subclasses override
    bases = tuple(dict.fromkeys(b for k in own for b in k.__bases__ if b is not object and not _is_reference_class(b)))
    namespaces: dict[str, dict[str, Any]] = {k.__module__: dict(vars(sys.modules[k.__module__])) for k in own}

    class_cell = types.CellType()  # filled with the new class below: super() in its methods means it

    def copy(value: Any, namespace: dict[str, Any]) -> Any:
        if isinstance(value, types.FunctionType):
            return _copy_function(value, namespace, class_cell)
        if isinstance(value, (staticmethod, classmethod)):
            return type(value)(copy(value.__func__, namespace))
        if isinstance(value, property):
            return property(*(f and copy(f, namespace) for f in (value.fget, value.fset, value.fdel)), value.__doc__)
        return value

    body: dict[str, Any] = {}
    for k in own:
        namespace = namespaces[k.__module__]
        body.update({key: copy(value, namespace) for key, value in vars(k).items() if key not in ("__dict__", "__weakref__")})
    new_cls = type(cls.__name__, bases or (object,), body)
    class_cell.cell_contents = new_cls
    _cache[id(cls)] = new_cls
    for module, namespace in namespaces.items():
        for name, value in list(namespace.items()):
            if any(value is k for k in own):
                namespace[name] = new_cls
            elif _is_reference(value):  # a module function the methods call sees the student class too
                namespace[name] = _copy_function(value, namespace) if value.__module__ == module else as_student(value)
    return new_cls
