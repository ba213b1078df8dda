"""The ``LabelSmoothing`` preprocessor (paper 000 §6.4)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Preprocessor
from feint._params import Real
from feint.errors import InvalidInputError

__all__ = ["LabelSmoothing", "smooth_labels"]


def smooth_labels(y: np.ndarray, max_value: float) -> np.ndarray:
    """Map label rows ``y`` (n, K) to ``min + (max_value - min) * y`` with ``min = (1 - max_value) / (K - 1)``.

    A one-hot row becomes ``max_value`` at its class and ``(1 - max_value) / (K - 1)``
    elsewhere (the paper's formula); any probability row keeps summing to 1.
    """
    k = y.shape[1]
    lo = (1.0 - max_value) / (k - 1)
    out_dtype = y.dtype if np.issubdtype(y.dtype, np.floating) else np.dtype(np.float32)
    return (lo + (max_value - lo) * y.astype(np.float64)).astype(out_dtype)


class LabelSmoothing(Preprocessor):
    """Label smoothing: train on ``y_max`` for the true class and ``(1 - y_max)/(K - 1)`` elsewhere.

    Applied at fit time only; inputs pass through unchanged.  Labels must be rows of class
    probabilities of shape ``(n, K)`` (one-hot, as the paper expects; a classifier's ``fit``
    converts integer labels to one-hot before its defences run).  One-hot rows get exactly the
    paper's values; other probability rows get the same affine map ``min + (y_max - min) y``,
    which is the only one that agrees with the paper on one-hot rows and keeps rows summing to
    1 (ART 0.2.2 instead replaced the entries equal to 1 and 0, leaving soft rows unnormalised).

    Gradient rule: exact.  The map leaves inputs untouched, so the gradient with respect to x is
    the identity (and a classifier never applies it at predict time anyway).

    Spec: ``label_smoothing``, ``labsmooth``, ``label_smooth``, ``labsmooth(max_value=0.8)``.

    Parameters
    ----------
    max_value : float, default 0.9
        ``y_max`` in [0, 1].

    References
    ----------
    Szegedy et al., "Rethinking the Inception architecture for computer vision", CVPR 2016.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.4.
    """

    name: ClassVar[str] = "label_smoothing"
    apply_fit = True
    apply_predict = False
    modifies_labels = True
    gradient_rule = "exact"
    _parameter_constraints: ClassVar[dict] = {"max_value": [Real(0, 1)]}

    def __init__(self, max_value: float = 0.9) -> None:
        self.max_value = max_value
        self._validate()

    def transform(self, x, y=None):
        if y is None:
            return x, None
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] < 2 or not (np.issubdtype(y.dtype, np.floating)
                                                or np.issubdtype(y.dtype, np.integer)
                                                or y.dtype == bool):
            raise InvalidInputError(
                "LabelSmoothing expects one-hot labels of shape (n, K) with K >= 2. "
                f"Got an array of shape {y.shape} and dtype {y.dtype} instead; convert class indices "
                "with feint.labels.to_categorical.")
        if y.size:
            yf = y.astype(np.float64)
            if yf.min() < -1e-6 or yf.max() > 1 + 1e-6 or not np.allclose(yf.sum(axis=1), 1.0, atol=1e-4):
                raise InvalidInputError(
                    "LabelSmoothing expects label rows that are one-hot (or probability vectors summing "
                    f"to 1). Got values in [{yf.min():.4g}, {yf.max():.4g}] with row sums in "
                    f"[{yf.sum(axis=1).min():.4g}, {yf.sum(axis=1).max():.4g}] instead.")
        return x, smooth_labels(y, float(self.max_value))

    def estimate_gradient(self, x, grad):
        """The identity: inputs pass through unchanged (exact)."""
        return grad
