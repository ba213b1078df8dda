"""CLEVER scores, targeted and untargeted (paper 000 §7.3, Algorithm 8), batched.

For an input x with predicted class c and a target y, CLEVER samples points uniformly in the
Lp ball of radius R around x, takes the dual norm of ``grad Z_c - grad Z_y`` at each, keeps the
maximum of each of ``n_batch`` batches of ``n_sample`` points, fits a reverse Weibull law to
those maxima, and returns ``min((Z_c(x) - Z_y(x)) / mu, R)`` with ``mu`` the fitted location,
an estimate of the local cross-Lipschitz constant.  The untargeted score is the minimum over
every y != c.

The work is batched: each input draws one pool of ``pool_factor * n_sample`` points (the
paper's pool, reused by the batches "for computational efficiency"), the gradient norms of the
whole pool are computed once, and the pools of many inputs, with every class needed, go to the
classifier in a few large ``class_gradient`` calls with an ``(n, m)`` label array.  The batches
then draw their ``n_sample`` points from the pool (without replacement within a batch) and only
take maxima of norms already computed.  All Weibull fits of a call are done together
(:mod:`feint_metric_clever.weibull`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from feint.errors import InvalidInputError, InvalidParameterError
from feint.norms import dual, lp_norm, parse_norm, random_ball
from feint.rng import make_seed
from feint_metric_clever.weibull import fit_reverse_weibull

__all__ = ["CleverFitWarning", "clever_t", "clever_u"]

_MEMORY_BUDGET = 128 * 2**20     # bytes of gradients held at once


class CleverFitWarning(UserWarning):
    """A reverse-Weibull fit failed or was degenerate; the largest observed gradient norm was used."""


class _PoolStream:
    """Adapts one generator to :func:`feint.norms.random_ball`: ``n`` rows drawn from one stream."""

    def __init__(self, gen: np.random.Generator, n: int) -> None:
        self.gen, self.n = gen, n

    def __len__(self) -> int:
        return self.n

    def _shape(self, size) -> tuple:
        size = () if size is None else ((size,) if isinstance(size, int) else tuple(size))
        return (self.n, *size)

    def uniform(self, low=0.0, high=1.0, shape=None, dtype=np.float64):
        return self.gen.uniform(low, high, self._shape(shape)).astype(dtype, copy=False)

    def normal(self, loc=0.0, scale=1.0, shape=None, dtype=np.float64):
        return self.gen.normal(loc, scale, self._shape(shape)).astype(dtype, copy=False)

    def standard_exponential(self, shape=None, dtype=np.float64):
        return self.gen.standard_exponential(self._shape(shape)).astype(dtype, copy=False)


def _stream(seed: int, index: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(int(index),))))


def _check_int(name: str, value, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise InvalidParameterError(f"The {name!r} parameter of CLEVER must be an int >= {low}. Got {value!r} instead.")
    return int(value)


def _check_params(n_batch, n_sample, r, c_init, pool_factor, fit, batch_size):
    _check_int("n_batch", n_batch, 2)
    _check_int("n_sample", n_sample, 1)
    _check_int("pool_factor", pool_factor, 1)
    _check_int("batch_size", batch_size, 1)
    for name, v in (("r", r), ("c_init", c_init)):
        if not isinstance(v, (int, float, np.number)) or isinstance(v, bool) or not (math.isfinite(v) and v > 0):
            raise InvalidParameterError(f"The {name!r} parameter of CLEVER must be a float > 0. Got {v!r} instead.")
    if fit not in ("profile", "scipy"):
        raise InvalidParameterError(f"The 'fit' parameter of CLEVER must be 'profile' or 'scipy'. Got {fit!r} instead.")


def _as_batch(classifier, x):
    """Return (batch, single): a single input of the classifier's shape gets a batch axis."""
    arr = np.asarray(x)
    shape = classifier.input_shape
    single = shape is not None and arr.ndim == len(shape) and tuple(arr.shape) == tuple(shape)
    return classifier.check_x(arr[None] if single else arr), single


def _targets_for(target_class, probs: np.ndarray, pred: np.ndarray, seed: int) -> np.ndarray:
    """Target classes per input, shape (n,): an int, n ints, or a rule of paper 004."""
    n, k = probs.shape
    if isinstance(target_class, str):
        from feint.labels import target_labels
        from feint.rng import SampleRandom

        rng = SampleRandom(seed + 1, np.arange(n)) if target_class == "random" else None
        return target_labels(target_class, probs, rng)
    arr = np.asarray(target_class)
    if arr.ndim == 0:
        arr = np.full(n, arr)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer) or arr.min(initial=0) < 0 or arr.max(initial=0) >= k:
        raise InvalidInputError(
            f"target_class must be a class index in [0, {k - 1}], one per input, or a rule "
            f"'least_likely' | 'next' | 'random'. Got {target_class!r} instead.")
    same = np.flatnonzero(arr == pred)
    if same.size:
        raise InvalidInputError(
            f"target_class equals the predicted class for input(s) {same[:10].tolist()}: the targeted "
            "CLEVER score is only defined for a class other than the prediction.")
    return arr.astype(np.int64)


def _batch_maxima(classifier, x, labels, n_batch, n_sample, r, p, pool_factor, seed, batch_size):
    """Batch maxima of ``||grad Z_{labels[:,0]} - grad Z_{labels[:,j]}||_q``: (n, m - 1, n_batch)."""
    n, m = labels.shape
    pool = pool_factor * n_sample
    shape = x.shape[1:]
    dim = int(np.prod(shape))
    q = dual(p)
    per_input = pool * m * dim * np.dtype(classifier.np_dtype).itemsize
    chunk = max(1, int(_MEMORY_BUDGET // max(per_input, 1)))
    maxima = np.empty((n, m - 1, n_batch), dtype=np.float64)
    cv = classifier.clip_values
    for start in range(0, n, chunk):
        idx = np.arange(start, min(n, start + chunk))
        points, picks = [], []
        for i in idx:
            gen = _stream(seed, i)
            delta = random_ball(_PoolStream(gen, pool), shape, r, p, dtype=classifier.np_dtype)
            pts = x[i][None] + delta
            points.append(pts if cv is None else np.clip(pts, cv[0], cv[1]))
            picks.append(np.argsort(gen.random((n_batch, pool)), axis=1)[:, :n_sample])
        pts = np.concatenate(points).astype(classifier.np_dtype, copy=False)
        lab = np.repeat(labels[idx], pool, axis=0)
        grads = classifier.class_gradient(pts, label=lab, logits=True, batch_size=batch_size)
        diff = grads[:, :1] - grads[:, 1:]                                   # (N, m-1, *shape)
        norms = lp_norm(diff.reshape(-1, dim), q).astype(np.float64).reshape(len(idx), pool, m - 1)
        for row, i in enumerate(idx):
            maxima[i] = norms[row][picks[row]].max(axis=1).T                # (m-1, n_batch)
    return maxima


def _clever(classifier, x, target_class, n_batch, n_sample, r, norm, c_init, pool_factor, fit,
            random_state, batch_size, return_details, untargeted):
    _check_params(n_batch, n_sample, r, c_init, pool_factor, fit, batch_size)
    p = parse_norm(norm)
    xb, single = _as_batch(classifier, x)
    n = xb.shape[0]
    seed = make_seed(random_state)
    z = classifier.predict(xb, logits=True, batch_size=batch_size).astype(np.float64)
    pred = z.argmax(axis=1)
    k = z.shape[1]
    if untargeted:
        others = np.array([[t for t in range(k) if t != c] for c in pred], dtype=np.int64).reshape(n, k - 1)
    else:
        probs = classifier.predict(xb, batch_size=batch_size) if isinstance(target_class, str) else z
        others = _targets_for(target_class, probs, pred, seed)[:, None]
    labels = np.concatenate([pred[:, None], others], axis=1)
    maxima = _batch_maxima(classifier, xb, labels, n_batch, n_sample, float(r), p, pool_factor, seed, batch_size)
    result = fit_reverse_weibull(maxima.reshape(-1, n_batch), c_init=float(c_init), method=fit)
    mu = result.loc.reshape(n, -1)
    margin = z[np.arange(n)[:, None], pred[:, None]] - z[np.arange(n)[:, None], others]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(mu > 0, margin / mu, np.inf)
    scores_all = np.minimum(ratio, float(r))
    best = scores_all.argmin(axis=1)
    scores = scores_all[np.arange(n), best]
    _warn_failures(result.status, n, others.shape[1])
    if return_details:
        status = result.status.reshape(n, -1)
        return {
            "scores": scores, "predictions": pred, "targets": others, "argmin_target": others[np.arange(n), best],
            "scores_per_target": scores_all, "lipschitz": mu, "max_observed": result.max_observed.reshape(n, -1),
            "margins": margin, "fit_status": status, "shape": result.shape.reshape(n, -1),
            "ks_pvalue": result.ks_pvalue.reshape(n, -1), "norm": p, "r": float(r),
        }
    return float(scores[0]) if single else scores


def _warn_failures(status: np.ndarray, n: int, per_input: int) -> None:
    bad = status != "ok"
    if not bad.any():
        return
    kinds, counts = np.unique(status[bad], return_counts=True)
    explain = {
        "degenerate": "all batch maxima (nearly) equal, e.g. a locally linear model, or zero gradients",
        "no_interior_maximum": "the likelihood only rises towards the largest observation",
        "unbounded": "the likelihood keeps rising as the end point goes to infinity",
        "failed": "scipy's optimiser failed or returned an end point below the data",
    }
    parts = "; ".join(f"{c} {k} ({explain.get(k, k)})" for k, c in zip(kinds, counts))
    warnings.warn(
        f"CLEVER: the reverse-Weibull fit did not give an estimate for {int(bad.sum())} of {status.size} "
        f"(input, target) pairs [{parts}]; their scores use the largest observed gradient norm instead, "
        "which can only overstate the score. More batches (n_batch) or samples (n_sample) usually help.",
        CleverFitWarning, stacklevel=3)


def clever_u(classifier, x, n_batch: int = 50, n_sample: int = 20, r: float = 2.0, norm=2, c_init: float = 1.0,
             pool_factor: int = 10, fit: str = "profile", random_state=None, batch_size: int = 1024,
             return_details: bool = False):
    """CLEVER score for untargeted attacks: the minimum targeted score over every other class.

    Paper 000 §7.3 (Weng et al., ICLR 2018).  An estimate of the smallest Lp perturbation that
    can change the prediction of ``x``, capped at ``r``.

    Spec: ``clever_u``, ``clever_u(n_batch=50, n_sample=20, r=2.0, norm=2)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` and ``class_gradient`` (of logits).
    x : ndarray
        A batch ``(n, *input_shape)`` (returns n scores) or one input (returns a float).
    n_batch : int, default 50
        Number of batches; each contributes its maximum gradient norm to the Weibull fit.
    n_sample : int, default 20
        Points per batch.
    r : float, default 2.0
        Radius R of the Lp ball; scores never exceed it.
    norm : {1, 2, inf}, default 2
        Perturbation norm p; gradient norms are taken in the dual norm q = p / (p - 1).
    c_init : float, default 1
        Starting shape of the Weibull maximum-likelihood fit.
    pool_factor : int, default 10
        Each input draws one pool of ``pool_factor * n_sample`` points uniformly in the ball
        (then clipped to ``clip_values``); the batches draw from it, so gradients are computed
        for the pool only.
    fit : {"profile", "scipy"}, default "profile"
        Vectorised profile-likelihood MLE of all fits at once, or ``scipy.stats.weibull_min.fit``
        one set at a time (ART's procedure, ~30 ms a fit).
    random_state : int or Generator, optional
        Seed; input ``i`` of the call uses its own stream, so results do not depend on chunking.
    batch_size : int, default 1024
        Points per ``class_gradient`` batch.
    return_details : bool, default False
        Return a dict (scores, Lipschitz estimates, fit statuses, targets...) instead of the scores.

    Notes
    -----
    A fit that fails or is degenerate (constant maxima, as on a linear model, or no interior
    maximum of the likelihood) emits a :class:`CleverFitWarning` and uses the largest observed
    gradient norm, never a silent 0.  ``fit_status`` in the details says which.  Inputs whose
    gradients are all zero get the score ``r`` (and the warning).
    """
    return _clever(classifier, x, None, n_batch, n_sample, r, norm, c_init, pool_factor, fit, random_state,
                   batch_size, return_details, untargeted=True)


def clever_t(classifier, x, target_class, n_batch: int = 50, n_sample: int = 20, r: float = 2.0, norm=2,
             c_init: float = 1.0, pool_factor: int = 10, fit: str = "profile", random_state=None,
             batch_size: int = 1024, return_details: bool = False):
    """CLEVER score for a targeted attack towards ``target_class`` (paper 000 §7.3, Algorithm 8).

    Spec: ``clever_t(target_class=3)``, ``clever_t(target_class='least_likely', norm=inf, r=0.3)``.

    Parameters
    ----------
    target_class : int, array of int, or {"least_likely", "next", "random"}
        The target y: one class for every input, one per input, or a rule of paper 004 applied
        to the classifier's predictions.  A target equal to the prediction is an error.

    The other parameters are those of :func:`clever_u`.  The gradients of the predicted class
    and the target are requested together, ``class_gradient(points, label=(N, 2) array)``.
    """
    if target_class is None:
        raise InvalidParameterError("clever_t needs target_class (an int, n ints, or 'least_likely' | 'next' | 'random').")
    if isinstance(target_class, str) and target_class not in ("least_likely", "next", "random"):
        raise InvalidParameterError(
            f"The 'target_class' parameter of clever_t must be a class index or one of 'least_likely', 'next', "
            f"'random'. Got {target_class!r} instead.")
    return _clever(classifier, x, target_class, n_batch, n_sample, r, norm, c_init, pool_factor, fit, random_state,
                   batch_size, return_details, untargeted=False)
