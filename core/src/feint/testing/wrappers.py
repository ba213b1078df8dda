"""Classifier wrappers for testing what an attack may use."""

from __future__ import annotations

import copy

from feint.contracts.classifier import Classifier

__all__ = ["PredictOnly", "without_native_output_gradient"]


def without_native_output_gradient(clf: Classifier) -> Classifier:
    """A shallow copy of ``clf`` (same model, same counters) whose ``output_gradient`` is the fallback.

    The copy's class derives from ``type(clf)`` with the base class's ``_output_gradient``
    (``predict`` + ``class_gradient``), as for an adapter that does not implement it, so that an
    attack's two paths can be compared on one model.
    """
    cls = type(clf)
    fallback = type(f"{cls.__name__}WithoutNativeOutputGradient", (cls,),
                    {"_output_gradient": Classifier._output_gradient, "__module__": __name__})
    clone = copy.copy(clf)
    clone.__class__ = fallback
    return clone


class PredictOnly(Classifier):
    """Wrap a classifier so that it answers ``predict`` and nothing else.

    ``provides`` is ``{"predict"}`` and every gradient method raises ``AssertionError``: a
    decision- or score-based attack (HopSkipJump, ZOO, a substitute's oracle) must work through it,
    and a test fails loudly if the attack reaches for a gradient.
    """

    name = "predict_only"
    provides = frozenset({"predict"})

    def __init__(self, inner: Classifier) -> None:
        super().__init__(inner.clip_values, inner.channel_index, input_shape=inner.input_shape,
                         nb_classes=inner.nb_classes, dtype=inner.dtype)
        self.inner = inner

    def _predict(self, x, logits):
        return self.inner._predict(x, logits)

    def _no_gradient(self, *args, **kwargs):
        raise AssertionError(f"a gradient of {type(self.inner).__name__} was used through PredictOnly")

    class_gradient = loss_gradient = _class_gradient = _loss_gradient = _no_gradient
    train_on_batch = fit = _no_gradient
