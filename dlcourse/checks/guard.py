"""Run a student's function safely: no shortcuts through the reference, no peeking, no mutated inputs.

:func:`call_student` is how every check calls student code. While the student's function runs:

- **It runs in a thread of its own** (one kept for the purpose, see :class:`_Worker`), whose
  stack holds nothing but the call: walking ``f_back`` from the student's frame
  (``sys._getframe``, ``inspect.stack()``, ``e.__traceback__.tb_frame``) never reaches the
  check's frames, so no expected value can be read from them, whatever order a check computes
  things in. The frames that do exist hold only the arguments.
- **A profiler watches every call** in that thread: a call into ``dlcourse.ref`` or
  ``dlcourse.gpu`` (by name, or through a copy whose code object was relabelled: the code of
  every reference function is fingerprinted), into ``torch`` during a NumPy exercise (``F.unfold``
  as im2col; an exercise is PyTorch when it gets tensors or is a ``torch.nn.Module``), or into ``threading``/``concurrent``/``multiprocessing`` (work handed to another
  thread is not watched) fails the check.
- **An audit hook** (:func:`sys.addaudithook`; a hook cannot be removed) fails the check when
  the function switches the profiler off (``sys.setprofile``/``sys.settrace``), searches the
  interpreter's memory or other threads' frames (``gc.get_objects``, ``sys._current_frames``),
  uses ``ctypes``, builds code objects, or starts a process; the operation itself is refused.
  At any time, it refuses a second audit hook and records changes to the code of ``dlcourse`` or
  NumPy functions (:mod:`dlcourse.checks.seal` reports them at the next check).
- **Its result is made plain** before the check sees it: ndarray subclasses become ndarrays,
  subclasses of int/float/str/tuple/list/dict their base types, so no method of the student's
  (``__array_ufunc__``, ``__eq__``, ``__float__``) runs later, outside the guard, while the
  check compares the answer with the expected value.
- **Its arguments are watched**: an array changed in place fails the check; so does a dict
  (a state, a cache) or list it was given whose entries it replaced (a different message:
  return a new dict instead).

What it cannot prevent (a loop that never ends, a crash of the interpreter) it leaves to
nbgrader's timeouts; what it cannot see, the static scan of submissions reports for review
(:mod:`dlcourse.course.integrity`).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import sys
import threading
import types
from _thread import allocate_lock, get_ident, start_new_thread
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from types import FrameType
from typing import Any

import numpy as np

from dlcourse.checks import seal
from dlcourse.checks.errors import CheckFailure, IntegrityFailure

__all__ = ["IntegrityFailure", "call_student", "call_strict", "unpack"]

# Bound now (the notebook's setup cell imports the checks before any solution cell runs), so that
# replacing sys.setprofile or copy.deepcopy later does not reach the guard's own calls.
_setprofile, _getprofile, _settrace, _getframe = sys.setprofile, sys.getprofile, sys.settrace, sys._getframe
_deepcopy = copy.deepcopy
_Thread = threading.Thread

_PACKAGE = Path(__file__).resolve().parent.parent
# Any Python frame whose code lives in these folders is an answer key. Paths are used rather
# than function identities so that aliases (`from dlcourse.ref import *`, `f = ref.relu_forward`)
# are caught too, and so that dlcourse.gpu need not be imported (it pulls in torch).
_FORBIDDEN_DIRS = tuple(str(_PACKAGE / name) + os.sep for name in ("ref", "gpu"))
# Work handed to a pool runs in threads or processes the guard does not watch. (Not threading.py
# itself: ipykernel's print goes through it, and starting a thread is caught at the C call.)
_STDLIB = Path(threading.__file__).resolve().parent
_THREAD_DIRS = tuple(str(_STDLIB / name) + os.sep for name in ("concurrent", "multiprocessing"))


def _torch_dir() -> str | None:
    """torch's folder, found without importing it (so that NumPy lectures stay torch-free)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return str(Path(spec.origin).resolve().parent) + os.sep


_TORCH_DIR = _torch_dir()


# --------------------------------------------------------------------------- fingerprints of the reference


def _fingerprint(code: types.CodeType) -> tuple[Any, ...]:
    """What a copy of a function keeps when its code is relabelled (file, name, line numbers changed)."""
    consts = tuple(_fingerprint(c) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
                   for c in code.co_consts)
    return (code.co_code, code.co_names, code.co_varnames, code.co_argcount, code.co_kwonlyargcount, consts)


def _named_code(code: types.CodeType) -> list[tuple[types.CodeType, str]]:
    """The code of every function inside ``code`` that has a docstring.

    Only those: one-liners such as ``def __neg__(self): return self * -1`` compile to the same
    code whoever writes them, but a copy that carries the reference's docstring is a copy.
    """
    found = []
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if not const.co_name.startswith("<") and const.co_consts and isinstance(const.co_consts[0], str):
                found.append((const, getattr(const, "co_qualname", const.co_name)))
            found += _named_code(const)
    return found


_reference_prints: dict[tuple[Any, ...], str] | None = None


def _reference_fingerprints() -> dict[tuple[Any, ...], str]:
    """``{fingerprint: "dlcourse.ref.module.function"}`` for every function of ``ref`` and ``gpu``, from source."""
    global _reference_prints
    if _reference_prints is None:
        prints: dict[tuple[Any, ...], str] = {}
        for folder in _FORBIDDEN_DIRS:
            for path in sorted(Path(folder).rglob("*.py")):
                module = ".".join(path.relative_to(_PACKAGE.parent).with_suffix("").parts)
                try:
                    code = compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)
                except (OSError, SyntaxError, ValueError):
                    continue
                for inner, qualname in _named_code(code):
                    prints.setdefault(_fingerprint(inner), f"{module}.{qualname}")
        _reference_prints = prints
    return _reference_prints


# Verdicts on code objects seen by the profiler, by id (the code object is kept so that the id is
# never reused): "" for ordinary code, else ("ref"|"copy"|"torch"|"thread", what).
_verdicts: dict[int, tuple[types.CodeType, tuple[str, str] | None]] = {}


def _verdict(frame: FrameType) -> tuple[str, str] | None:
    code = frame.f_code
    known = _verdicts.get(id(code))
    if known is not None and known[0] is code:
        return known[1]
    filename = code.co_filename
    verdict: tuple[str, str] | None = None
    if filename.startswith(_FORBIDDEN_DIRS):
        verdict = ("ref", _qualified_name(frame))
    elif _TORCH_DIR is not None and filename.startswith(_TORCH_DIR):
        verdict = ("torch", _qualified_name(frame))
    elif filename.startswith(_THREAD_DIRS):
        verdict = ("thread", _qualified_name(frame))
    elif not code.co_name.startswith("<") and not filename.startswith(seal.PACKAGE_DIR):
        original = _reference_fingerprints().get(_fingerprint(code))
        if original is not None:
            verdict = ("copy", original)
    _verdicts[id(code)] = (code, verdict)
    return verdict


def _qualified_name(frame: FrameType) -> str:
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{frame.f_code.co_name}"


def _is_torch_builtin(fn: Any) -> bool:
    module = getattr(fn, "__module__", None)
    if not isinstance(module, str):
        module = getattr(getattr(fn, "__objclass__", None), "__module__", "")
    return isinstance(module, str) and (module == "torch" or module.startswith("torch."))


# --------------------------------------------------------------------------- the watch and the audit hook


@dataclass
class _Watch:
    """What one call of the student's function did that it must not."""

    name: str
    allow_torch: bool
    shortcut: list[tuple[str, str]] = field(default_factory=list)  # (kind, what): the first one counts
    violations: list[str] = field(default_factory=list)

    def violate(self, what: str) -> None:
        if what not in self.violations:
            self.violations.append(what)


_watches: dict[int, _Watch] = {}  # thread ident -> the watch of the call running in it

# Audit events that fail the call that raises them, with what the student is told.
_EVENTS = {
    "sys.setprofile": "switched the guard off (sys.setprofile)",
    "sys.settrace": "switched the guard off (sys.settrace)",
    "code.__new__": "built a code object (code.replace / types.CodeType)",
    "function.__new__": "built a function from a code object (types.FunctionType)",
    "sys._current_frames": "read other threads' frames (sys._current_frames)",
    "gc.get_objects": "searched the interpreter's memory (gc.get_objects)",
    "gc.get_referrers": "searched the interpreter's memory (gc.get_referrers)",
    "gc.get_referents": "searched the interpreter's memory (gc.get_referents)",
    "subprocess.Popen": "started a process",
    "os.system": "started a process",
    "os.fork": "started a process",
    "os.forkpty": "started a process",
    "os.posix_spawn": "started a process",
    "os.kill": "sent a signal",
    "os.killpg": "sent a signal",
    "signal.pthread_kill": "sent a signal",
}
_EVENT_PREFIXES = {"ctypes.": "used ctypes", "os.exec": "started a process", "os.spawn": "started a process"}
# Seen from any thread while a student's function runs: they reach into the checking thread.
_ANY_THREAD = {"sys._current_frames", "gc.get_objects", "gc.get_referrers", "gc.get_referents"}
_SEALED_ATTRIBUTES = {"__code__", "__defaults__", "__kwdefaults__"}
_CHECKER_MAY = {"sys.settrace", "sys.setprofile"}  # when the caller is the checker's own code
_SEALED_CODE_DIRS = (seal.PACKAGE_DIR, str(Path(np.__file__).resolve().parent) + os.sep)
_GRADING_VARIABLE = "NBGRADER_EXECUTION"  # as dlcourse.checks.exercise.GRADING_VARIABLE (which imports this module)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """The process's audit hook: see the module docstring. Fast when no student code runs."""
    if event == "sys.addaudithook":
        # Another hook would run in the checking thread, where the expected values are. Refused
        # while grading (a RuntimeError vetoes the new hook); elsewhere a debugger may add one.
        if os.environ.get(_GRADING_VARIABLE):
            seal.record_tamper("the notebook added an audit hook (sys.addaudithook)")
            raise RuntimeError("dlcourse: no audit hooks while the checks grade a notebook")
        return
    if event == "object.__setattr__" and len(args) >= 2 and args[1] in _SEALED_ATTRIBUTES:
        target = args[0]
        code = getattr(target, "__code__", None)
        if isinstance(code, types.CodeType) and code.co_filename.startswith(_SEALED_CODE_DIRS):
            seal.record_tamper(f"{target.__module__}.{target.__qualname__}.{args[1]} was changed")
        return
    if not _watches:
        return
    reason = _EVENTS.get(event)
    if reason is None:
        for prefix, text in _EVENT_PREFIXES.items():
            if event.startswith(prefix):
                reason = text
                break
        if reason is None:
            return
    watch = _watches.get(get_ident())
    if event in _CHECKER_MAY and _getframe(1).f_code.co_filename.startswith(seal.PACKAGE_DIR):
        return  # a check's own tracer around the student's code (e.g. counting loop iterations)
    if watch is None:
        if event not in _ANY_THREAD:
            return
        for other in list(_watches.values()):
            other.violate(f"{reason}, from another thread")
    else:
        watch.violate(reason)
    raise IntegrityFailure(f"not allowed while a check runs the answer: {reason}")


sys.addaudithook(_audit)


def _profiler_for(watch: _Watch) -> Callable[[FrameType, str, Any], None]:
    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call":
            verdict = _verdict(frame)
            if verdict is not None:
                kind, what = verdict
                if kind == "torch" and watch.allow_torch:
                    return
                if kind == "thread":
                    watch.violate(f"handed work to another thread ({what}): only this thread is watched")
                elif kind == "copy":
                    watch.violate(f"ran a relabelled copy of {what}")
                elif not watch.shortcut:
                    watch.shortcut.append(verdict)
        elif event == "c_call":
            if arg is start_new_thread:
                watch.violate("started a thread: only this thread is watched")
            elif not watch.allow_torch and not watch.shortcut and "torch" in sys.modules and _is_torch_builtin(arg):
                watch.shortcut.append(("torch", f"{getattr(arg, '__module__', None) or 'torch'}."
                                                f"{getattr(arg, '__name__', '?')}"))

    return profiler


# --------------------------------------------------------------------------- the thread the student's code runs in


class _Job:
    """One call: the function, its arguments, and (once run) its result or exception."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], watch: _Watch,
                 context: contextvars.Context, errstate: dict[str, str] | None, grad: bool | None = None) -> None:
        self.fn, self.args, self.kwargs, self.watch = fn, args, kwargs, watch
        self.context, self.errstate, self.grad = context, errstate, grad
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = allocate_lock()  # held until the job has run (a C lock: waiting on it is cheap)
        self.done.acquire()

    def _call(self) -> Any:
        """The student's function, in the checking thread's context (NumPy's error state lives there).

        PyTorch keeps its grad mode per thread, so the checking thread's (``torch.no_grad()``
        around a call) is set here too.
        """
        with contextlib.ExitStack() as stack:
            if self.errstate is not None:
                stack.enter_context(np.errstate(**self.errstate))
            if self.grad is not None:
                stack.enter_context(sys.modules["torch"].set_grad_enabled(self.grad))
            return _plain(self.fn(*self.args, **self.kwargs))

    def run(self) -> None:
        """Run in the worker thread: watched from the first to the last bytecode of the student's code."""
        watch = self.watch
        _settrace(None)
        _setprofile(_profiler_for(watch))
        ident = get_ident()
        _watches[ident] = watch
        try:
            self.result = self.context.run(self._call)
            if _getprofile() is None:
                watch.violate("switched the guard off")
        except BaseException as exc:  # handed to the checking thread as it is
            self.error = exc
        finally:
            _watches.pop(ident, None)
            _setprofile(None)
            self.fn = self.args = self.kwargs = None  # type: ignore[assignment]
            self.done.release()


class _Worker:
    """A daemon thread that runs jobs one at a time; its stack never holds a check's frames."""

    def __init__(self) -> None:
        self.inbox: SimpleQueue[_Job | None] = SimpleQueue()
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.thread = _Thread(target=self._loop, name="dlcourse-check", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            job = self.inbox.get()
            if job is None:
                return
            job.run()
            del job

    def stop(self) -> None:
        self.inbox.put(None)


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _shared_worker() -> _Worker:
    global _worker
    with _worker_lock:
        if _worker is None or _worker.pid != os.getpid() or not _worker.thread.is_alive():
            _worker = _Worker()
        return _worker


def _forget_worker() -> None:  # a forked child has no threads but the one that forked
    global _worker
    _worker = None


os.register_at_fork(after_in_child=_forget_worker)


def _run_isolated(job: _Job) -> None:
    """Run ``job`` in the shared worker (or a fresh one when it is busy or is this thread); wait for it."""
    worker = _shared_worker()
    own = None
    if worker.thread is threading.current_thread() or not worker.lock.acquire(blocking=False):
        worker = own = _Worker()  # a check called from inside a checked function, or from two threads
    try:
        worker.inbox.put(job)
        try:
            while not job.done.acquire(timeout=0.1):
                if not worker.thread.is_alive():
                    raise RuntimeError("the thread running the student's code died")
        except BaseException:  # KeyboardInterrupt (nbgrader's timeout): stop the student's code too
            _interrupt(worker, job)
            raise
    finally:
        if own is not None:
            own.stop()
        else:
            worker.lock.release()


def _interrupt(worker: _Worker, job: _Job) -> None:
    """Raise KeyboardInterrupt in the worker; abandon it if it does not stop within a second."""
    global _worker
    ident = worker.thread.ident
    if ident is not None:
        import ctypes

        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(KeyboardInterrupt))
    if not job.done.acquire(timeout=1.0):
        with _worker_lock:
            if _worker is worker:
                _worker = None  # stuck in C code: let it finish alone, the next call gets a new thread
        worker.stop()


# --------------------------------------------------------------------------- plain results


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` with every ndarray/int/float/complex/str/tuple/list/dict subclass turned into its base type.

    Exact types are returned as they are (identity kept); a container is rebuilt only when
    something inside it changed. Other objects (instances of the student's own classes, where
    the exercise is a class) are left alone.
    """
    kind = type(value)
    if kind in (np.ndarray, int, float, bool, complex, str, bytes, type(None)) or depth > 8:
        return value
    if isinstance(value, np.ndarray):
        return value.view(np.ndarray)
    if isinstance(value, np.generic):
        return value if kind.__module__ == "numpy" else np.asarray(value).view(np.ndarray)[()]
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, complex):
        return complex(float.__float__(complex.real.__get__(value)), float.__float__(complex.imag.__get__(value)))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, tuple):
        items = [_plain(v, depth + 1) for v in tuple.__iter__(value)]
        same = kind is tuple and all(a is b for a, b in zip(items, tuple.__iter__(value)))
        return value if same else tuple(items)
    if isinstance(value, list):
        items = [_plain(v, depth + 1) for v in list.__iter__(value)]
        same = kind is list and all(a is b for a, b in zip(items, list.__iter__(value)))
        return value if same else items
    if isinstance(value, dict):
        pairs = [(_plain(k, depth + 1), _plain(v, depth + 1)) for k, v in dict.items(value)]
        same = kind is dict and all(a is b for (_, a), b in zip(pairs, dict.values(value)))
        return value if same else dict(pairs)
    return value


# --------------------------------------------------------------------------- calling the student's function


def call_student(fn: Callable[..., Any], *args: Any, name: str, allow_inplace: bool = False, **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` as a check must, and return its (plain) result.

    - Exceptions raised by the student's code propagate unchanged; the check's entry
      (:func:`dlcourse.checks.exercise.exercise`) reports an unfinished stub's
      ``NotImplementedError`` and trims the checker's frames from the traceback.
    - A call into ``dlcourse.ref`` or ``dlcourse.gpu``, or into ``torch``, while ``fn`` runs fails
      the check: the exercise is to write the code, and the reference is what the answer is
      compared to. Switching the guard off, handing work to other threads or processes, or
      running a relabelled copy of the reference raises :class:`IntegrityFailure`.
    - Array arguments changed in place fail the check: callers (and caches) rely on them.

    See the module docstring for how (a thread of its own, a profiler, an audit hook).

    Args:
        fn: the student's function.
        args, kwargs: its arguments; copies are kept to detect in-place changes.
        name: the exercise's function name, used in messages.
        allow_inplace: skip the in-place check (for functions that perturb and restore an
            argument by design; the caller then checks the restoration itself).
    """
    return _call(fn, args, kwargs, name=name, allow_inplace=allow_inplace)


def call_strict(fn: Callable[..., Any], *args: Any, name: str, hint: str, **kwargs: Any) -> Any:
    """:func:`call_student` with NumPy's overflow, invalid and divide-by-zero warnings as failures.

    Such a warning means an inf or nan was produced somewhere (even if masked away later: a bug
    waiting to happen), and in a graded notebook the warning itself reaches stderr, which scores
    the cell 0. Used where the exercise is numerical stability (softmax, sigmoid, log-losses).

    Args:
        fn, args, kwargs, name: as for :func:`call_student`.
        hint: what to tell the student when their code overflows (e.g. "subtract the max").
    """
    try:
        return _call(fn, args, kwargs, name=name, errstate={"over": "raise", "invalid": "raise", "divide": "raise"})
    except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
        raise CheckFailure(f"{name} raised {type(exc).__name__} ({exc}).\n  Hint: {hint}") from None


_torch_oracle: contextvars.ContextVar[bool] = contextvars.ContextVar("dlcourse_torch_oracle", default=False)


@contextlib.contextmanager
def torch_as_oracle() -> Iterator[None]:
    """For tests that prove a NumPy check agrees with PyTorch by handing it a torch-backed answer.

    A notebook has no business here: the static scan of submissions flags any use of it.
    """
    token = _torch_oracle.set(True)
    try:
        yield
    finally:
        _torch_oracle.reset(token)


def _torch_exercise(torch: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether the exercise is PyTorch code: a module (or module class), or tensors or modules handed in
    (a training loop gets the model).

    A NumPy exercise gets NumPy arrays, and its answer must not reach for torch.
    """
    module = torch.nn.Module
    if isinstance(fn, module) or (isinstance(fn, type) and issubclass(fn, module)):
        return True
    values = [*args, *kwargs.values()]
    values += [v for x in values if isinstance(x, (tuple, list)) for v in x]
    return any(isinstance(v, (torch.Tensor, module)) for v in values)


def _call(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], *, name: str,
          allow_inplace: bool = False, allow_torch: bool = False, errstate: dict[str, str] | None = None) -> Any:
    if not callable(fn):
        raise CheckFailure(f"{name} should be a function, got {type(fn).__name__}: pass the function itself.")
    before = None if allow_inplace else _Snapshot(args, kwargs)
    torch = sys.modules.get("torch")
    watch = _Watch(name, allow_torch or _torch_oracle.get()
                   or (torch is not None and _torch_exercise(torch, fn, args, kwargs)))
    grad = bool(torch.is_grad_enabled()) if torch is not None and watch.allow_torch else None
    job = _Job(fn, args, kwargs, watch, contextvars.copy_context(), errstate, grad)
    _run_isolated(job)
    if watch.violations:
        raise IntegrityFailure(
            f"{name} {'; '.join(watch.violations)} while it was being checked. The check cannot trust "
            f"this answer: write {name} as plain code that computes its result itself."
        )
    if watch.shortcut:
        kind, what = watch.shortcut[0]
        if kind == "torch":
            raise CheckFailure(
                f"{name} called {what} while it was being checked: this exercise is NumPy. Write it with "
                f"NumPy arrays and operations, not torch.Tensor ones (PyTorch comes later, as the check of "
                f"your own code)."
            )
        raise CheckFailure(
            f"{name} called {what} while it was being checked. The reference implementation "
            f"is the answer key: write {name} yourself with NumPy (you may call your own functions)."
        )
    if job.error is not None:
        error, job.error = job.error, None
        raise error
    if before is not None:
        before.raise_if_changed(name)
    return job.result


# --------------------------------------------------------------------------- arguments changed


class _Snapshot:
    """The arguments before the call: array copies beside the objects themselves, and what containers held."""

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.copy = _deepcopy((args, kwargs))
        self.original = (args, kwargs)
        self.entries = _container_entries(self.original)

    def raise_if_changed(self, name: str) -> None:
        """Arrays must be bitwise unchanged (NaNs count as equal); dicts and lists must hold what they held."""
        _raise_if_mutated(name, self.copy, self.original, self.entries)


def _container_entries(tree: Any, depth: int = 0) -> dict[int, tuple[Any, list[tuple[Any, Any]]]]:
    """``{id(container): (container, [(key, value), ...])}`` for the dicts and lists inside ``tree``."""
    found: dict[int, tuple[Any, list[tuple[Any, Any]]]] = {}
    if depth > 8:
        return found
    if isinstance(tree, dict):
        found[id(tree)] = (tree, list(tree.items()))
        for value in tree.values():
            found.update(_container_entries(value, depth + 1))
    elif isinstance(tree, (list, tuple)):
        if isinstance(tree, list):
            found[id(tree)] = (tree, list(enumerate(tree)))
        for value in tree:
            found.update(_container_entries(value, depth + 1))
    return found


def _raise_if_mutated(name: str, before: Any, current: Any, entries: dict[int, tuple[Any, list[tuple[Any, Any]]]],
                      path: str = "argument") -> None:
    """Walk the copies made before the call (``before``) beside the objects themselves (``current``)."""
    if isinstance(before, np.ndarray):
        if isinstance(current, np.ndarray) and not (
            before.shape == current.shape and np.array_equal(before, current, equal_nan=True)
        ):
            raise CheckFailure(
                f"{name} changed its {path} in place. Work on new arrays (e.g. `x * mask`, or "
                f"`x.copy()` before editing): callers, and caches kept for the backward pass, "
                f"still need the original values."
            )
        return
    if isinstance(before, dict) and isinstance(current, dict):
        held = dict(entries.get(id(current), (None, []))[1])
        for key, old in before.items():
            if key in held:
                _raise_if_mutated(name, old, held[key], entries, f"{path}[{key!r}]")
        _raise_if_replaced(name, current, held, path, kind="dict")
    elif isinstance(before, (tuple, list)) and isinstance(current, (tuple, list)):
        held_items = dict(entries.get(id(current), (None, []))[1]) if isinstance(current, list) else dict(enumerate(current))
        for i, old in enumerate(before):
            if i in held_items:
                _raise_if_mutated(name, old, held_items[i], entries, _nth(path, i))
        if isinstance(current, list):
            _raise_if_replaced(name, current, held_items, path, kind="list")


def _raise_if_replaced(name: str, container: Any, held: dict[Any, Any], path: str, kind: str) -> None:
    """A dict or list the function was given must still hold the same objects (new keys are allowed)."""
    now = dict(container.items()) if kind == "dict" else dict(enumerate(container))
    for key, old in held.items():
        if key not in now:
            where = f"{path}[{key!r}]" if kind == "dict" else _nth(path, key)
            raise CheckFailure(
                f"{name} removed {where} from the {kind} it was given. Build a new {kind} for your result "
                f"instead: the caller still needs the one it passed."
            )
        new = now[key]
        if new is old:
            continue
        if type(new) is type(old) and _same_value(old, new):
            continue  # rebinding to an equal copy changes nothing the caller can see
        if kind == "list":
            raise CheckFailure(
                f"{name} changed its {path} in place: {_nth(path, key)} now holds another value. Work on a "
                f"copy (e.g. `list(xs)`): the caller still needs the values it passed."
            )
        raise CheckFailure(
            f"{name} replaced {path}[{key!r}] in the dict it was given (no array was changed in place, but "
            f"the caller's dict now holds your new value). Return your result in a new dict "
            f"(e.g. `new = dict(state)`, then set its entries) and leave the one you were given as it was."
        )


def _same_value(old: Any, new: Any) -> bool:
    if isinstance(old, np.ndarray):
        return old.shape == new.shape and old.dtype == new.dtype and bool(np.array_equal(old, new, equal_nan=True))
    try:
        return bool(old == new)
    except Exception:
        return False


def _nth(path: str, i: int) -> str:
    if path == "argument":  # top level: (args, kwargs)
        return "arguments" if i == 0 else "keyword arguments"
    if path == "arguments":
        return f"argument #{i + 1}"
    return f"{path}[{i}]"


def unpack(result: Any, n: int, *, name: str, names: Sequence[str]) -> tuple[Any, ...]:
    """Check that ``result`` is a tuple of ``n`` items (e.g. ``(out, cache)``) and return it."""
    wanted = "(" + ", ".join(names) + ")"
    if not isinstance(result, (tuple, list)):
        raise CheckFailure(f"{name} should return a tuple {wanted}, got a single {type(result).__name__}.")
    if len(result) != n:
        raise CheckFailure(f"{name} should return {n} values {wanted}, got {len(result)}.")
    return tuple(result)
