"""Lp-norm helpers shared by attacks and metrics: norms, steepest directions, projections, balls."""

from __future__ import annotations

import math

import numpy as np

from feint.errors import InvalidParameterError

__all__ = ["all_norms", "clip", "dual", "lp_norm", "normalize", "parse_norm", "project", "random_ball"]

_EPS = 1e-12


def parse_norm(norm, owner: str = "norm") -> float:
    """Accept ``inf``/``np.inf``/``"inf"``/``"linf"``, 1, 2 (and ``"l1"``, ``"l2"``); return a float."""
    table = {"inf": math.inf, "linf": math.inf, "l1": 1.0, "l2": 2.0, "1": 1.0, "2": 2.0}
    if isinstance(norm, str) and norm.lower() in table:
        return table[norm.lower()]
    if isinstance(norm, (int, float)) and not isinstance(norm, bool) and norm in (1, 2, math.inf):
        return float(norm)
    raise InvalidParameterError(f"The {owner!r} parameter must be one of {{1, 2, inf}}. Got {norm!r} instead.")


def dual(p: float) -> float:
    """The dual exponent q with 1/p + 1/q = 1."""
    p = parse_norm(p)
    return 1.0 if p == math.inf else (math.inf if p == 1 else p / (p - 1))


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(x.shape[0], -1)


def lp_norm(delta: np.ndarray, p) -> np.ndarray:
    """Per-sample Lp norm of ``delta`` (p in 0, 1, 2, inf)."""
    f = _flat(delta)
    if p == 0:
        return np.count_nonzero(f, axis=1).astype(np.float32)
    p = parse_norm(p)
    if p == math.inf:
        return np.abs(f).max(axis=1, initial=0.0)
    if p == 1:
        return np.abs(f).sum(axis=1)
    return np.sqrt((f.astype(np.float64) ** 2).sum(axis=1)).astype(delta.dtype)


def all_norms(delta: np.ndarray, atol: float = 0.0) -> dict[str, np.ndarray]:
    """L0 (components changed by more than ``atol``), L1, L2 and Linf per sample."""
    f = _flat(delta)
    return {
        "l0": (np.abs(f) > atol).sum(axis=1).astype(np.int64),
        "l1": np.abs(f).sum(axis=1),
        "l2": np.sqrt((f.astype(np.float64) ** 2).sum(axis=1)).astype(delta.dtype),
        "linf": np.abs(f).max(axis=1, initial=0.0),
    }


def normalize(grad: np.ndarray, norm) -> np.ndarray:
    """The FGM direction of unit Lp norm: sign for inf, g/||g||_p for p = 1, 2 (paper 000 §5.2)."""
    p = parse_norm(norm)
    if p == math.inf:
        return np.sign(grad).astype(grad.dtype, copy=False)
    n = lp_norm(grad, p).reshape((-1,) + (1,) * (grad.ndim - 1))
    return (grad / np.maximum(n, _EPS)).astype(grad.dtype, copy=False)


def _project_l1(f: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row onto the L1 ball of radius eps (Duchi et al. 2008)."""
    absf = np.abs(f)
    inside = absf.sum(axis=1) <= eps
    if np.all(inside):
        return f
    u = -np.sort(-absf, axis=1)
    css = np.cumsum(u, axis=1)
    k = np.arange(1, f.shape[1] + 1, dtype=f.dtype)
    cond = u - (css - eps[:, None]) / k > 0
    rho = f.shape[1] - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = (css[np.arange(f.shape[0]), rho] - eps) / (rho + 1)
    out = np.sign(f) * np.maximum(absf - theta[:, None], 0)
    out = np.where((eps <= 0)[:, None], 0, out)  # radius 0: the only point of the ball
    return np.where(inside[:, None], f, out).astype(f.dtype)


def project(delta: np.ndarray, eps, norm) -> np.ndarray:
    """Project each perturbation onto the Lp ball of radius ``eps`` (a scalar or per sample)."""
    p = parse_norm(norm)
    if p == math.inf and np.ndim(eps) == 0:                  # the common case: one radius, no broadcasting
        e = delta.dtype.type(eps)
        return np.clip(delta, -e, e).astype(delta.dtype, copy=False)
    eps_arr = np.broadcast_to(np.asarray(eps, dtype=delta.dtype).reshape(-1), (delta.shape[0],))
    shape = (-1,) + (1,) * (delta.ndim - 1)
    if p == math.inf:
        e = eps_arr.reshape(shape)
        return np.clip(delta, -e, e).astype(delta.dtype, copy=False)
    if p == 2:
        n = lp_norm(delta, 2)
        factor = np.minimum(1.0, eps_arr / np.maximum(n, _EPS)).reshape(shape)
        return (delta * factor).astype(delta.dtype, copy=False)
    return _project_l1(_flat(delta), eps_arr).reshape(delta.shape)


def random_ball(rng, shape, eps, norm, dtype=np.float32) -> np.ndarray:
    """Points drawn uniformly from the Lp ball of radius ``eps``, one per stream of ``rng``.

    Uses the cube for inf, a Gaussian direction with radius ``eps * U**(1/d)`` for 2, and
    Laplace coordinates normalised with an extra exponential for 1 (Barthe et al. 2005), which
    is exactly uniform in the L1 ball.
    """
    p = parse_norm(norm)
    shape = tuple(shape)
    d = int(np.prod(shape))
    n = len(rng)
    eps_arr = np.broadcast_to(np.asarray(eps, dtype=np.float64).reshape(-1), (n,))[:, None]
    if p == math.inf:
        out = rng.uniform(-1.0, 1.0, d, dtype=np.float64) * eps_arr
    elif p == 2:
        z = rng.normal(0.0, 1.0, d, dtype=np.float64)
        z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), _EPS)
        r = rng.uniform(0.0, 1.0, 1, dtype=np.float64) ** (1.0 / d)
        out = z * r * eps_arr
    else:
        e = rng.standard_exponential(d + 1, dtype=np.float64)
        signs = np.where(rng.uniform(0.0, 1.0, d, dtype=np.float64) < 0.5, -1.0, 1.0)
        out = signs * e[:, :d] / e.sum(axis=1, keepdims=True) * eps_arr
    return out.reshape((n, *shape)).astype(dtype)


def clip(x: np.ndarray, clip_values) -> np.ndarray:
    """Clip into ``clip_values`` (a ``(min, max)`` pair, or None for no clipping)."""
    if clip_values is None:
        return x
    return np.clip(x, clip_values[0], clip_values[1]).astype(x.dtype, copy=False)
