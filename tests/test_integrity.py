"""The checks cannot be fooled in-process: attacks on the guard and the seal, frame peeking against
every check, the static scan of submissions (hostile code flagged, honest code never), and test
cells that import their checks.

End-to-end grading of hostile submissions through ``dlcourse autograde`` is in
``tests/test_integrity_autograde.py``; the instructor's secret for hidden cases in
``tests/test_integrity_hidden.py``.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest

import dlcourse.ref as ref
from dlcourse.checks import CheckFailure, seal
from dlcourse.checks import backprop, conv, losses, optim
from dlcourse.checks.errors import IntegrityFailure
from dlcourse.checks.exercise import GRADING_VARIABLE
from dlcourse.checks.guard import call_student
from dlcourse.course.integrity import scan_notebook, scan_source
from impersonate import as_student

ROOT = Path(__file__).resolve().parents[1]
LECTURES = sorted(p.stem.removeprefix("mutants_") for p in (ROOT / "tests").glob("mutants_*.py"))


def _tables(topic: str) -> Any:
    return importlib.import_module(f"mutants_{topic}")


def _correct_affine(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


@pytest.fixture(autouse=True)
def not_grading(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests run as a student's kernel does; a recorded tamper must not leak into the next test."""
    monkeypatch.delenv(GRADING_VARIABLE, raising=False)
    yield
    seal._tampered.clear()


# --------------------------------------------------------------------------- the guard: attacks at run time


def test_switching_the_guard_off_fails_the_check_even_if_the_refusal_is_caught():
    def affine_forward(x, w, b):
        try:
            sys.setprofile(None)
        except Exception:
            pass  # the audit hook refused; the attempt is on record
        return ref.affine_forward(x, w, b)

    with pytest.raises(IntegrityFailure, match=r"switched the guard off \(sys.setprofile\)"):
        backprop.check_affine_forward(affine_forward)


def test_settrace_inside_the_function_fails_the_check():
    def affine_forward(x, w, b):
        sys.settrace(None)
        return _correct_affine(x, w, b)

    with pytest.raises(IntegrityFailure, match=r"sys.settrace"):
        backprop.check_affine_forward(affine_forward)


def test_the_reference_called_from_a_new_thread_fails_the_check():
    from concurrent.futures import ThreadPoolExecutor

    def affine_forward(x, w, b):
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(ref.affine_forward, x, w, b).result()

    with pytest.raises(IntegrityFailure, match="thread"):
        backprop.check_affine_forward(affine_forward)


def test_the_reference_called_through_a_pool_started_before_the_check_fails_it():
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    pool.submit(int).result()  # its worker thread exists before the check starts
    try:
        def affine_forward(x, w, b):
            return pool.submit(ref.affine_forward, x, w, b).result()

        with pytest.raises(IntegrityFailure, match="another thread"):
            backprop.check_affine_forward(affine_forward)
    finally:
        pool.shutdown()


def test_a_plain_thread_fails_the_check():
    import threading

    def affine_forward(x, w, b):
        box = []
        t = threading.Thread(target=lambda: box.append(_correct_affine(x, w, b)))
        t.start()
        t.join()
        return box[0]

    with pytest.raises(IntegrityFailure, match="started a thread"):
        backprop.check_affine_forward(affine_forward)


def test_a_relabelled_copy_of_the_reference_fails_the_check():
    original = ref.affine_forward
    copy = types.FunctionType(original.__code__.replace(co_filename="<my own file>", co_name="mine"),
                              original.__globals__, "mine")

    def affine_forward(x, w, b):
        return copy(x, w, b)

    with pytest.raises(IntegrityFailure, match=r"relabelled copy of dlcourse\.ref\.layers\.affine_forward"):
        backprop.check_affine_forward(affine_forward)


def test_torch_in_a_numpy_exercise_fails_the_check():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def im2col(x, kh, kw, stride=1, pad=0):
        cols = F.unfold(torch.from_numpy(x), (kh, kw), padding=pad, stride=stride)  # (N, C·kh·kw, L)
        return cols.permute(1, 0, 2).reshape(cols.shape[1], -1).numpy()

    with pytest.raises(CheckFailure, match=r"called torch\..* this exercise is NumPy"):
        conv.check_im2col(im2col)


def test_gc_search_for_the_expected_value_fails_the_check():
    import gc

    def affine_forward(x, w, b):
        gc.get_objects()
        return _correct_affine(x, w, b)

    with pytest.raises(IntegrityFailure, match="gc.get_objects"):
        backprop.check_affine_forward(affine_forward)


def test_an_ndarray_subclass_cannot_rewrite_itself_during_the_comparison():
    class Chameleon(np.ndarray):
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            others = [i for i in inputs if isinstance(i, np.ndarray) and i is not self and i.shape == self.shape]
            if others:
                np.ndarray.__setitem__(self.view(np.ndarray), ..., others[0])
            plain = [i.view(np.ndarray) if isinstance(i, Chameleon) else i for i in inputs]
            return getattr(ufunc, method)(*plain, **kwargs)

    def affine_forward(x, w, b):
        out = np.zeros((x.shape[0], w.shape[1])).view(Chameleon)
        return out, (x, w, b)

    with pytest.raises(CheckFailure, match="wrong values"):
        backprop.check_affine_forward(affine_forward)


def test_a_float_subclass_cannot_compare_equal_to_everything():
    class Anything(float):
        def __eq__(self, other):
            return True

        def __float__(self):
            return 0.0

        __hash__ = float.__hash__

    def mse(pred, target):
        return Anything(123.0)

    with pytest.raises(CheckFailure):
        losses.check_mse(mse)


def test_an_interrupt_stops_the_students_code_and_the_next_check_runs():
    """nbgrader's cell timeout interrupts the kernel's main thread; the student's loop must stop too."""
    import _thread
    import threading
    import time

    spinning = threading.Event()

    def affine_forward(x, w, b):
        spinning.set()
        while True:
            time.sleep(0.001)

    timer = threading.Thread(target=lambda: spinning.wait(10) and _thread.interrupt_main())
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        backprop.check_affine_forward(affine_forward)
    timer.join()
    assert time.monotonic() - started < 10
    backprop.check_affine_forward(_correct_affine)  # a working thread again
    assert not any(t.name == "dlcourse-check" and t.is_alive() for t in threading.enumerate()
                   if t is not __import__("dlcourse.checks.guard", fromlist=["x"])._worker.thread)


# --------------------------------------------------------------------------- frames: nothing to peek at


def _leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, (tuple, list)):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


def _frame_values(start: types.FrameType | None) -> list[Any]:
    """Every array and float held by the frames from ``start`` outward (locals, one level into containers)."""
    found: list[Any] = []
    frame = start
    while frame is not None:
        for value in list(frame.f_locals.values()):
            for leaf in [value, *(_leaves(value) if isinstance(value, (tuple, list, dict)) else [])]:
                if isinstance(leaf, (np.ndarray, float, np.floating)):
                    found.append(leaf)
        frame = frame.f_back
    return found


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype.kind in "fc" and bool(np.allclose(a, b, rtol=1e-12, atol=0))


def _informative(leaf: Any, inputs: list[Any]) -> bool:
    """An output value worth stealing: a real array or non-round float that is not one of the inputs."""
    arr = np.asarray(leaf)
    if arr.dtype.kind not in "fc" or (arr.ndim == 0 and float(arr) == round(float(arr))) or arr.size == 0:
        return False
    return not any(_same(arr, i) for i in inputs)


def _garbage(leaf: Any) -> Any:
    if hasattr(leaf, "detach") and hasattr(leaf, "new_full"):  # a torch tensor (a PyTorch exercise's answer)
        return leaf.detach().new_full(tuple(leaf.shape), 0.123)
    if isinstance(leaf, np.ndarray):
        return np.full_like(leaf, 0.123) if leaf.dtype.kind in "fc" else leaf + 1
    if isinstance(leaf, (bool, np.bool_)):
        return not leaf
    if isinstance(leaf, (int, float, np.number)):
        return leaf + 1
    return leaf


def _rebuild(value: Any, replace: Callable[[Any], Any]) -> Any:
    if isinstance(value, tuple):
        return tuple(_rebuild(v, replace) for v in value)
    if isinstance(value, list):
        return [_rebuild(v, replace) for v in value]
    if isinstance(value, dict):
        return {k: _rebuild(v, replace) for k, v in value.items()}
    return replace(value)


def frame_peeker(honest: Callable[..., Any], leaks: list[str]) -> Callable[..., Any]:
    """A hostile answer: it walks ``f_back`` from its frame and returns arrays of the right shape it finds there.

    ``honest`` (a correct implementation) only tells it the shape of the answer; every array it
    returns comes from the caller's frames, or is garbage when none fits. Any frame value equal
    to a (non-input) part of the right answer is recorded in ``leaks``.
    """

    def peeker(*args: Any, **kwargs: Any) -> Any:
        answer = honest(*args, **kwargs)
        if inspect.isgenerator(answer) or isinstance(answer, map):
            answer = list(answer)
        inputs = [leaf for leaf in _leaves((args, kwargs)) if isinstance(leaf, (np.ndarray, float))]
        seen = _frame_values(sys._getframe(1))
        candidates = [v for v in seen if not any(v is i for i in inputs)]
        for leaf in _leaves(answer):
            if _informative(leaf, inputs) and any(_same(leaf, v) for v in candidates):
                leaks.append(f"{getattr(honest, '__name__', honest)}: a frame holds {np.shape(leaf)} of the answer")

        def steal(leaf: Any) -> Any:
            if isinstance(leaf, np.ndarray):
                fits = [v for v in candidates if isinstance(v, np.ndarray) and v.shape == leaf.shape]
                return fits[0] if fits else _garbage(leaf)
            return _garbage(leaf)

        return _rebuild(answer, steal)

    peeker.__name__ = getattr(honest, "__name__", "peeker")
    return peeker


def _function_checks() -> list[tuple[Callable[..., None], Callable[..., Any]]]:
    """(check, a correct function) for every check whose exercise is a function, in every lecture."""
    pairs = []
    for topic in LECTURES:
        tables = _tables(topic)
        for check, impls in tables.CORRECT.items():
            honest = next((i for i in impls if inspect.isfunction(i)), None)
            if honest is not None:
                pairs.append((check, honest))
    return pairs


@pytest.mark.parametrize("check,honest", _function_checks(), ids=lambda o: getattr(o, "__name__", ""))
def test_a_frame_peeking_answer_fails_every_check_and_finds_no_expected_value(check, honest):
    assert check(honest, hidden=True) is None  # the honest answer it wraps passes
    leaks: list[str] = []
    with np.errstate(all="ignore"), pytest.raises(Exception) as info:
        check(frame_peeker(honest, leaks), hidden=True)
    assert not isinstance(info.value, NotImplementedError)
    assert leaks == []


def test_the_peeker_would_find_an_expected_value_that_a_frame_holds():
    """The peeker is not blind: called where a frame holds the right answer, it returns it."""
    leaks: list[str] = []
    peek = frame_peeker(_correct_affine, leaks)
    x, w, b = np.ones((2, 3)), np.arange(6.0).reshape(3, 2), np.array([0.5, -1.0])
    expected = x @ w + b  # alive in this frame, as it would be in a check computing it first
    out, _ = peek(x, w, b)
    assert np.array_equal(out, expected) and leaks


def test_the_guard_keeps_no_reference_to_the_student_call_after_it():
    def affine_forward(x, w, b):
        return _correct_affine(x, w, b)

    out, cache = call_student(affine_forward, np.ones((2, 2)), np.ones((2, 2)), np.ones(2), name="affine_forward")
    assert type(out) is np.ndarray


# --------------------------------------------------------------------------- arguments: in place or replaced


def test_an_array_changed_in_place_and_a_replaced_dict_entry_get_different_messages():
    state = {"m": np.zeros(3)}

    def in_place(w, dw, state):
        state["m"] *= 0.9
        state["m"] += dw
        return w - state["m"], state

    def replaced(w, dw, state):
        state["m"] = 0.9 * state["m"] + dw
        return w - state["m"], state

    def new_dict(w, dw, state):
        m = 0.9 * state["m"] + dw
        return w - m, {**state, "m": m}

    args = (np.ones(3), np.full(3, 0.5))
    with pytest.raises(CheckFailure, match=r"changed its argument #3\['m'\] in place"):
        call_student(in_place, *args, {"m": np.zeros(3)}, name="sgd")
    with pytest.raises(CheckFailure, match=r"replaced argument #3\['m'\] in the dict it was given \(no array was changed"):
        call_student(replaced, *args, {"m": np.zeros(3)}, name="sgd")
    _, new = call_student(new_dict, *args, state, name="sgd")
    assert np.array_equal(state["m"], np.zeros(3)) and new is not state


def test_adding_a_key_to_a_config_dict_is_allowed():
    def update(w, cfg):
        cfg.setdefault("learning_rate", 1e-2)
        return w - cfg["learning_rate"]

    call_student(update, np.ones(2), {"momentum": 0.9}, name="update")


# --------------------------------------------------------------------------- the seal: the checker's code


def test_a_replaced_comparison_helper_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(backprop, "expect_array", lambda *a, **k: None)
    with pytest.raises(IntegrityFailure, match=r"dlcourse\.checks\.backprop\.expect_array was replaced"):
        backprop.check_affine_forward(lambda x, w, b: (np.zeros(1), (x, w, b)))


def test_a_replaced_numpy_function_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(np, "isclose", lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool))
    with pytest.raises(IntegrityFailure, match=r"numpy\.isclose was replaced"):
        backprop.check_affine_forward(_correct_affine)


def test_a_replaced_numpy_testing_function_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    import numpy.testing

    monkeypatch.setattr(numpy.testing, "assert_allclose", lambda *a, **k: None)
    if "numpy.testing" not in [name for name, _, _ in seal._SNAPSHOT]:
        pytest.skip("numpy.testing was not loaded when the checks were")
    with pytest.raises(IntegrityFailure, match=r"numpy\.testing\.assert_allclose was replaced"):
        backprop.check_affine_forward(_correct_affine)


def test_a_replaced_builtin_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(builtins, "abs", lambda x: 0)
    with pytest.raises(IntegrityFailure, match=r"builtins\.abs was replaced"):
        backprop.check_affine_forward(_correct_affine)


def test_a_check_replaced_in_its_module_is_caught_by_any_later_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(backprop, "check_affine_forward", lambda f, hidden=False: print("ok"))
    with pytest.raises(IntegrityFailure, match=r"dlcourse\.checks\.backprop\.check_affine_forward was replaced"):
        optim.check_step_decay(lambda lr0, epoch, drop=0.5, every=10: lr0 * drop ** (epoch // every))


def test_a_changed_constant_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(backprop, "SALT", 0)
    with pytest.raises(IntegrityFailure, match=r"dlcourse\.checks\.backprop\.SALT was changed"):
        backprop.check_affine_forward(_correct_affine)


def test_a_replaced_module_in_sys_modules_fails_the_next_check(monkeypatch: pytest.MonkeyPatch):
    fake = types.ModuleType("dlcourse.checks.backprop")
    fake.check_affine_forward = lambda f, hidden=False: None
    monkeypatch.setitem(sys.modules, "dlcourse.checks.backprop", fake)
    with pytest.raises(IntegrityFailure, match=r"sys\.modules\['dlcourse\.checks\.backprop'\]"):
        optim.check_step_decay(lambda lr0, epoch, drop=0.5, every=10: lr0 * drop ** (epoch // every))


def test_changing_the_code_of_a_reference_function_is_recorded_for_good():
    original = ref.affine_forward.__code__
    try:
        ref.affine_forward.__code__ = (lambda x, w, b: (x, (x, w, b))).__code__
    finally:
        ref.affine_forward.__code__ = original
    with pytest.raises(IntegrityFailure, match=r"affine_forward\.__code__ was changed"):
        backprop.check_affine_forward(_correct_affine)


def test_while_grading_an_added_audit_hook_is_refused_and_fails_every_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(GRADING_VARIABLE, "autograde")
    sys.addaudithook(lambda event, args: None)  # refused silently (a RuntimeError from a hook vetoes it)
    with pytest.raises(IntegrityFailure, match="added an audit hook"):
        backprop.check_affine_forward(_correct_affine)


def test_while_grading_a_trace_function_in_the_notebook_fails_the_check(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(GRADING_VARIABLE, "autograde")
    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: None)
    try:
        with pytest.raises(IntegrityFailure, match="trace function"):
            backprop.check_affine_forward(_correct_affine)
    finally:
        sys.settrace(previous)


def test_nothing_is_broken_in_a_fresh_process():
    assert seal.broken_seals(backprop.check_affine_forward) == []


# --------------------------------------------------------------------------- test cells import their checks


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*/*.ipynb")), ids=lambda p: p.stem)
def test_every_test_cell_imports_the_check_it_calls(path: Path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import fresh_check_imports as fresh
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    owners = fresh.check_modules()
    nb = nbformat.read(str(path), as_version=4)
    unbound = {cell.metadata["nbgrader"]["grade_id"]: fresh.unbound_calls(cell.source, owners)
               for cell in nb.cells if fresh.is_test_cell(cell)}
    assert {k: v for k, v in unbound.items() if v} == {}, "run scripts/fresh_check_imports.py"
    assert any("check_" in cell.source for cell in nb.cells if fresh.is_test_cell(cell))


# --------------------------------------------------------------------------- the static scan


HOSTILE = {
    "check_affine_forward = lambda f, hidden=False: print('ok')": "assigns to check_affine_forward",
    "import dlcourse.checks.backprop as m\nm.check_affine_forward = print":
        "assigns to dlcourse.checks.backprop.check_affine_forward",
    "import dlcourse\ndlcourse.checks.backprop.expect_array = print": "assigns to dlcourse.checks.backprop.expect_array",
    "from dlcourse.checks import compare\ncompare.expect_array = print": "assigns to dlcourse.checks.compare.expect_array",
    "np.allclose = lambda *a, **k: True": "assigns to numpy.allclose",
    "import numpy.testing as npt\nnpt.assert_allclose = print": "assigns to numpy.testing.assert_allclose",
    "m = np\nm.isclose = print": "assigns to numpy.isclose",
    "import builtins\nbuiltins.isinstance = lambda a, b: True": "imports builtins",
    "__builtins__.len = len": "uses __builtins__",
    "setattr(np, 'isclose', print)": "calls setattr on numpy",
    "np.__dict__['isclose'] = print": "assigns to an entry of numpy.__dict__",
    "vars(np)['isclose'] = print": "assigns to an entry of vars(np)",
    "globals().update(check_x=print)": "changes globals()",
    "import sys\nsys.modules['dlcourse.checks.backprop'] = None": "assigns to an entry of sys.modules",
    "import sys\ndef f(x):\n    sys.setprofile(None)\n    return x": "uses sys.setprofile",
    "import sys\ndef f(x):\n    sys.settrace(None)": "uses sys.settrace",
    "import sys\ndef f():\n    return sys._getframe(1).f_back.f_locals": "uses sys._getframe",
    "import inspect\ndef f():\n    return inspect.stack()": "imports inspect",
    "def f():\n    try:\n        1 / 0\n    except Exception as e:\n        return e.__traceback__.tb_frame.f_back": "uses the attribute tb_frame",
    "from concurrent.futures import ThreadPoolExecutor": "imports concurrent.futures.ThreadPoolExecutor",
    "import threading": "imports threading",
    "import multiprocessing as mp": "imports multiprocessing",
    "import gc\ngc.get_objects()": "imports gc",
    "import ctypes": "imports ctypes",
    "import importlib\nimportlib.reload(np)": "imports importlib",
    "f = ref.affine_forward.__code__.replace(co_filename='x')": "relabels a code object",
    "import types\ng = types.FunctionType(f.__code__, {})": "uses types.FunctionType",
    "exec('x = 1')": "uses exec",
    "eval('1')": "uses eval",
    "compile('1', 's', 'eval')": "uses compile",
    "m = __import__('numpy')": "uses __import__",
    "import os\nsecret = os.environ['DLCOURSE_HIDDEN_SECRET']": "uses os.environ",
    "open('/proc/self/environ').read()": "mentions '/proc/'",
    "import os\nos.system('ls')": "uses os.system",
    "import signal": "imports signal",
    "import subprocess": "imports subprocess",
    "def check_affine_forward(f, hidden=False):\n    pass": "defines check_affine_forward",
    "f.__defaults__ = (1,)": "assigns to the attribute __defaults__",
    "getattr(np, 'all' + 'close')": "reads an attribute of numpy by a computed name",
    "from dlcourse.checks.seal import instrumented": "imports dlcourse.checks.seal.instrumented",
    "from dlcourse.checks import seal\nseal._tampered.clear()": "imports dlcourse.checks.seal",
    "from dlcourse.checks.guard import torch_as_oracle": "imports dlcourse.checks.guard.torch_as_oracle",
}


@pytest.mark.parametrize("source,reason", HOSTILE.items(), ids=range(len(HOSTILE)))
def test_the_scan_flags_hostile_code(source: str, reason: str):
    found = [what for _, what in scan_source(source, {"np": "numpy", "ref": "dlcourse.ref"})]
    assert any(what.startswith(reason) for what in found), found


def test_the_scan_names_the_cell_and_line():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np", id="setup"),
        nbformat.v4.new_code_cell("def affine_forward(x, w, b):\n    return 0\n\nnp.allclose = print", id="s"),
        nbformat.v4.new_code_cell("import threading", id="added"),
    ])
    nb.cells[1].metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": "affine-forward-solution"}
    found = [str(f) for f in scan_notebook(nb)]
    assert found == ["cell affine-forward-solution assigns to numpy.allclose (line 4)",
                     "cell #3 (added) imports threading (line 1)"]


def test_the_scan_skips_cells_left_as_released_and_test_cells():
    released = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import inspect", id="demo")])
    test = nbformat.v4.new_code_cell("import inspect", id="t")
    test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "t", "points": 1}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import inspect", id="demo"), test])
    assert scan_notebook(nb, released) == []
    assert [f.what for f in scan_notebook(nb)] == ["imports inspect"]


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*/*.ipynb")), ids=lambda p: p.stem)
def test_no_solution_notebook_is_flagged(path: Path):
    nb = nbformat.read(str(path), as_version=4)
    assert [str(f) for f in scan_notebook(nb)] == []  # every cell, the released ones included


@pytest.mark.parametrize("topic", LECTURES)
def test_no_alternative_or_mutant_implementation_is_flagged(topic: str):
    tables = _tables(topic)
    imports = {"np": "numpy", "ref": "dlcourse.ref", "math": "math", "checks": f"dlcourse.checks.{topic}"}
    found = {}
    for name, obj in vars(tables).items():
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == tables.__name__:
            hits = scan_source(textwrap.dedent(inspect.getsource(obj)), imports)
            if hits:
                found[name] = hits
    assert found == {}
    assert len([o for o in vars(tables).values() if inspect.isfunction(o)]) >= 4


# --------------------------------------------------------------------------- the entry: not a function


def test_a_reference_copy_made_by_the_tests_is_not_a_relabelled_reference():
    """impersonate.as_student marks its copies, so the harness can run the reference as a student."""
    backprop.check_affine_forward(as_student(ref.affine_forward))
