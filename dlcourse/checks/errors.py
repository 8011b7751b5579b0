"""The exception a failed check raises."""


class CheckFailure(AssertionError):
    """A check found a wrong answer; the message explains what and, when known, why.

    It subclasses ``AssertionError`` so that plain ``assert``-style tooling (pytest, nbgrader)
    treats it as a failed test rather than a crash.
    """


class IntegrityFailure(CheckFailure):
    """The check could not be trusted: the notebook changed it, or the answer reached around it.

    Raised when the code the checks rely on was replaced (a check, a comparison helper, a NumPy
    function, a builtin), or when the student's function switched the guard off, started a
    thread or process, or ran a relabelled copy of the reference while it was checked. The grader
    lists these failures in the ``review`` column of the grades.
    """
