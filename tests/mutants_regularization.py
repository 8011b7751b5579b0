"""Correct alternatives and known-wrong implementations (mutants) for the 07-regularization checks."""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import numpy as np

import dlcourse.ref as ref
from dlcourse.checks import regularization as checks

Impl = Callable[..., Any]


# ----------------------------------------------------------------- stratified split
def stratified_split_with_masks(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    rng = np.random.default_rng(rng)
    which = np.empty(len(y), dtype=int)  # 0 train, 1 val, 2 test
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n_t, n_v = round(len(idx) * test_fraction), round(len(idx) * val_fraction)
        which[idx] = 0
        which[idx[:n_v]] = 1
        which[idx[n_v:n_v + n_t]] = 2
    return tuple(np.flatnonzero(which == k) for k in range(3))


def stratified_split_not_stratified(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    rng = np.random.default_rng(rng)
    idx = rng.permutation(len(y))
    n_t, n_v = round(len(y) * test_fraction), round(len(y) * val_fraction)
    return idx[n_t + n_v:], idx[n_t:n_t + n_v], idx[:n_t]


def stratified_split_global_random_state(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    return _split(y, val_fraction, test_fraction, np.random.default_rng())  # ignores rng


def _split(y, fv, ft, rng, shuffle=True):
    parts = ([], [], [])
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        if shuffle:
            idx = rng.permutation(idx)
        n_t, n_v = round(len(idx) * ft), round(len(idx) * fv)
        parts[2].append(idx[:n_t]); parts[1].append(idx[n_t:n_t + n_v]); parts[0].append(idx[n_t + n_v:])
    return tuple(np.concatenate(p) for p in parts)


def stratified_split_never_shuffles(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    return _split(y, val_fraction, test_fraction, None, shuffle=False)


def stratified_split_overlapping(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    train, val, test = _split(y, val_fraction, test_fraction, np.random.default_rng(rng))
    return np.concatenate([train, val]), val, test  # validation examples also in training


def stratified_split_drops_examples(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    train, val, test = _split(y, val_fraction, test_fraction, np.random.default_rng(rng))
    return train[:-1], val, test


def stratified_split_range_of_classes(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    rng = np.random.default_rng(rng)
    parts = ([], [], [])
    for c in range(len(np.unique(y))):  # assumes the labels are 0…K−1
        idx = rng.permutation(np.flatnonzero(y == c))
        n_t, n_v = round(len(idx) * test_fraction), round(len(idx) * val_fraction)
        parts[2].append(idx[:n_t]); parts[1].append(idx[n_t:n_t + n_v]); parts[0].append(idx[n_t + n_v:])
    return tuple(np.concatenate(p) for p in parts)


def stratified_split_python_lists(y, val_fraction=0.2, test_fraction=0.2, rng=None):
    rng = np.random.default_rng(rng)
    train, val, test = [], [], []
    for c in np.unique(y):
        idx = list(rng.permutation(np.flatnonzero(y == c)))
        n_t, n_v = round(len(idx) * test_fraction), round(len(idx) * val_fraction)
        test += idx[:n_t]; val += idx[n_t:n_t + n_v]; train += idx[n_t + n_v:]
    return np.array(train), np.array(val), np.array(test)  # an empty list becomes a float64 array


def stratified_split_other_defaults(y, val_fraction=0.1, test_fraction=0.1, rng=None):
    return _split(y, val_fraction, test_fraction, np.random.default_rng(rng))


# ----------------------------------------------------------------- penalties
def l2_penalty_loop(params, lam):
    loss, grads = 0.0, {}
    for name in params:
        w = params[name]
        if name[0] == "W":
            loss += 0.5 * lam * float(np.vdot(w.ravel(), w.ravel()))
            grads[name] = lam * w
        else:
            grads[name] = 0 * w
    return loss, grads


def l2_penalty_includes_biases(params, lam):
    return 0.5 * lam * sum(float((v**2).sum()) for v in params.values()), {k: lam * v for k, v in params.items()}


def l2_penalty_without_half(params, lam):
    ws = {k: v for k, v in params.items() if k.startswith("W")}
    return lam * sum(float((v**2).sum()) for v in ws.values()), \
        {k: (lam * v if k in ws else np.zeros_like(v)) for k, v in params.items()}


def l2_penalty_double_gradient(params, lam):
    loss, grads = _l2(params, lam)
    return loss, {k: 2 * g for k, g in grads.items()}


def _l2(params, lam):
    ws = {k: v for k, v in params.items() if k.startswith("W")}
    return 0.5 * lam * sum(float((v**2).sum()) for v in ws.values()), \
        {k: (lam * v if k in ws else np.zeros_like(v)) for k, v in params.items()}


def l2_penalty_norm_not_squared(params, lam):
    ws = {k: v for k, v in params.items() if k.startswith("W")}
    return 0.5 * lam * math.sqrt(sum(float((v**2).sum()) for v in ws.values())), _l2(params, lam)[1]


def l2_penalty_zeros_like(params, lam):
    loss, grads = 0.0, {}
    for k, v in params.items():
        grads[k] = np.zeros_like(v)  # integer weights give an integer gradient array
        if k.startswith("W"):
            loss += 0.5 * lam * float((v**2).sum())
            grads[k][...] = lam * v
    return loss, grads


def l2_penalty_float32(params, lam):
    loss, grads = _l2(params, lam)
    return loss, {k: g.astype(np.float32) for k, g in grads.items()}


def l2_penalty_reuses_params_dict(params, lam):
    loss, grads = _l2(params, lam)
    for k in grads:
        params[k] = grads[k]  # "grads = params" then filled in: the caller's dict now holds gradients
    return loss, params


def l2_penalty_gradient_only_for_weights(params, lam):
    loss, grads = _l2(params, lam)
    return loss, {k: g for k, g in grads.items() if k.startswith("W")}


def _l1(params, lam, sign=np.sign, bias=False, half=False):
    ws = {k: v for k, v in params.items() if k.startswith("W") or bias}
    loss = (0.5 if half else 1.0) * lam * sum(float(np.abs(v).sum()) for v in ws.values())
    return loss, {k: (lam * sign(v) if k in ws else np.zeros_like(v)) for k, v in params.items()}


def l1_penalty_where(params, lam):
    loss = lam * sum(np.abs(v).sum() for k, v in params.items() if k.startswith("W"))
    return float(loss), {k: np.where(v > 0, lam, np.where(v < 0, -lam, 0.0)) if k.startswith("W") else np.zeros(v.shape)
                         for k, v in params.items()}


def l1_penalty_includes_biases(params, lam):
    return _l1(params, lam, bias=True)


def l1_penalty_lecture_sign(params, lam):
    return _l1(params, lam, sign=lambda v: -np.sign(v))


def l1_penalty_sign_one_at_zero(params, lam):
    return _l1(params, lam, sign=lambda v: np.where(v >= 0, 1.0, -1.0))


def l1_penalty_with_half(params, lam):
    return _l1(params, lam, half=True)


def l1_penalty_zeros_like(params, lam):
    loss, grads = _l1(params, lam)
    out = {}
    for k, v in params.items():
        out[k] = np.zeros_like(v)
        out[k][...] = grads[k]  # cut to integers for integer weights
    return loss, out


def l1_penalty_float32(params, lam):
    loss, grads = _l1(params, lam)
    return loss, {k: np.asarray(g, dtype=np.float32) for k, g in grads.items()}


def l1_penalty_l2_gradient(params, lam):
    loss, _ = _l1(params, lam)
    return loss, _l2(params, lam)[1]


# ----------------------------------------------------------------- dropout
def dropout_forward_where(x, p=0.5, train=True, rng=None):
    if not train:
        return x, np.ones_like(x)
    keep = rng.random(x.shape) < 1 - p
    scale = 1.0 / (1 - p) if p < 1 else 0.0
    mask = np.where(keep, scale, 0.0)
    return np.where(keep, x * scale, 0.0), mask


def _drop(x, p, train, rng, scale=True, keep_is_p=False, eval_scales=False, eval_drops=False):
    if not train and not eval_drops:
        return (x * (1 - p) if eval_scales else x), np.ones_like(x)
    keep = 1 - p if not keep_is_p else p
    m = rng.random(x.shape) < keep
    mask = m / keep if scale and keep > 0 else m.astype(float)
    return x * mask, mask


def dropout_forward_no_rescale(x, p=0.5, train=True, rng=None):
    return _drop(x, p, train, rng, scale=False)


def dropout_forward_p_as_keep_probability(x, p=0.5, train=True, rng=None):
    return _drop(x, p, train, rng, keep_is_p=True)


def dropout_forward_scales_at_eval(x, p=0.5, train=True, rng=None):
    return _drop(x, p, train, rng, eval_scales=True)


def dropout_forward_drops_at_eval(x, p=0.5, train=True, rng=None):
    return _drop(x, p, train, rng, eval_drops=True)


def dropout_forward_other_draw(x, p=0.5, train=True, rng=None):
    if not train or p == 0:
        return x, np.ones_like(x)
    m = rng.random(x.shape) >= p  # the same distribution, other units
    return x * m / (1 - p), m / (1 - p)


def dropout_forward_divides_at_p_one(x, p=0.5, train=True, rng=None):
    if not train:
        return x, np.ones(x.shape)
    mask = (rng.random(x.shape) < 1 - p) / (1 - p)  # p = 1: 0/0
    return x * mask, mask


def dropout_forward_float32_mask(x, p=0.5, train=True, rng=None):
    out, mask = _drop(x, p, train, rng)
    return out, mask.astype(np.float32)


def dropout_forward_zeros_like(x, p=0.5, train=True, rng=None):
    if not train or p == 0:
        return x * 1.0, np.ones(x.shape)
    if p == 1:
        return np.zeros(x.shape), np.zeros(x.shape)
    keep = rng.random(x.shape) < 1 - p
    out = np.zeros_like(x)  # integer pixels give an integer output
    out[keep] = x[keep] / (1 - p)
    return out, keep / (1 - p)


def dropout_forward_unscaled_cache(x, p=0.5, train=True, rng=None):
    out, mask = _drop(x, p, train, rng)
    return out, (mask > 0).astype(float)


def dropout_backward_where(dout, cache):
    return np.where(cache != 0, dout * cache, 0.0)


def dropout_backward_unscaled(dout, cache):
    return dout * (cache > 0)


def dropout_backward_identity(dout, cache):
    return dout.copy()


def dropout_backward_scaled_twice(dout, cache):
    keep = 1 / cache.max() if cache.max() > 0 else 1.0
    return dout * cache / keep


def dropout_backward_mask_only(dout, cache):
    return cache


def dropout_backward_recovers_p(dout, cache):
    p = 1 - 1 / cache.max()  # all-zero mask (p = 1): 1/0
    return dout * (cache > 0) / (1 - p)


def dropout_backward_float32(dout, cache):
    return (dout * cache).astype(np.float32)


# ----------------------------------------------------------------- DropConnect
def dropconnect_forward_einsum(x, w, b, p=0.5, train=True, rng=None):
    rng = np.random.default_rng(rng)
    if train and p > 0:
        mask = np.where(rng.random(w.shape) < 1 - p, 1.0 / (1 - p), 0.0)
    else:
        mask = np.ones(w.shape)
    return np.einsum("nd,dm->nm", x, w * mask) + b, (x, w, mask)


def _connect(x, w, b, p, train, rng, *, scale=True, keep_is_p=False, eval_mask=False, cache_w=False):
    keep = p if keep_is_p else 1 - p
    if (train and p > 0) or eval_mask:
        m = rng.random(w.shape) < keep
        mask = m / keep if scale else m.astype(float)
    else:
        mask = np.ones(w.shape)
    return x @ (w * mask) + b, (x, w * mask if cache_w else w, mask)


def dropconnect_forward_no_rescale(x, w, b, p=0.5, train=True, rng=None):
    return _connect(x, w, b, p, train, rng, scale=False)


def dropconnect_forward_p_as_keep_probability(x, w, b, p=0.5, train=True, rng=None):
    return _connect(x, w, b, p, train, rng, keep_is_p=True)


def dropconnect_forward_masks_at_eval(x, w, b, p=0.5, train=True, rng=None):
    return _connect(x, w, b, p, train, rng, eval_mask=True)


def dropconnect_forward_caches_masked_weights(x, w, b, p=0.5, train=True, rng=None):
    return _connect(x, w, b, p, train, rng, cache_w=True)


def dropconnect_forward_drops_inputs(x, w, b, p=0.5, train=True, rng=None):
    if not train or p == 0:
        return x @ w + b, (x, w, np.ones(w.shape))
    m = (rng.random(x.shape) < 1 - p) / (1 - p)  # dropout on the inputs
    return (x * m) @ w + b, (x, w, np.ones(w.shape))


def dropconnect_forward_mask_per_example(x, w, b, p=0.5, train=True, rng=None):
    if not train or p == 0:
        return x @ w + b, (x, w, np.ones(w.shape))
    m = (rng.random((len(x),) + w.shape) < 1 - p) / (1 - p)  # the paper's per-example masks
    return np.einsum("nd,ndm->nm", x, w * m) + b, (x, w, m.mean(axis=0))


def dropconnect_forward_unscaled_cache(x, w, b, p=0.5, train=True, rng=None):
    out, (x_, w_, mask) = _connect(x, w, b, p, train, rng)
    return out, (x_, w_, (mask > 0).astype(float))


def dropconnect_backward_loops(dout, cache):
    x, w, mask = cache
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for n in range(len(x)):
        dx[n] = (w * mask) @ dout[n]
        dw += np.outer(x[n], dout[n]) * mask
    return dx, dw, dout.sum(axis=0)


def _connect_backward(dout, cache, *, mask_dw=True, mask_dx=True, unscaled=False, sum_db=True, transpose_dw=False):
    x, w, mask = cache
    m = (mask > 0).astype(float) if unscaled else mask
    dx = dout @ (w * m if mask_dx else w).T
    dw = x.T @ dout * (m if mask_dw else 1.0)
    return dx, dw.T if transpose_dw else dw, dout.sum(axis=0) if sum_db else dout


def dropconnect_backward_dw_unmasked(dout, cache):
    return _connect_backward(dout, cache, mask_dw=False)


def dropconnect_backward_dx_unmasked(dout, cache):
    return _connect_backward(dout, cache, mask_dx=False)


def dropconnect_backward_unscaled_mask(dout, cache):
    return _connect_backward(dout, cache, unscaled=True)


def dropconnect_backward_db_not_summed(dout, cache):
    return _connect_backward(dout, cache, sum_db=False)


def dropconnect_backward_dw_transposed(dout, cache):
    return _connect_backward(dout, cache, transpose_dw=True)


# ----------------------------------------------------------------- early stopping
class EarlyStoppingCounter:
    """Written differently: remembers the losses and the best index."""

    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.history, self.best_epoch, self.best_params = [], -1, None

    @property
    def best_loss(self):
        return self.history[self.best_epoch] if self.best_epoch >= 0 else math.inf

    def step(self, val_loss, params):
        self.history.append(val_loss)
        if val_loss < self.best_loss - self.min_delta:
            self.best_epoch = len(self.history) - 1
            self.best_params = {k: np.array(v, copy=True) for k, v in params.items()}
        return len(self.history) - 1 - self.best_epoch >= self.patience


class _Base:
    def __init__(self, patience=5, min_delta=0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best_loss, self.best_epoch, self.best_params = math.inf, -1, None
        self.bad, self.epoch, self.last = 0, 0, math.inf


class EarlyStoppingKeepsLastWeights(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
        else:
            self.bad += 1
        self.best_params = copy.deepcopy(params)  # overwritten every epoch
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingStoresReference(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
            self.best_params = params  # the same arrays the optimizer keeps changing
        else:
            self.bad += 1
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingOffByOne(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
            self.best_params = copy.deepcopy(params)
        else:
            self.bad += 1
        self.epoch += 1
        return self.bad > self.patience


class EarlyStoppingComparesWithPrevious(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_params = copy.deepcopy(params)
        self.bad = 0 if val_loss < self.last else self.bad + 1  # "improved on last epoch" is not "improved"
        self.last = val_loss
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingNeverResets(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_params = copy.deepcopy(params)
        else:
            self.bad += 1  # counts every bad epoch since the start
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingIgnoresMinDelta(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
            self.best_params = copy.deepcopy(params)
        else:
            self.bad += 1
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingLessOrEqual(_Base):
    def step(self, val_loss, params):
        if val_loss <= self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
            self.best_params = copy.deepcopy(params)
        else:
            self.bad += 1
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingShallowCopy(_Base):
    def step(self, val_loss, params):
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.bad = val_loss, self.epoch, 0
            self.best_params = dict(params)  # a new dict holding the same arrays
        else:
            self.bad += 1
        self.epoch += 1
        return self.bad >= self.patience


class EarlyStoppingOtherDefaultPatience(EarlyStoppingCounter):
    def __init__(self, patience=3, min_delta=0.0):  # the default patience is 5
        super().__init__(patience, min_delta)


# ----------------------------------------------------------------- tables
CORRECT: dict[Callable[..., None], list[Impl]] = {
    checks.check_stratified_split: [stratified_split_with_masks],
    checks.check_l2_penalty: [l2_penalty_loop],
    checks.check_l1_penalty: [l1_penalty_where],
    checks.check_dropout_forward: [dropout_forward_where],
    checks.check_dropout_backward: [dropout_backward_where],
    checks.check_dropconnect_forward: [dropconnect_forward_einsum],
    checks.check_dropconnect_backward: [dropconnect_backward_loops],
    checks.check_early_stopping: [EarlyStoppingCounter],
}

REFERENCE: dict[Callable[..., None], Impl] = {
    checks.check_stratified_split: ref.stratified_split,
    checks.check_l2_penalty: ref.l2_penalty,
    checks.check_l1_penalty: ref.l1_penalty,
    checks.check_dropout_forward: ref.dropout_forward,
    checks.check_dropout_backward: ref.dropout_backward,
    checks.check_dropconnect_forward: ref.dropconnect_forward,
    checks.check_dropconnect_backward: ref.dropconnect_backward,
    checks.check_early_stopping: ref.EarlyStopping,
}

MUTANTS: dict[Callable[..., None], list[tuple[Impl, str | None, bool, str | None]]] = {
    checks.check_stratified_split: [
        (stratified_split_not_stratified, "val_idx holds", True, "stratify"),
        (stratified_split_global_random_state, "same seed", True, "draw every random number from the `rng` argument"),
        (stratified_split_never_shuffles, "different seeds gave the same split", True, "shuffle each class's indices with rng"),
        (stratified_split_overlapping, "overlap", True, None),
        (stratified_split_drops_examples, "exactly once", True, None),
        (stratified_split_range_of_classes, "no example of class 3", False, r"np\.unique\(y\)"),
        (stratified_split_python_lists, "integer indices, dtype float64", False, "empty part"),
        (stratified_split_other_defaults, "val_idx holds", False, "defaults are val_fraction=0.2"),
    ],
    checks.check_l2_penalty: [
        (l2_penalty_includes_biases, "l2_penalty's penalty is", True, "not penalized"),
        (l2_penalty_without_half, "l2_penalty's penalty is", True, "½ is missing"),
        (l2_penalty_double_gradient, r"grads\['W1'\] has wrong values", True, "not 2λW"),
        (l2_penalty_norm_not_squared, "l2_penalty's penalty is", True, "square the weights"),
        (l2_penalty_gradient_only_for_weights, "zero gradient for the unpenalized", True, None),
        (l2_penalty_zeros_like, r"grads\['W1'\] has wrong values \(integer weights", False, "cut to whole numbers"),
        (l2_penalty_float32, r"grads\['W1'\] has dtype float32", True, "float32"),
        (l2_penalty_reuses_params_dict, "changed|replaced", True, None),
    ],
    checks.check_l1_penalty: [
        (l1_penalty_includes_biases, "l1_penalty's penalty is", True, "not penalized"),
        (l1_penalty_lecture_sign, r"grads\['W1'\] has wrong values", True, "sign wrong"),
        (l1_penalty_sign_one_at_zero, r"grads\['W1'\] has wrong values", False, "subgradient 0"),
        (l1_penalty_with_half, "l1_penalty's penalty is", True, "L1 has no ½"),
        (l1_penalty_l2_gradient, r"grads\['W1'\] has wrong values", True, "L2 gradient"),
        (l1_penalty_zeros_like, r"grads\['W1'\] has wrong values \(integer weights", False, "cut to whole numbers"),
        (l1_penalty_float32, r"grads\['W1'\] has dtype float32", True, "float32"),
    ],
    checks.check_dropout_forward: [
        (dropout_forward_no_rescale, "dropout_forward's out has wrong values", True, r"1/\(1 − p\)"),
        (dropout_forward_p_as_keep_probability, "dropout_forward's out has wrong values", True, "DROPPING"),
        (dropout_forward_scales_at_eval, "dropout_forward's out has wrong values", True, "non-inverted"),
        (dropout_forward_drops_at_eval, "dropout_forward's out has wrong values", True, "eval mode"),
        (dropout_forward_other_draw, "dropout_forward's out has wrong values", True, "in one call"),
        (dropout_forward_unscaled_cache, r"dropout_forward's cache \(the scaled mask\) has wrong values", True, r"scaled\* mask"),
        (dropout_forward_divides_at_p_one, "raised (FloatingPointError|ZeroDivisionError)", False, "divides by zero"),
        (dropout_forward_float32_mask, r"cache \(the scaled mask\) has dtype float32", True, "float32"),
        (dropout_forward_zeros_like, "out has wrong values \\(integer x", False, "cut to whole numbers"),
    ],
    checks.check_dropout_backward: [
        (dropout_backward_unscaled, "dx has wrong values", True, "scale the gradient"),
        (dropout_backward_identity, "dx has wrong values", True, "no gradient"),
        (dropout_backward_scaled_twice, "dx has wrong values", True, "do not divide again"),
        (dropout_backward_mask_only, "dx has wrong values", True, "chain rule"),
        (dropout_backward_recovers_p, "raised (FloatingPointError|ZeroDivisionError)", False, "recovering p"),
        (dropout_backward_float32, "dx has dtype float32", True, "float32"),
    ],
    checks.check_dropconnect_forward: [
        (dropconnect_forward_no_rescale, "dropconnect_forward's out has wrong values", True, r"scale the kept weights"),
        (dropconnect_forward_p_as_keep_probability, "out has wrong values", True, "DROPPING"),
        (dropconnect_forward_drops_inputs, "out has wrong values", True, "drops input units"),
        (dropconnect_forward_mask_per_example, "out has wrong values", True, "one mask per call"),
        (dropconnect_forward_masks_at_eval, "out has wrong values", True, "eval mode"),
        (dropconnect_forward_unscaled_cache, "the cache's mask has wrong values", True, r"\*scaled\* mask"),
        (dropconnect_forward_caches_masked_weights, "the cache's w should be the w you were given", True, None),
    ],
    checks.check_dropconnect_backward: [
        (dropconnect_backward_dw_unmasked, "dw has wrong values", True, "dropped weight gets no gradient"),
        (dropconnect_backward_dx_unmasked, "dx has wrong values", True, "weights that were used"),
        (dropconnect_backward_unscaled_mask, "dw has wrong values", True, r"scaled by 1/\(1 − p\)"),
        (dropconnect_backward_db_not_summed, "db has shape", True, "summed over the batch"),
        (dropconnect_backward_dw_transposed, "dw has shape", True, "w's shape"),
    ],
    checks.check_early_stopping: [
        (EarlyStoppingKeepsLastWeights, r"best_params\['W'\] has wrong values", True, "LAST weights"),
        (EarlyStoppingStoresReference, r"best_params\['W'\] has wrong values", True, "LAST weights"),
        (EarlyStoppingOffByOne, "step returned False, expected True", True, "stop now"),
        (EarlyStoppingComparesWithPrevious, "step returned False, expected True", True, "BEST loss"),
        (EarlyStoppingNeverResets, "step returned True, expected False", True, "restarts the count"),
        (EarlyStoppingIgnoresMinDelta, "best_loss", False, None),
        (EarlyStoppingLessOrEqual, "best_epoch", False, None),
        (EarlyStoppingShallowCopy, r"best_params\['W'\] has wrong values", True, "LAST weights"),
        (EarlyStoppingOtherDefaultPatience, "step returned True, expected False", False, "patience 5"),
    ],
}


# ----------------------------------------------------------------- random shift
def random_shift_with_padding(x, max_shift=2, rng=None):
    n, c, h, w = x.shape
    s = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n, 2))
    return np.stack([padded[i, :, s - dy:s - dy + h, s - dx:s - dx + w] for i, (dy, dx) in enumerate(shifts)])


def _shift_with(x, shifts, roll=False):
    out = np.zeros_like(x)
    h, w = x.shape[2:]
    for i, (dy, dx) in enumerate(shifts.tolist()):
        if roll:
            out[i] = np.roll(x[i], (dy, dx), axis=(1, 2))
        else:
            out[i, :, max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)] = \
                x[i, :, max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    return out


def random_shift_np_roll(x, max_shift=2, rng=None):
    return _shift_with(x, rng.integers(-max_shift, max_shift + 1, size=(len(x), 2)), roll=True)


def random_shift_wrong_direction(x, max_shift=2, rng=None):
    return _shift_with(x, -rng.integers(-max_shift, max_shift + 1, size=(len(x), 2)))


def random_shift_axes_swapped(x, max_shift=2, rng=None):
    return _shift_with(x, rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))[:, ::-1])


def random_shift_one_shift_per_batch(x, max_shift=2, rng=None):
    s = rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))
    return _shift_with(x, np.repeat(s[:1], len(x), axis=0))


def random_shift_excludes_upper_bound(x, max_shift=2, rng=None):
    return _shift_with(x, rng.integers(-max_shift, max_shift, size=(len(x), 2)) if max_shift else
                       np.zeros((len(x), 2), dtype=int))


def random_shift_float_output(x, max_shift=2, rng=None):
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))
    return _shift_with(x, shifts).astype(np.float64)  # like np.zeros(x.shape): uint8 images become floats


def random_shift_minus_zero_slice(x, max_shift=2, rng=None):
    out = np.zeros_like(x)

    def cut(d):  # (source, destination) along one axis; for d = 0, slice(0, -0) is empty
        return (slice(0, -d), slice(d, None)) if d >= 0 else (slice(-d, None), slice(0, d))

    for i, (dy, dx) in enumerate(rng.integers(-max_shift, max_shift + 1, size=(len(x), 2))):
        (sy, ty), (sx, tx) = cut(int(dy)), cut(int(dx))
        out[i][:, ty, tx] = x[i][:, sy, sx]
    return out


def random_shift_in_place(x, max_shift=2, rng=None):
    out = _shift_with(x, rng.integers(-max_shift, max_shift + 1, size=(len(x), 2)))
    x[...] = out
    return x


# ----------------------------------------------------------------- random search
def random_search_points_natural_log(ranges, n, rng=None, log=None):
    log = log or [False] * len(ranges)
    lo = np.array([np.log(a) if g else a for (a, _), g in zip(ranges, log)])
    hi = np.array([np.log(b) if g else b for (_, b), g in zip(ranges, log)])
    u = rng.uniform(lo, hi, size=(n, len(ranges)))
    return np.where(log, np.exp(u), u)


def random_search_points_ignores_log(ranges, n, rng=None, log=None):
    lo, hi = np.array(ranges, dtype=float).T
    return rng.uniform(lo, hi, size=(n, len(ranges)))


def random_search_points_axis_by_axis(ranges, n, rng=None, log=None):
    log = log or [False] * len(ranges)
    cols = []
    for (a, b), g in zip(ranges, log):
        cols.append(10 ** rng.uniform(np.log10(a), np.log10(b), size=n) if g else rng.uniform(a, b, size=n))
    return np.column_stack(cols)


def random_search_points_exponent_in_e(ranges, n, rng=None, log=None):
    log = log or [False] * len(ranges)
    lo = np.array([np.log10(a) if g else a for (a, _), g in zip(ranges, log)])
    hi = np.array([np.log10(b) if g else b for (_, b), g in zip(ranges, log)])
    u = rng.uniform(lo, hi, size=(n, len(ranges)))
    return np.where(log, np.exp(u), u)


def random_search_points_integer_bounds(ranges, n, rng=None, log=None):
    log = [False] * len(ranges) if log is None else list(log)
    lo, hi = np.array(ranges).T.copy()  # integer bounds give integer arrays
    for k, g in enumerate(log):
        if g:
            lo[k], hi[k] = np.log10(lo[k]), np.log10(hi[k])  # cut to whole numbers
    u = rng.uniform(lo, hi, size=(n, len(ranges)))
    return np.where(log, 10.0**u, u)


def random_search_points_requires_log(ranges, n, rng=None, log=None):
    lo = np.array([np.log10(a) if g else a for (a, _), g in zip(ranges, log)])  # log=None: TypeError
    hi = np.array([np.log10(b) if g else b for (_, b), g in zip(ranges, log)])
    u = rng.uniform(lo, hi, size=(n, len(ranges)))
    return np.where(log, 10.0**u, u)


def random_search_points_grid(ranges, n, rng=None, log=None):
    k = max(int(round(n ** (1 / len(ranges)))), 1)
    pts = _grid(ranges, k, log)
    return np.resize(pts, (n, len(ranges)))


def _grid(ranges, k, log):
    log = log or [False] * len(ranges)
    axes = [np.logspace(np.log10(a), np.log10(b), k) if g else np.linspace(a, b, k) for (a, b), g in zip(ranges, log)]
    return np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)


CORRECT[checks.check_random_shift] = [random_shift_with_padding]
CORRECT[checks.check_random_search_points] = [random_search_points_natural_log]
REFERENCE[checks.check_random_shift] = ref.random_shift
REFERENCE[checks.check_random_search_points] = ref.random_search_points
MUTANTS[checks.check_random_shift] = [
    (random_shift_np_roll, "random_shift's output has wrong values", True, "wraps"),
    (random_shift_wrong_direction, "random_shift's output has wrong values", True, "wrong way"),
    (random_shift_axes_swapped, "random_shift's output has wrong values", True, "swapped"),
    (random_shift_one_shift_per_batch, "random_shift's output has wrong values", True, "its own shift"),
    (random_shift_excludes_upper_bound, "random_shift's output has wrong values", True, "excludes its upper bound"),
    (random_shift_in_place, "in place", True, None),
    (random_shift_float_output, "dtype float64, expected uint8", False, "keeps the images' dtype"),
    (random_shift_minus_zero_slice, None, True, None),
]
MUTANTS[checks.check_random_search_points] = [
    (random_search_points_ignores_log, "the sampled points has wrong values", True, "log axes"),
    (random_search_points_axis_by_axis, "the sampled points has wrong values", True, "one call"),
    (random_search_points_exponent_in_e, "the sampled points has wrong values", True, r"10\*\*u"),
    (random_search_points_grid, "wrong values", True, None),
    (random_search_points_integer_bounds, "the sampled points has wrong values", False, r"dtype=float"),
    (random_search_points_requires_log, None, False, None),
]
