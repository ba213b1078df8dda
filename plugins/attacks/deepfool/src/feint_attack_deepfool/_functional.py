"""The DeepFool step (paper 000 Algorithm 4, equations 5-6) as plain functions."""

from __future__ import annotations

import numpy as np

_TINY = 1e-20


def candidate_classes(logits: np.ndarray, y: np.ndarray, nb_grads: int) -> np.ndarray:
    """Per sample, ``y`` followed by the ``nb_grads - 1`` other classes of highest logit.

    Returns an ``(n, min(nb_grads, K))`` integer array whose first column is ``y``.
    """
    n, k = logits.shape
    m = min(int(nb_grads), k)
    z = logits.astype(np.float64).copy()
    z[np.arange(n), y] = np.inf                     # y first, then by decreasing logit
    order = np.argsort(-z, axis=1, kind="stable")
    return order[:, :m].astype(np.int64)


def deepfool_step(logits: np.ndarray, grads: np.ndarray, cand: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """The step of equation (6) towards the nearest linearised boundary (equation 5).

    Parameters
    ----------
    logits : (n, K) logits ``Z`` at the current point.
    grads : (n, m, *shape) gradients of ``Z_k`` for the classes ``cand`` (column 0 is the label).
    cand : (n, m) candidate classes, column 0 the label ``C(x)``.
    margin : float, default 0
        Length added to the step along its direction (Moosavi-Dezfooli et al.'s code adds 1e-4).

    Returns
    -------
    (n, *shape) step ``(|f_l| / ||w_l|| + margin) * w_l / ||w_l||`` with ``w_k = grad Z_k - grad Z_y``,
    ``f_k = Z_k - Z_y`` and ``l`` the candidate with the smallest ``|f_k| / ||w_k||``; with
    ``margin=0`` exactly equation 6, ``|f_l| / ||w_l||^2 * w_l``.
    """
    n = len(cand)
    rows = np.arange(n)
    z = np.take_along_axis(logits, cand, axis=1)
    f = (z[:, 1:] - z[:, :1]).astype(np.float64)                   # (n, m-1)
    w = grads[:, 1:] - grads[:, :1]                                # (n, m-1, *shape)
    wn = np.sqrt((w.reshape(n, w.shape[1], -1).astype(np.float64) ** 2).sum(axis=2))
    dist = np.abs(f) / np.maximum(wn, np.sqrt(_TINY))
    best = dist.argmin(axis=1)                                     # equation (5)
    norm = np.maximum(wn[rows, best], np.sqrt(_TINY))
    scale = (dist[rows, best] + float(margin)) / norm              # = |f| / ||w||^2 when margin = 0
    w_l = w[rows, best]
    return (scale.reshape((-1,) + (1,) * (w_l.ndim - 1)) * w_l).astype(grads.dtype)
