"""Every 07-regularization check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

from dlcourse.checks import regularization as checks
from check_harness import check_tests
from mutants_regularization import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))
