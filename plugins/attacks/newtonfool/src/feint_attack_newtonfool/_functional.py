"""The NewtonFool step (paper 000 Algorithm 6, equation 7) as a plain function."""

from __future__ import annotations

import numpy as np

_TINY = 1e-20


def newtonfool_step(prob_y: np.ndarray, grad_y: np.ndarray, x_norm: np.ndarray, eta: float,
                    nb_classes: int) -> np.ndarray:
    """``d = -delta * grad F_y / ||grad F_y||^2`` with ``delta = min(eta ||x|| ||grad F_y||, F_y - 1/K)``.

    Parameters
    ----------
    prob_y : (n,) probability ``F_y`` of the label at the current point.
    grad_y : (n, *shape) its gradient.
    x_norm : (n,) L2 norm of the original inputs.
    eta : strength ``eta``.
    nb_classes : ``K``.
    """
    n = len(prob_y)
    g = grad_y.reshape(n, -1)
    g64 = g.astype(np.float64)                  # (a softmax gradient's square can underflow float32)
    gn2 = _rowdot(g64, g64)
    delta = np.minimum(eta * x_norm.astype(np.float64) * np.sqrt(gn2),
                       prob_y.astype(np.float64) - 1.0 / nb_classes)           # equation (7)
    coef = (delta / np.maximum(gn2, _TINY)).astype(grad_y.dtype)            # per sample, then one product
    np.negative(coef, out=coef)
    return (g * coef[:, None]).reshape(grad_y.shape)


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row, ``sum_i a_i b_i``: one ``np.vecdot`` call (numpy >= 2) instead of a product and a sum."""
    return _vecdot(a, b) if _vecdot is not None else np.einsum("ij,ij->i", a, b)


_vecdot = getattr(np, "vecdot", None)
