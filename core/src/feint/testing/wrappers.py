"""Classifier wrappers for testing what an attack may use."""

from __future__ import annotations

from feint.contracts.classifier import Classifier

__all__ = ["PredictOnly"]


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
