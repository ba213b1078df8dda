"""The Shadow attack's perceptual penalties, with their analytic gradients (numpy).

Ghiasi, Shafahi & Goldstein, "Breaking certified defenses: semantic adversarial examples with
spoofed robustness certificates", ICLR 2020, §4.  Perturbations are ``(n, C, H, W)`` arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["colour_penalty", "dissimilarity_penalty", "total_variation"]

_TINY = 1e-12


def total_variation(delta: np.ndarray):
    """Squared anisotropic total variation per sample and its gradient.

    ``TV(d) = sum (d[.., i, j+1] - d[.., i, j])^2 + sum (d[.., i+1, j] - d[.., i, j])^2`` over
    every channel: small when the perturbation is smooth.
    """
    dx = delta[..., :, 1:] - delta[..., :, :-1]
    dy = delta[..., 1:, :] - delta[..., :-1, :]
    value = (dx**2).sum(axis=(1, 2, 3)) + (dy**2).sum(axis=(1, 2, 3))
    grad = np.zeros_like(delta)
    grad[..., :, 1:] += 2 * dx
    grad[..., :, :-1] -= 2 * dx
    grad[..., 1:, :] += 2 * dy
    grad[..., :-1, :] -= 2 * dy
    return value, grad


def colour_penalty(delta: np.ndarray):
    """``C(d) = || (mean |d_c|)_c ||_2^2``: the change of each channel's mean, squared, and its gradient.

    Small when no colour channel is shifted as a whole (the penalty on the global colour change).
    """
    hw = delta.shape[2] * delta.shape[3]
    means = np.abs(delta).mean(axis=(2, 3))                       # (n, C)
    value = (means**2).sum(axis=1)
    grad = 2 * means[:, :, None, None] * np.sign(delta) / hw
    return value, grad


def dissimilarity_penalty(delta: np.ndarray):
    """``Dissim(d) = sum_{a < b} ||d_a - d_b||_2`` over channel pairs, and its gradient.

    Zero when every channel carries the same perturbation (the image gets lighter or darker
    without a change of hue); zero for single-channel images.
    """
    n, c = delta.shape[:2]
    value = np.zeros(n, dtype=np.float64)
    grad = np.zeros_like(delta)
    for a in range(c):
        for b in range(a + 1, c):
            diff = delta[:, a] - delta[:, b]
            norm = np.sqrt((diff.astype(np.float64) ** 2).sum(axis=(1, 2)))
            value += norm
            unit = diff / np.maximum(norm, _TINY)[:, None, None].astype(delta.dtype)
            grad[:, a] += unit
            grad[:, b] -= unit
    return value.astype(delta.dtype), grad
