"""PGD as plain functions (papers 002 and 003 §2.1), testable without the registry."""

from __future__ import annotations

import numpy as np

from feint.contracts.classifier import log_softmax
from feint.norms import clip, normalize, project, random_ball


def random_start(x: np.ndarray, rng, eps: float, norm, clip_values) -> np.ndarray:
    """``clip(x + u)`` with ``u`` uniform in the ``norm``-ball of radius ``eps``: the dithering of
    paper 003 §2.1, drawn from each sample's own stream of ``rng``."""
    return clip(x + random_ball(rng, x.shape[1:], eps, norm, dtype=x.dtype), clip_values)


def pgd_steps(classifier, x: np.ndarray, x_start: np.ndarray, y: np.ndarray, eps: float, eps_step: float,
              max_iter: int, norm, targeted: bool, batch_size: int) -> np.ndarray:
    """``max_iter`` projected FGM steps from ``x_start`` (one forward and one backward each).

    ``x_{t+1} = clip(x + Pi_eps(x_t + eps_step * d_t - x))`` with ``d_t`` the unit-norm
    steepest-ascent direction of the loss of ``y`` (descent when ``targeted``).
    """
    step = np.asarray(-eps_step if targeted else eps_step, dtype=x.dtype)
    x_adv = x_start.copy()
    for _ in range(max_iter):
        grad = classifier.loss_gradient(x_adv, y, batch_size=batch_size)
        x_adv = x_adv + step * normalize(grad, norm)
        x_adv = clip(x + project(x_adv - x, eps, norm), classifier.clip_values)
    return x_adv


def objective(logits: np.ndarray, y: np.ndarray, targeted: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per sample: goal reached, and the attack's objective (higher is better).

    Untargeted: ``argmax != y`` and the cross-entropy of ``y``; targeted: ``argmax == y`` and the
    negative cross-entropy of the target.
    """
    z = logits.astype(np.float64)
    ce = -log_softmax(z)[np.arange(len(y)), y]
    pred = z.argmax(axis=1)
    return (pred == y, -ce) if targeted else (pred != y, ce)
