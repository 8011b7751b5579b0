"""Every 14-limits-uncertainty check passes correct code and rejects each known mistake with its diagnosis."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checks import CheckFailure
from dlcourse.checks import uncertainty as checks
from check_harness import check_tests
from mutants_uncertainty import CORRECT, MUTANTS, REFERENCE

globals().update(check_tests(checks, REFERENCE, CORRECT, MUTANTS))


# --- lecture-specific: the edge-case classes the hidden cases must cover --------------------------------


def test_ece_cases_cover_empty_bins_edges_and_gaps_of_both_signs() -> None:
    from dlcourse import ref

    public = list(checks._ece_cases(False))
    hidden = list(checks._ece_cases(True))
    assert hidden[: len(public)] and len(hidden) > len(public)
    assert any(n is None for *_, n in public) and any(n not in (None, 10) for *_, n in public)
    # an empty bin in the public cases: dividing by its count is a mistake the student sees
    assert any((ref.reliability_diagram(p, y, n or 10).counts == 0).any() for _, p, y, n in public)
    # every binning slip changes the answer only when bins are miscalibrated in both directions
    for _, p, y, n in public:
        bins = ref.reliability_diagram(p, y, n or 10)
        gaps = (bins.accuracy - bins.confidence)[bins.counts > 0]
        assert (gaps > 0).any() and (gaps < 0).any()
    edges = np.linspace(0, 1, 5)
    assert any(n == 4 and np.isin(p.max(1), edges).any() for _, p, y, n in hidden)  # right-closed edges
    assert any(len(y) == 1 for _, _, y, _ in hidden) and any(y.dtype == np.int32 for _, _, y, _ in hidden)


def test_other_hidden_cases_cover_their_edge_classes() -> None:
    entropy = list(checks._entropy_cases(True))
    assert any(np.abs(z).max() >= 1000 for _, z, _ in entropy) and any(kw.get("axis") == 0 for *_, kw in entropy)
    assert any(np.asarray(z).dtype.kind == "i" for _, z, _ in entropy) and any(kw == {} for *_, kw in entropy)
    assert any(not np.asarray(z).flags.c_contiguous for _, z, _ in entropy)
    stats = [s for _, s in checks._stats_cases(True)]
    assert any(s.shape[0] == 1 for s in stats) and any(len(set(s.shape)) == 1 for s in stats)
    assert any(s.dtype.kind == "i" for s in stats)
    members = [p for _, p in checks._ensemble_cases(True)]
    assert any((p == 0).any() for p in members) and any(p.shape[0] == 1 for p in members)
    auroc = list(checks._auroc_cases(True))
    assert any(y.dtype == bool for _, y, _ in auroc) and any(len(set(s)) == 1 for *_, s in auroc)
    mc = [c for _, c in checks._mc_cases(True)]
    assert any(c["t"] == 1 for c in mc) and any(c.get("grad") for c in mc) and any(c["train"] for c in mc)


def test_auroc_check_accepts_sklearn() -> None:
    from sklearn.metrics import roc_auc_score

    checks.check_auroc(roc_auc_score, hidden=True)


def test_torch_tensor_answer_is_explained() -> None:
    torch = pytest.importorskip("torch")

    def max_softmax_score(logits):
        return torch.softmax(torch.as_tensor(np.asarray(logits, dtype=np.float64)), -1).amax(-1)

    from dlcourse.checks.guard import torch_as_oracle

    with torch_as_oracle(), pytest.raises(CheckFailure, match="torch.Tensor"):
        checks.check_max_softmax_score(max_softmax_score)
