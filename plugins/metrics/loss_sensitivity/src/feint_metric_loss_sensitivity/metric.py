"""Loss sensitivity (paper 000 §7.2)."""

from __future__ import annotations

import numpy as np

from feint.errors import InvalidParameterError
from feint.labels import to_categorical
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
        Needs ``class_gradient`` (``gradient='logit'``) or ``loss_gradient`` (``'loss'``).  With
        an adapter's own ``output_gradient`` (and no randomised defence) the predicted class and
        its gradient come from one forward and one backward pass; otherwise ``predict`` first.
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
    if gradient == "loss" and y is not None:
        grads = classifier.loss_gradient(x, y, batch_size=batch_size)
    elif classifier.native_output_gradient and not _randomised(classifier):
        # the predicted class and its gradient from one forward pass: weights on the logits that
        # pick Z_c (or the cross-entropy's F - e_c), with c the argmax of that same forward pass
        _, grads = classifier.output_gradient(x, _weights_at_prediction(gradient == "loss"), logits=True,
                                              batch_size=batch_size)
    elif gradient == "logit":
        pred = classifier.predict(x, logits=True, batch_size=batch_size).argmax(axis=1)
        grads = classifier.class_gradient(x, label=pred, logits=True, batch_size=batch_size)[:, 0]
    else:
        labels = classifier.predict(x, batch_size=batch_size).argmax(axis=1)
        grads = classifier.loss_gradient(x, labels, batch_size=batch_size)
    return float(np.mean(lp_norm(grads, 2).astype(np.float64)))


def _randomised(classifier) -> bool:
    """Whether a predict-time defence draws randomly (then the prediction is the mean over draws,
    which one draw's weights would not see, so the two-call form is used)."""
    return any(p.randomised for p in classifier.preprocessors if p.apply_predict)


def _weights_at_prediction(loss: bool):
    """Logit weights whose vector-Jacobian product is ``grad Z_c`` (``loss``: ``grad CE(., c)``),
    ``c`` the argmax of the logits they are given."""
    def weights(z, rows):
        z = z.astype(np.float64)
        pick = to_categorical(z.argmax(axis=1), z.shape[1], dtype=np.float64)
        if not loss:
            return pick
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True) - pick
    return weights
