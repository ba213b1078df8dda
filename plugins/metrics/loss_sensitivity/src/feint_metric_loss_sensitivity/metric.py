"""Loss sensitivity (paper 000 §7.2)."""

from __future__ import annotations

import numpy as np

from feint.errors import InvalidParameterError
from feint.norms import lp_norm

__all__ = ["loss_sensitivity"]


def loss_sensitivity(classifier, x, gradient: str = "logit", y=None, batch_size: int = 128) -> float:
    """Mean L2 norm of the gradient at the test inputs: an attack-free smoothness measure.

    Paper 000 §7.2: ``LS(C, X) = 1/n sum_i ||grad Z_{C(x_i)}(x_i)||_2``, the gradient of the logit
    of the predicted class.  The smaller, the smoother the model around its data.

    Spec: ``loss_sensitivity``, ``loss_sensitivity(gradient='loss')``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``class_gradient`` (``gradient='logit'``) or ``loss_gradient`` (``'loss'``).
    x : ndarray
        Test inputs.
    gradient : {"logit", "loss"}, default "logit"
        ``"logit"`` follows the paper's formula.  ``"loss"`` uses the gradient of the
        cross-entropy loss instead, which is what ART 0.2.2's code computed despite the formula
        (and what the metric's name suggests); the two differ, so the choice is a parameter.
    y : ndarray, optional
        Labels for ``gradient='loss'``; the classifier's predictions by default.
    batch_size : int, default 128
    """
    if gradient not in ("logit", "loss"):
        raise InvalidParameterError(
            f"The 'gradient' parameter of loss_sensitivity must be 'logit' or 'loss'. Got {gradient!r} instead.")
    x = classifier.check_x(x)
    if gradient == "logit":
        pred = classifier.predict(x, logits=True, batch_size=batch_size).argmax(axis=1)
        grads = classifier.class_gradient(x, label=pred, logits=True, batch_size=batch_size)[:, 0]
    else:
        labels = classifier.predict(x, batch_size=batch_size).argmax(axis=1) if y is None else y
        grads = classifier.loss_gradient(x, labels, batch_size=batch_size)
    return float(np.mean(lp_norm(grads, 2).astype(np.float64)))
