"""FGSM as plain functions (paper 000 §5.2), testable without the registry."""

from __future__ import annotations

import numpy as np

from feint.norms import normalize


def fgm_direction(classifier, x: np.ndarray, y: np.ndarray, norm, targeted: bool, batch_size: int) -> np.ndarray:
    """Unit-norm step direction: ``-sign/normalised grad L(x, y)`` if targeted, ``+`` otherwise.

    Untargeted: rho(x) = -psi(x, C(x)) increases the loss of the current label.  Targeted:
    psi(x, y) = -eps * sign(grad L(x, y)) decreases the loss of the target class.
    """
    grad = classifier.loss_gradient(x, y, batch_size=batch_size)
    direction = normalize(grad, norm)
    return -direction if targeted else direction


def fgm(classifier, x: np.ndarray, y: np.ndarray, eps, norm, targeted: bool, batch_size: int = 128) -> np.ndarray:
    """One FGM step of size ``eps`` (scalar or per sample), clipped to the classifier's range."""
    d = fgm_direction(classifier, x, y, norm, targeted, batch_size)
    e = np.asarray(eps, dtype=x.dtype).reshape((-1,) + (1,) * (x.ndim - 1))
    out = x + e * d
    cv = classifier.clip_values
    return out if cv is None else np.clip(out, cv[0], cv[1]).astype(x.dtype)
