"""The pieces of the Virtual Adversarial Method as plain functions (paper 000 §5.9, Algorithm 7)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_probabilities", "feasible", "kl_divergence", "kl_gradient_fd", "step_to_norm", "unit"]

#: elements of the (samples, N, *input) finite-difference stacks built at once (bounds memory only)
FD_STACK_ELEMENTS = 1 << 22


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
    """``d / ||d||_2`` per sample, in ``d``'s dtype; rows of norm 0 take ``fallback``'s row (or stay 0)."""
    flat = d.reshape(d.shape[0], -1)
    norm = np.sqrt(np.einsum("ij,ij->i", flat, flat, dtype=np.float64))
    zero = norm == 0
    out = flat / np.where(zero, 1.0, norm).astype(d.dtype)[:, None]
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
    grows as ``t^2 d_i^2`` until ``t`` reaches the breakpoint ``t_i`` where it meets its bound,
    then stays at ``t_i^2 d_i^2``.  With the set of components on their bound at ``t`` fixed,
    ``C + t'^2 W = eps^2`` (``C`` their squared lengths, ``W`` the squared ``d`` of the others)
    gives the next ``t'``.  From ``t = eps / ||d||`` these steps never pass the solution (the
    components that reach their bound in between add less than assumed) and stop, exactly on it,
    as soon as the set no longer grows: a few vectorised rounds instead of a sort.  A row whose
    box leaves less room than ``eps`` (or whose ``d`` is zero) gets the longest step along ``d``
    (every moving component on its bound).  Components of ``d`` that point out of the box where
    ``x`` is on its bound have breakpoint 0 and add nothing, so ``d`` need not be made feasible
    first.  Without ``clip_values`` this is ``x + eps * d / ||d||``.  Element-wise work is in
    ``x``'s dtype, the sums of squares and ``t`` in float64 (the step's length is ``eps`` to about
    1e-7 relative in float32); the output has ``x``'s dtype.
    """
    n = x.shape[0]
    xf = x.reshape(n, -1)
    df = d.reshape(n, -1).astype(x.dtype, copy=False)
    w = df * df
    w_all = w.sum(axis=1, dtype=np.float64)
    eps2 = float(eps) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.sqrt(eps2 / w_all)                                       # no clipping: ||t d|| = eps
        if clip_values is not None:
            lo, hi = (x.dtype.type(v) for v in clip_values)
            # room to the bound d points at (hi - x or lo - x), by arithmetic rather than
            # np.where / masked copies, which cost several times more on arrays this small
            gap = np.multiply(df > 0, hi - lo, dtype=x.dtype)
            gap -= xf
            if lo:
                gap += lo
            gap *= df != 0                                              # d_i = 0 never moves: no length,
            tb = gap / df                                               # and breakpoint 0/0 = NaN, never "on"
            np.maximum(tb, np.zeros_like(tb), out=tb)                   # breakpoints t_i (bound reached)
            gap *= gap                                                  # = t_i^2 d_i^2: component i on its bound
            on = tb <= t.astype(x.dtype)[:, None]
            rows = np.flatnonzero(on.any(axis=1))                       # the rows whose set may still grow
            on = on[rows]
            while rows.size:
                c = (gap[rows] * on).sum(axis=1, dtype=np.float64)
                free = w_all[rows] - (w[rows] * on).sum(axis=1, dtype=np.float64)
                t_new = np.sqrt(np.maximum(eps2 - c, 0.0) / free)
                spent = ~(free > 1e-12 * w_all[rows])                   # every moving component on its bound
                if spent.any():
                    tb_s = tb[rows[spent]]
                    t_new[spent] = np.where(np.isfinite(tb_s), tb_s, 0).max(axis=1)
                t[rows] = t_new
                now = tb[rows] <= t_new.astype(x.dtype)[:, None]
                grew = (now != on).any(axis=1)
                rows, on = rows[grew], now[grew]
    t = np.where(np.isfinite(t), t, 0.0).astype(x.dtype)                # d = 0: no step
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
