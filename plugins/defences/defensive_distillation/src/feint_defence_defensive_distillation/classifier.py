"""The distilled network deployed at temperature 1: a student whose logits are multiplied by T."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from feint.contracts.classifier import Classifier, softmax
from feint.errors import InvalidParameterError

__all__ = ["DistilledClassifier"]


class DistilledClassifier(Classifier):
    """A student network trained at temperature ``T`` and deployed at temperature 1: logits ``T * Z(x)``.

    Training a network at temperature ``T`` (softmax of ``logits / T``) and training it at
    temperature 1 are the same problem up to a scaling of the logits (the last layer is linear):
    the network trained at ``T`` is the one trained at 1 with its logits multiplied by ``T``.  So
    a student trained with the ordinary cross-entropy of any adapter on the teacher's soft labels
    becomes Papernot et al.'s distilled network once its logits are scaled by ``T``; this class
    does the scaling around any feint classifier, whatever its framework.

    Predictions are ``softmax(T * Z(x))`` and gradients follow the chain rule exactly, computed in
    the classifier's dtype as a framework would: at large ``T`` the softmax saturates and the
    gradients of the probabilities and of the loss vanish (they are exactly zero in float32 once
    every other logit trails by more than about 104 / T).  That vanishing is the defence's effect
    on gradient attacks, and its weakness: attacks on the logits or on the student itself are not
    affected (Carlini & Wagner 2016).  The argmax, hence the accuracy, is the student's.

    The probability and loss gradients need the logit gradients of the classes involved: all K for
    ``class_gradient(logits=False)``, and for ``loss_gradient`` only the classes whose coefficient
    ``T * (p_k - t_k)`` is not zero (none for a saturated, correctly labelled sample).

    Parameters
    ----------
    student : Classifier
        The trained student (any adapter); its own defences apply inside its calls.
    temperature : float
        ``T`` > 0.
    defences : str, list or Preprocessor, optional
        Extra preprocessing defences applied around the distilled network.

    References
    ----------
    Papernot, McDaniel, Wu, Jha & Swami, "Distillation as a defense to adversarial perturbations
    against deep neural networks", IEEE S&P 2016.
    Carlini & Wagner, "Defensive distillation is not robust to adversarial examples", 2016.
    """

    name: ClassVar[str] = "distilled"

    def __init__(self, student, temperature: float, defences=None) -> None:
        if not isinstance(student, Classifier):
            raise InvalidParameterError(
                f"The 'student' parameter of DistilledClassifier must be a feint Classifier. "
                f"Got {type(student).__name__} instead.")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.number)) \
                or not np.isfinite(temperature) or temperature <= 0:
            raise InvalidParameterError(
                f"The 'temperature' parameter of DistilledClassifier must be a float > 0. Got {temperature!r} instead.")
        super().__init__(student.clip_values, student.channel_index, defences, input_shape=student.input_shape,
                         nb_classes=student.nb_classes, dtype=student.dtype)
        self.student = student
        self.temperature = float(temperature)
        grads = {"class_gradient", "loss_gradient"} if "class_gradient" in student.provides else set()
        self.provides = frozenset({"predict"} | grads)

    def _logits(self, x: np.ndarray) -> np.ndarray:
        z = self.student.predict(x, logits=True, batch_size=max(len(x), 1))
        return (z * np.asarray(self.temperature, dtype=self.np_dtype)).astype(self.np_dtype, copy=False)

    def _predict(self, x, logits):
        z = self._logits(x)
        return z if logits else softmax(z)

    def _class_gradient(self, x, labels, logits):
        t = np.asarray(self.temperature, dtype=self.np_dtype)
        if logits:
            return t * self.student.class_gradient(x, labels, logits=True, batch_size=max(len(x), 1))
        grads = self.student.class_gradient(x, None, logits=True, batch_size=max(len(x), 1))   # (n, K, ...)
        p = softmax(self._logits(x))
        flat = grads.reshape(grads.shape[0], grads.shape[1], -1)
        mean = np.einsum("nk,nkd->nd", p, flat)
        rows = np.arange(len(x))[:, None]
        sel = t * p[rows, labels][..., None] * (flat[rows, labels] - mean[:, None, :])
        return sel.reshape(labels.shape + x.shape[1:]).astype(self.np_dtype, copy=False)

    def _loss_gradient(self, x, targets):
        p = softmax(self._logits(x))
        coef = np.asarray(self.temperature, dtype=self.np_dtype) * (p * targets.sum(axis=1, keepdims=True) - targets)
        active = coef != 0
        m = int(active.sum(axis=1).max(initial=0))
        if m == 0:                                  # saturated everywhere: the gradient is exactly zero
            return np.zeros_like(x)
        order = np.argsort(~active, axis=1, kind="stable")[:, :m]   # the active classes first
        weights = np.take_along_axis(coef, order, axis=1) * np.take_along_axis(active, order, axis=1)
        grads = self.student.class_gradient(x, order, logits=True, batch_size=max(len(x), 1))  # (n, m, ...)
        out = np.einsum("nm,nmd->nd", weights, grads.reshape(len(x), m, -1))
        return out.reshape(x.shape).astype(self.np_dtype, copy=False)

    def spec(self) -> str:
        return f"distilled(temperature={self.temperature!r}, student={self.student.spec()!r})"

    def get_params(self) -> dict[str, Any]:
        return {"student": self.student, "temperature": self.temperature, "defences": self.defences}
