"""The exception a failed check raises."""


class CheckFailure(AssertionError):
    """A check found a wrong answer; the message explains what and, when known, why.

    It subclasses ``AssertionError`` so that plain ``assert``-style tooling (pytest, nbgrader)
    treats it as a failed test rather than a crash.
    """
