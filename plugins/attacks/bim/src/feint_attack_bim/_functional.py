"""The BIM iteration as a plain function (paper 000 §5.3), testable without the registry."""

from __future__ import annotations

import numpy as np

from feint.norms import clip, normalize, project


def projected_steps(classifier, x: np.ndarray, x_start: np.ndarray, y: np.ndarray, eps: float, eps_step: float,
                    max_iter: int, norm, targeted: bool, batch_size: int) -> np.ndarray:
    """``max_iter`` FGM steps of size ``eps_step`` from ``x_start``, each projected onto the ball.

    One step: ``x' = clip(x + Pi_eps(x_t + eps_step * d_t - x), x_min, x_max)`` with ``d_t`` the
    unit-norm FGM direction of the loss at ``x_t`` (ascending the loss of ``y`` when untargeted,
    descending it when targeted).  Every step costs one forward and one backward pass.
    """
    step = np.asarray(eps_step, dtype=x.dtype)
    sign = np.asarray(-1 if targeted else 1, dtype=x.dtype)
    x_adv = x_start.copy()
    for _ in range(max_iter):
        grad = classifier.loss_gradient(x_adv, y, batch_size=batch_size)
        x_adv = x_adv + (sign * step) * normalize(grad, norm)
        x_adv = clip(x + project(x_adv - x, eps, norm), classifier.clip_values)
    return x_adv
