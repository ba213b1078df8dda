"""Auto-PGD's pieces as plain functions: the checkpoint schedule and the CE/DLR losses.

Croce & Hein, "Reliable evaluation of adversarial robustness with an ensemble of diverse
parameter-free attacks", ICML 2020, §3 (Algorithm 1) and §4 (the DLR loss).
"""

from __future__ import annotations

import math

import numpy as np

from feint.contracts.classifier import log_softmax

__all__ = ["checkpoints", "ce_loss", "dlr_loss", "dlr_gradient_terms"]

_DLR_EPS = 1e-12


def checkpoints(max_iter: int) -> list[int]:
    """Iterations at which Auto-PGD may halve its step: ``w_j = ceil(p_j * max_iter)``.

    ``p_0 = 0``, ``p_1 = 0.22`` and ``p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`` while
    ``p_j <= 1`` (§3.2).  Returns the sorted distinct ``w_j``, ``w_0 = 0`` included.
    """
    p = [0.0, 0.22]
    while True:
        nxt = p[-1] + max(p[-1] - p[-2] - 0.03, 0.06)
        if nxt > 1.0:
            break
        p.append(nxt)
    # round before ceil so that 0.22 * 100 (= 22.000000000000004) gives 22, as the paper means
    return sorted({int(math.ceil(round(pj * max_iter, 9))) for pj in p})


def ce_loss(z: np.ndarray, y: np.ndarray, targeted: bool) -> np.ndarray:
    """Objective to maximise from logits ``z``: CE(z, y), or -CE(z, t) when targeted."""
    ce = -log_softmax(z.astype(np.float64))[np.arange(len(z)), y]
    return -ce if targeted else ce


def _sorted_desc(z: np.ndarray) -> np.ndarray:
    return np.argsort(-z, axis=1, kind="stable")


def dlr_loss(z: np.ndarray, y: np.ndarray, t: np.ndarray | None = None) -> np.ndarray:
    """Difference of Logits Ratio (§4), to maximise.

    Untargeted: ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3)``; targeted (true class ``y``,
    target ``t``): ``-(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2)``, with ``pi`` the classes sorted
    by decreasing logit.  A small constant keeps the denominator positive.
    """
    return dlr_gradient_terms(z, y, t)[0]


def dlr_gradient_terms(z: np.ndarray, y: np.ndarray, t: np.ndarray | None = None):
    """DLR value, and the classes and coefficients of its gradient.

    Returns ``(loss, classes, coef)`` with ``grad loss = sum_j coef[:, j] * grad z_{classes[:, j]}``,
    so only these few logit gradients (3 untargeted, 5 targeted) are ever computed.
    """
    z = z.astype(np.float64)
    n = len(z)
    rows = np.arange(n)
    order = _sorted_desc(z)
    zs = z[rows[:, None], order]
    if t is None:
        other = np.where(np.arange(z.shape[1])[None] == y[:, None], -np.inf, z)
        j = other.argmax(axis=1)
        num = z[rows, y] - z[rows, j]
        den = zs[:, 0] - zs[:, 2] + _DLR_EPS
        loss = -num / den
        # d(-num/den) = -dnum/den + num*dden/den^2 ; pi1 is y or j, so 3 classes suffice
        top_is_y = order[:, 0] == y
        c_y = -1.0 / den + np.where(top_is_y, num / den**2, 0.0)
        c_j = 1.0 / den + np.where(top_is_y, 0.0, num / den**2)
        c_3 = -num / den**2
        classes = np.stack([y, j, order[:, 2]], axis=1)
        coef = np.stack([c_y, c_j, c_3], axis=1)
        return loss, classes.astype(np.int64), coef
    num = z[rows, y] - z[rows, t]
    den = zs[:, 0] - 0.5 * (zs[:, 2] + zs[:, 3]) + _DLR_EPS
    loss = -num / den
    classes = np.stack([y, t, order[:, 0], order[:, 2], order[:, 3]], axis=1)
    coef = np.stack([-1.0 / den, 1.0 / den, num / den**2, -0.5 * num / den**2, -0.5 * num / den**2], axis=1)
    return loss, classes.astype(np.int64), coef
