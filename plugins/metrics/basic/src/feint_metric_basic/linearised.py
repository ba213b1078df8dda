"""The linearised robustness rho_2 of Balda et al. (paper 003 §2.1, "Robustness metrics")."""

from __future__ import annotations

import warnings

import numpy as np

from feint.norms import dual, lp_norm, parse_norm

__all__ = ["rho2"]


def rho2(classifier, x, norm=2, logits: bool = True, relative: bool = False, batch_size: int = 128) -> float:
    """Mean distance to the linearised decision boundary: ``mean L_f(x, 0) / ||grad L_f(x, 0)||_q``.

    Paper 003 §2.1: ``L_f(x, eta) = f_{k(x)}(x + eta) - max_{l != k(x)} f_l(x + eta)`` is the margin
    of the predicted class over the runner-up; by Theorem 1 no Lp perturbation smaller than
    ``L_f / ||grad L_f||_q`` (q the dual of p) fools the first-order model of f, so
    ``rho_2 = 1/|D| sum_x L_f(x, 0) / ||grad_eta L_f(x, 0)||_q``.  The lower, the easier to fool.
    The gradient is that of ``f_k - f_l`` with l the runner-up at x (the max is differentiable
    there when the runner-up is unique).

    Spec: ``rho2``, ``rho2(norm=inf)``, ``rho2(relative=True)``.

    Parameters
    ----------
    norm : {1, 2, inf}, default 2
        The perturbation norm p.
    logits : bool, default True
        Score functions f: the logits (default) or the class probabilities.  The paper defines f
        as probabilities; on logits the ratio is DeepFool's first-step distance and does not
        shrink by softmax saturation, so logits are the default.
    relative : bool, default False
        Divide each ratio by ``||x||_p``, which makes it comparable with rho_1 (the empirical
        robustness of a minimal attack), as in the table the paper quotes.

    Inputs whose margin gradient is zero are left out with a warning (the ratio is infinite).
    """
    p = parse_norm(norm)
    x = classifier.check_x(x)
    scores = classifier.predict(x, logits=logits, batch_size=batch_size).astype(np.float64)
    order = np.argsort(scores, axis=1)
    top, runner = order[:, -1], order[:, -2]
    rows = np.arange(len(x))
    margin = scores[rows, top] - scores[rows, runner]
    grads = classifier.class_gradient(x, label=np.stack([top, runner], axis=1), logits=logits,
                                      batch_size=batch_size)
    size = lp_norm(grads[:, 0] - grads[:, 1], dual(p)).astype(np.float64)
    keep = size > 0
    if not keep.all():
        warnings.warn(f"rho2: {int((~keep).sum())} input(s) have a zero margin gradient and were left out.",
                      RuntimeWarning, stacklevel=2)
    ratio = margin[keep] / size[keep]
    if relative:
        ratio = ratio / np.maximum(lp_norm(x[keep], p).astype(np.float64), 1e-30)
    return float(np.mean(ratio)) if ratio.size else float("nan")
