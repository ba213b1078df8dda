"""The pieces of the C&W L2 attack as plain functions (paper 000 §5.5, Algorithm 3)."""

from __future__ import annotations

import numpy as np

__all__ = ["TANH_SCALE", "adam_step", "from_tanh_space", "hinge_weights", "margin_loss", "tanh_space_derivative", "to_tanh_space"]

#: gamma of Algorithm 3: keeps arctanh finite at the bounds of the data range
TANH_SCALE = 0.999999


def to_tanh_space(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Lines 1-2: map ``[lo, hi]`` onto the real line, ``w = arctanh((2 (x - lo)/(hi - lo) - 1) * gamma)``."""
    unit = (x.astype(np.float64) - lo) / (hi - lo)
    return np.arctanh((2.0 * unit - 1.0) * TANH_SCALE).astype(x.dtype)


def from_tanh_space(w: np.ndarray, lo: float, hi: float, t: np.ndarray | None = None) -> np.ndarray:
    """Lines 15-16: the inverse map, ``x = (tanh(w) / gamma + 1) / 2 * (hi - lo) + lo``, clipped to ``[lo, hi]``.

    ``t``: ``tanh(w)`` when the caller has it already.
    """
    x = ((np.tanh(w) if t is None else t) / TANH_SCALE + 1.0) / 2.0 * (hi - lo) + lo
    return np.clip(x, lo, hi).astype(w.dtype, copy=False)


def tanh_space_derivative(w: np.ndarray, lo: float, hi: float, t: np.ndarray | None = None) -> np.ndarray:
    """``dx/dw`` of :func:`from_tanh_space` (the clip ignored: it only trims 1e-6 of the range).

    ``t``: ``tanh(w)`` when the caller has it already.
    """
    if t is None:
        t = np.tanh(w)
    return ((1.0 - t * t) / (2.0 * TANH_SCALE) * (hi - lo)).astype(w.dtype, copy=False)


def margin_loss(z: np.ndarray, y: np.ndarray, targeted: bool, confidence: float):
    """The hinge ``l(x')`` of equations (3) (targeted) and (4) (untargeted), and the rival class.

    Returns ``(loss, rival)`` where ``rival`` is the class with the largest logit other than
    ``y``: targeted, ``loss = max(Z_rival - Z_y + kappa, 0)``; untargeted,
    ``loss = max(Z_y - Z_rival + kappa, 0)``.
    """
    rows = np.arange(z.shape[0])
    z = z.astype(np.float64)
    others = z.copy()
    others[rows, y] = -np.inf
    rival = others.argmax(axis=1)
    gap = others[rows, rival] - z[rows, y]
    loss = np.maximum((gap if targeted else -gap) + confidence, 0.0)
    return loss, rival


def hinge_weights(z: np.ndarray, y: np.ndarray, c: np.ndarray, targeted: bool, confidence: float,
                  with_loss: bool = False):
    """Logit weights whose vector-Jacobian product is the gradient of ``c * l(x')`` (equations 3-4).

    Where the hinge is positive: targeted, ``l = Z_rival - Z_y + kappa`` gives ``+c`` on the
    rival and ``-c`` on the target; untargeted,
    ``l = Z_y - Z_rival + kappa`` gives ``+c`` on the label and ``-c`` on the rival.  Rows whose
    hinge is zero weigh nothing (their hinge gradient is zero).  ``with_loss``: return
    ``(weights, l)``, the hinge of :func:`margin_loss` that the weights came from.
    """
    loss, rival = margin_loss(z, y, targeted, confidence)
    first, second = (rival, y) if targeted else (y, rival)
    coef = np.where(loss > 0, c, 0.0).astype(z.dtype)
    w = np.zeros_like(z)
    rows = np.arange(z.shape[0])
    w[rows, first] = coef
    w[rows, second] = -coef
    return (w, loss) if with_loss else w


def adam_step(w, grad, m, v, t: int, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
    """One Adam update (Kingma & Ba 2015) of ``w`` with moments ``m``, ``v`` at step ``t >= 1``; in place."""
    m *= beta1
    m += (1.0 - beta1) * grad
    v *= beta2
    v += (1.0 - beta2) * grad * grad
    m_hat = m / (1.0 - beta1**t)
    v_hat = v / (1.0 - beta2**t)
    w -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(w.dtype, copy=False)
    return w, m, v
