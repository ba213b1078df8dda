"""The pieces of the Virtual Adversarial Method as plain functions (paper 000 §5.9, Algorithm 7)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_probabilities", "feasible", "kl_divergence", "kl_gradient_fd", "step_to_norm", "unit"]

#: elements of the (samples, N, *input) finite-difference stacks built at once (bounds memory only)
FD_STACK_ELEMENTS = 1 << 22


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, ``sum_i a_i b_i`` of two ``(n, N)`` arrays in ``a``'s dtype (``b`` may be bool).

    One ufunc call (``np.vecdot``, numpy >= 2; its SIMD dot products are accurate to about 1e-7
    relative in float32) instead of a product and a row sum, which take three to four times as
    long on the digits' 256 x 64 arrays.
    """
    if _vecdot is not None:
        return _vecdot(a, b)
    return np.einsum("ij,ij->i", a, b.astype(a.dtype, copy=False))


_vecdot = getattr(np, "vecdot", None)


def as_probabilities(out: np.ndarray) -> np.ndarray:
    """Rows of ``out`` as probability distributions: kept if they already are, else a softmax of them.

    Accepts classifiers whose outputs are probabilities and those whose outputs are logits (the
    softmax is taken in float64 and returned as float64).
    """
    out = np.asarray(out, dtype=np.float64)
    if out.size and out.min() >= 0 and np.abs(out.sum(axis=1) - 1.0).max() <= 1e-3:
        return out / out.sum(axis=1, keepdims=True)
    z = out - out.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per-row ``KL(p || q) = sum_k p_k log(p_k / q_k)`` in float64 (``0 log 0 = 0``)."""
    p = np.asarray(p, dtype=np.float64)
    q = np.maximum(np.asarray(q, dtype=np.float64), np.finfo(np.float64).tiny)
    safe_p = np.where(p > 0, p, 1.0)
    return np.where(p > 0, p * (np.log(safe_p) - np.log(q)), 0.0).sum(axis=-1)


def unit(d: np.ndarray, fallback: np.ndarray | None = None) -> np.ndarray:
    """``d / ||d||_2`` per sample, in ``d``'s dtype; rows of norm 0 take ``fallback``'s row (or stay 0).

    The squared norms are taken in ``d``'s dtype: a float32 row whose squared norm underflows
    (every component below about 1e-22) counts as zero.
    """
    flat = d.reshape(d.shape[0], -1)
    norm = np.sqrt(_rowdot(flat, flat))
    zero = norm == 0
    out = flat / np.where(zero, 1, norm).astype(d.dtype, copy=False)[:, None]
    if fallback is not None and zero.any():
        out[zero] = fallback.reshape(d.shape[0], -1)[zero]
    return out.reshape(d.shape).astype(d.dtype, copy=False)


def feasible(g: np.ndarray, x: np.ndarray, clip_values) -> np.ndarray:
    """Zero the components of ``g`` that point out of ``clip_values`` where ``x`` is on the bound (a new array)."""
    if clip_values is None:
        return g
    lo, hi = clip_values
    lo, hi = x.dtype.type(lo), x.dtype.type(hi)
    keep = (x <= lo) & (g < 0) | (x >= hi) & (g > 0)                   # pointing out where x is on that bound
    np.logical_not(keep, out=keep)
    return g * keep                                                     # (a zeroed negative component is -0.0)


def step_to_norm(x: np.ndarray, d: np.ndarray, eps: float, clip_values) -> np.ndarray:
    """``clip(x + t * d)`` per sample, with ``t >= 0`` solved so that the step has L2 norm ``eps``.

    ``f(t) = ||clip(x + t d) - x||^2`` is non-decreasing and piecewise quadratic: component ``i``
    grows as ``t^2 w_i`` (``w_i = d_i^2``) until it meets the bound ``d_i`` points at, then stays
    at ``c_i``, the square of its room to that bound; it is on its bound once ``c_i <= t^2 w_i``.
    With that set fixed, ``C + t'^2 W = eps^2`` (``C`` the ``c_i`` of the components on their
    bound, ``W`` the ``w_i`` of the others) gives the next ``t'``.  From ``t = eps / ||d||`` these
    steps never pass the solution (the components that reach their bound in between add less
    than assumed), so the set only grows, and they stop, exactly on the solution, as soon as it no
    longer does: a few vectorised rounds (two on the digits) instead of a sort.  A row whose box
    leaves less room than ``eps`` (or whose ``d`` is zero) gets the longest step along ``d``
    (every moving component on its bound).  Components of ``d`` that point out of the box where
    ``x`` is on its bound have no room and add nothing, so ``d`` need not be made feasible first,
    nor have unit length.  Without ``clip_values`` this is ``x + eps * d / ||d||``.  Element-wise
    work and the row sums (dot products) are in ``x``'s dtype, ``t`` in float64; in float32 the
    step's length is ``eps`` to about 1e-6 relative.  The output has ``x``'s dtype.
    """
    n = x.shape[0]
    xf = x.reshape(n, -1)
    df = d.reshape(n, -1).astype(x.dtype, copy=False)
    w = df * df
    w_all = _rowdot(df, df).astype(np.float64)
    eps2 = float(eps) ** 2
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t2 = eps2 / w_all                                               # no clipping: ||t d|| = eps
        if clip_values is not None:
            lo, hi = (x.dtype.type(v) for v in clip_values)
            # room to the bound d points at (hi - x or lo - x), by arithmetic rather than
            # np.where, which costs several times more on arrays this small; then squared
            c = np.multiply(df > 0, hi - lo, dtype=x.dtype)
            c -= xf
            if lo:
                c += lo
            c *= c
            on = c <= t2.astype(x.dtype)[:, None] * w                   # (t^2 = inf, w = 0: NaN, not on)
            while True:
                clipped = _rowdot(c, on).astype(np.float64)
                free = _rowdot(w, ~on).astype(np.float64)               # exactly 0 once all that move are on
                t2 = np.maximum(eps2 - clipped, 0.0) / free
                now = c <= t2.astype(x.dtype)[:, None] * w
                now |= on                                               # the set only grows (also under rounding)
                if np.array_equal(now, on):
                    break
                on = now
            spent = ~(free > 0) | ~np.isfinite(t2)                      # the longest step: the last breakpoint
            if spent.any():
                tb = c[spent] / w[spent]                                # t_i^2; d_i = 0 gives inf or NaN
                t2[spent] = np.where(np.isfinite(tb), tb, 0).max(axis=1)
    t = np.sqrt(np.where(np.isfinite(t2), t2, 0.0)).astype(x.dtype)    # d = 0: no step
    out = df * t[:, None]
    out += xf
    if clip_values is not None:
        np.minimum(np.maximum(out, lo, out=out), hi, out=out)
    return out.reshape(x.shape)


def kl_gradient_fd(predict_probs, x: np.ndarray, p: np.ndarray, width: float, clip_values) -> np.ndarray:
    """Lines 5-10 of Algorithm 7: finite differences of ``KL(p || F(.))`` at ``x``, one component at a time.

    ``predict_probs(batch)`` returns probability rows; every component costs one forward pass of
    one sample, and the shifted copies of several samples go through the model together.  The
    classifier only accepts inputs inside ``clip_values``, so a component closer than ``width``
    to the upper bound takes a backward difference instead of the box's forward one, and each
    difference is divided by the step actually taken (``width`` up to float rounding).
    """
    n = x.shape[0]
    size = int(np.prod(x.shape[1:]))
    flat = x.reshape(n, -1)
    base = kl_divergence(p, predict_probs(x))                                # kappa_1
    grad = np.zeros((n, size), dtype=np.float64)
    chunk = max(1, FD_STACK_ELEMENTS // max(size * size, 1))
    h = x.dtype.type(width)
    for s in range(0, n, chunk):
        e = min(n, s + chunk)
        xs = flat[s:e]
        moved = xs + h
        if clip_values is not None:
            moved = np.where(moved > clip_values[1], xs - h, moved)
            moved = np.clip(moved, clip_values[0], clip_values[1])
        step = moved.astype(np.float64) - xs                                 # signed, as represented
        shifted = np.repeat(xs[:, None, :], size, axis=1)                    # x + step_i * e_i for every i
        diag = np.arange(size)
        shifted[:, diag, diag] = moved
        q = predict_probs(shifted.reshape(((e - s) * size, *x.shape[1:])))
        kappa2 = kl_divergence(np.repeat(p[s:e], size, axis=0), q).reshape(e - s, size)
        safe = np.where(step != 0, step, 1.0)
        grad[s:e] = np.where(step != 0, (kappa2 - base[s:e, None]) / safe, 0.0)   # line 9
    return grad.reshape(x.shape)
