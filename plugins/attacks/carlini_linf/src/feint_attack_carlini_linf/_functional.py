"""The pieces of Carlini & Wagner's Linf attack as plain functions (tanh box, hinge, Adam)."""

from __future__ import annotations

import numpy as np

__all__ = ["Adam", "box_map", "from_tanh", "hinge", "to_tanh"]

_SHRINK = 1.0 - 1e-6  # keeps arctanh finite at the box edges (C&W use x * 1.999999 on [-0.5, 0.5])


def to_tanh(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """The tanh-space variable ``w`` with ``from_tanh(w) ~= x`` (C&W §V, change of variables)."""
    u = (2.0 * (x.astype(np.float64) - lo) / (hi - lo) - 1.0) * _SHRINK
    return np.arctanh(u)


def from_tanh(w: np.ndarray, lo: float, hi: float, dtype=np.float32) -> np.ndarray:
    """``lo + (hi - lo) * (tanh(w) + 1) / 2``: always strictly inside the box."""
    return (lo + (hi - lo) * 0.5 * (np.tanh(w) + 1.0)).astype(dtype)


def dx_dw(w: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Derivative of :func:`from_tanh` (elementwise)."""
    return 0.5 * (hi - lo) * (1.0 - np.tanh(w) ** 2)


def box_map(box: str, lo: float, hi: float):
    """``(to_variable, to_x, dx/dvariable, projection)`` of the box handling (C&W §V-B).

    ``'tanh'``: the change of variables of the reference code.  ``'clip'``: optimise ``x`` itself
    and project (clip) every iterate into the box, C&W's "projected gradient descent".
    """
    if box == "tanh":
        return (lambda x: to_tanh(x, lo, hi), lambda w: from_tanh(w, lo, hi, np.float64),
                lambda w: dx_dw(w, lo, hi), lambda w: w)
    return (lambda x: x.astype(np.float64), lambda w: w, lambda w: 1.0, lambda w: np.clip(w, lo, hi))


def hinge(z: np.ndarray, y: np.ndarray, targeted: bool, confidence: float):
    """C&W's objective f_6 on logits and the class it competes with.

    Targeted: ``max(max_{i != t} z_i - z_t + kappa, 0)``; untargeted:
    ``max(z_y - max_{i != y} z_i + kappa, 0)``.  Returns ``(f, other)``.
    """
    z = z.astype(np.float64)
    rows = np.arange(len(z))
    real = z[rows, y]
    masked = np.where(np.arange(z.shape[1])[None] == y[:, None], -np.inf, z)
    other = masked.argmax(axis=1)
    gap = (masked[rows, other] - real) if targeted else (real - masked[rows, other])
    return np.maximum(gap + confidence, 0.0), other


class Adam:
    """Adam (Kingma & Ba 2015) with per-row state that can be reset row by row."""

    def __init__(self, shape, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.b1, self.b2, self.eps = lr, beta1, beta2, eps
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = np.zeros(shape[0], dtype=np.int64)

    def reset(self, rows) -> None:
        self.m[rows] = 0.0
        self.v[rows] = 0.0
        self.t[rows] = 0

    def step(self, rows, grad: np.ndarray) -> np.ndarray:
        """Return the update (to subtract) for ``rows`` (indices, or a slice) given their gradients.

        With a slice the moments are updated in place through views (the same arithmetic,
        without gathering and scattering them).
        """
        self.t[rows] += 1
        if isinstance(rows, slice):
            m, v = self.m[rows], self.v[rows]
            m *= self.b1
            m += (1 - self.b1) * grad
            v *= self.b2
            v += (1 - self.b2) * grad**2
        else:
            m = self.m[rows] = self.b1 * self.m[rows] + (1 - self.b1) * grad
            v = self.v[rows] = self.b2 * self.v[rows] + (1 - self.b2) * grad**2
        shape = (-1,) + (1,) * (grad.ndim - 1)
        t = self.t[rows].reshape(shape)
        m_hat = m / (1 - self.b1**t)
        v_hat = v / (1 - self.b2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
