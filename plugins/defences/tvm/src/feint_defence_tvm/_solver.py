"""A batched primal-dual (Chambolle-Pock) solver for Guo et al.'s TV reconstruction problem.

For every 2-D array ``x`` (one channel of one image) with a keep mask ``m`` it minimises

    f(z) = || m * (z - x) ||_2  +  lamb * ( sum_i ||z[i+1, :] - z[i, :]||_p + sum_j ||z[:, j+1] - z[:, j]||_p )

with p in {1, 2}.  All problems of a batch advance together in numpy; each one is independent of
the others (so results do not depend on the batch), and a problem stops costing work once its
iterates move less than ``tol``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["tv_reconstruct", "tv_objective"]

_STEP = 0.99 / np.sqrt(8.0)        # tau = sigma with tau * sigma * ||K||^2 < 1, ||K||^2 <= 8 for 2-D differences


def _grad_t(yv: np.ndarray, yh: np.ndarray, out: np.ndarray) -> np.ndarray:
    """K^T y for K z = (vertical differences, horizontal differences), written into ``out``."""
    out[:] = 0
    out[:, :-1] -= yv
    out[:, 1:] += yv
    out[:, :, :-1] -= yh
    out[:, :, 1:] += yh
    return out


def _project(yv: np.ndarray, yh: np.ndarray, lamb: float, norm: int) -> None:
    """Project the dual variables onto the dual-norm balls of radius lamb (in place)."""
    if norm == 1:
        np.clip(yv, -lamb, lamb, out=yv)
        np.clip(yh, -lamb, lamb, out=yh)
        return
    tiny = np.finfo(yv.dtype).tiny
    nv = np.sqrt(np.einsum("pij,pij->pi", yv, yv))[:, :, None]       # one group per row difference
    yv *= np.minimum(1, lamb / np.maximum(nv, tiny))
    nh = np.sqrt(np.einsum("pij,pij->pj", yh, yh))[:, None, :]       # one group per column difference
    yh *= np.minimum(1, lamb / np.maximum(nh, tiny))


def tv_objective(z: np.ndarray, x: np.ndarray, mask: np.ndarray, lamb: float, norm: int) -> np.ndarray:
    """The objective f(z) of every problem of the batch ``(P, h, w)``."""
    fid = np.sqrt(((mask * (z - x)) ** 2).sum(axis=(1, 2)))
    dv, dh = np.diff(z, axis=1), np.diff(z, axis=2)
    if norm == 1:
        tv = np.abs(dv).sum(axis=(1, 2)) + np.abs(dh).sum(axis=(1, 2))
    else:
        tv = np.sqrt((dv ** 2).sum(axis=2)).sum(axis=1) + np.sqrt((dh ** 2).sum(axis=1)).sum(axis=1)
    return fid + lamb * tv


def tv_reconstruct(x: np.ndarray, mask: np.ndarray, lamb: float, norm: int = 2, max_iter: int = 100,
                   tol: float = 1e-4, check_every: int = 10) -> np.ndarray:
    """Solve the problems of the batch ``x`` ``(P, h, w)`` with keep masks ``mask``.

    Chambolle & Pock (2011), algorithm 1 with theta = 1, started at ``z = x`` and zero duals:
    dual ascent on the TV term followed by the closed-form proximal step of the masked L2 norm
    (a group soft-threshold of the kept pixels towards ``x``; dropped pixels are free).  Runs in
    ``x``'s floating dtype.  Every ``check_every`` iterations, the problems whose pixels all
    moved less than ``tol`` in the last iteration stop (and cost nothing further); the others
    stop after ``max_iter`` iterations.
    """
    dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    xs = np.asarray(x, dtype=dtype)
    p, h, w = xs.shape
    out = xs.copy()
    idx = np.arange(p)
    ms = mask.astype(dtype)
    z, zbar = xs.copy(), xs.copy()
    yv, yh = np.zeros((p, h - 1, w), dtype), np.zeros((p, h, w - 1), dtype)
    kt = np.empty_like(z)
    tau = sigma = dtype.type(_STEP)
    tiny = np.finfo(dtype).tiny
    for it in range(1, int(max_iter) + 1):
        yv += sigma * np.diff(zbar, axis=1)
        yh += sigma * np.diff(zbar, axis=2)
        _project(yv, yh, lamb, norm)
        v = z - tau * _grad_t(yv, yh, kt)
        d = ms * (v - xs)
        nd = np.sqrt(np.einsum("pij,pij->p", d, d))[:, None, None]
        d *= np.minimum(1, tau / np.maximum(nd, tiny))
        v -= d                                                   # v is now z_{k+1}
        np.subtract(v, z, out=zbar)                              # zbar = z_{k+1} - z_k for now
        if it % check_every == 0 and it < max_iter:
            done = np.abs(zbar).max(axis=(1, 2)) < tol
        else:
            done = None
        zbar += v                                                # zbar = 2 z_{k+1} - z_k
        z = v
        if done is not None and done.any():
            out[idx[done]] = z[done]
            keep = ~done
            if not keep.any():
                return out
            idx, xs, ms, z, zbar, yv, yh = (a[keep] for a in (idx, xs, ms, z, zbar, yv, yh))
            kt = np.empty_like(z)
    out[idx] = z
    return out
