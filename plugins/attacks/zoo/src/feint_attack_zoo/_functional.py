"""ZOO's building blocks as plain functions (Chen et al. 2017, §III, Algorithm 2 "ZOO-ADAM").

The objective is Carlini & Wagner's ``||x' - x0||_2^2 + c * f(x')`` with the black-box loss of
the ZOO paper (Eq. 4-5) on log-scores; its gradient is estimated one coordinate at a time with
symmetric finite differences, and each sampled coordinate takes its own Adam step.
"""

from __future__ import annotations

import numpy as np

__all__ = ["adam_coordinate_step", "cw_margin", "importance_probabilities", "sample_coordinates"]


def cw_margin(scores: np.ndarray, y: np.ndarray, targeted: bool) -> np.ndarray:
    """The ZOO / C&W margin on log-scores ``s`` (logits or log-probabilities), per row.

    Untargeted: ``s_y - max_{j != y} s_j`` (negative once another class wins).  Targeted:
    ``max_{j != t} s_j - s_t`` (negative once the target wins).  ``f = max(margin, -kappa)``.
    Logits and log-probabilities of a softmax give the same margin (the log-partition cancels).
    """
    s = np.asarray(scores, dtype=np.float64)
    rows = np.arange(s.shape[0])
    own = s[rows, y]
    other = s.copy()
    other[rows, y] = -np.inf
    best_other = other.max(axis=1)
    return best_other - own if targeted else own - best_other


def sample_coordinates(rng, d: int, k: int, prob: np.ndarray | None) -> np.ndarray:
    """``k`` distinct coordinates out of ``d`` per sample: uniformly, or proportionally to ``prob``.

    With ``k >= d`` every coordinate is taken (and nothing is drawn).
    Weighted sampling without replacement uses the Gumbel-top-k trick (keys ``log p + Gumbel``,
    the k largest), which draws exactly as sequential sampling proportional to ``p`` would.
    """
    if k >= d:
        return np.broadcast_to(np.arange(d), (len(rng), d)).copy()
    u = rng.uniform(0.0, 1.0, d, dtype=np.float64)
    if prob is None:
        keys = u
    else:
        gumbel = -np.log(-np.log(np.clip(u, 1e-300, 1.0 - 1e-16)))
        keys = np.log(np.maximum(prob, 1e-300)) + gumbel
    return np.argpartition(-keys, k - 1, axis=1)[:, :k]


def _block_max(a: np.ndarray, axis: int, size: int) -> np.ndarray:
    """Max over consecutive blocks of ``size`` along ``axis``, spread back over each block."""
    n = a.shape[axis]
    starts = np.arange(0, n, size)
    pooled = np.maximum.reduceat(a, starts, axis=axis)
    return np.repeat(pooled, np.diff(np.append(starts, n)), axis=axis)


def importance_probabilities(delta: np.ndarray, spatial_axes: tuple[int, ...], pool: int) -> np.ndarray:
    """Sampling probabilities from the current perturbation (ZOO §III-E, importance sampling).

    ``|delta|`` is max-pooled over non-overlapping ``pool x pool`` regions of the spatial axes (a
    region whose pixels changed matters) and normalised; half of the mass is then spread
    uniformly so that coordinates not changed yet keep being sampled (our choice: the paper
    recomputes the probabilities only when it enlarges the attack space, which this
    implementation does not).
    """
    n = delta.shape[0]
    a = np.abs(delta.astype(np.float64))
    if pool > 1:
        for ax in spatial_axes:
            a = _block_max(a, ax, pool)
    a = a.reshape(n, -1)
    d = a.shape[1]
    total = a.sum(axis=1, keepdims=True)
    focused = np.where(total > 0, a / np.where(total > 0, total, 1.0), 1.0 / d)
    return 0.5 * focused + 0.5 / d


def adam_coordinate_step(delta: np.ndarray, grad: np.ndarray, idx: np.ndarray, m: np.ndarray, v: np.ndarray,
                         t: np.ndarray, lr: float, beta1: float, beta2: float, low: np.ndarray,
                         high: np.ndarray) -> None:
    """One ZOO-ADAM step on coordinates ``idx`` (n, k) of the flat ``delta`` (n, d), in place.

    Per coordinate: ``M = b1 M + (1-b1) g``, ``v = b2 v + (1-b2) g^2``, bias-corrected step
    ``-lr * sqrt(1 - b2^T) / (1 - b1^T) * M / (sqrt(v) + 1e-8)``, ``T += 1``, then the
    projection onto the box ``[low, high]`` (the data range minus x0).
    """
    take = np.take_along_axis
    mt = beta1 * take(m, idx, 1) + (1 - beta1) * grad
    vt = beta2 * take(v, idx, 1) + (1 - beta2) * grad * grad
    tt = take(t, idx, 1)
    corr = np.sqrt(1 - beta2**tt) / (1 - beta1**tt)
    new = take(delta, idx, 1) - lr * corr * mt / (np.sqrt(vt) + 1e-8)
    new = np.clip(new, take(low, idx, 1), take(high, idx, 1))
    np.put_along_axis(m, idx, mt, 1)
    np.put_along_axis(v, idx, vt, 1)
    np.put_along_axis(t, idx, tt + 1, 1)
    np.put_along_axis(delta, idx, new.astype(delta.dtype), 1)
