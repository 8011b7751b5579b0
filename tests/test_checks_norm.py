"""Every 06-init-normalization (batch norm, standardization) check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

from dlcourse.checks import norm as checks
from check_harness import check_tests
from mutants_norm import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))
