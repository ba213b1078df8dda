"""The ``FeatureSqueezingDetector`` (Xu et al. 2018) on the ``Detector`` contract (paper 000 §6.7)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from feint import Detector
from feint._params import Integer, NoneOk, Options, Real
from feint.errors import FeintError, InvalidInputError, InvalidParameterError
from feint_defence_featsqueeze import FeatureSqueezing
from feint_defence_spatial_smoothing import SpatialSmoothing

__all__ = ["FeatureSqueezingDetector"]


class FeatureSqueezingDetector(Detector):
    """Feature-squeezing detector: flag inputs whose prediction moves when the input is squeezed.

    The score of an input is the largest L1 distance between the classifier's probability
    vector on the input and on each squeezed version of it (Xu et al. 2018, §4):
    bit-depth reduction to ``bit_depth`` bits (rounded to the nearest level, as Xu et al.) and a
    ``window_size x window_size`` median filter (:class:`SpatialSmoothing`, reflected borders).
    Legitimate inputs barely move; adversarial examples close to a decision boundary usually
    fall back to their original class.  :meth:`fit` sets the threshold from clean inputs so that
    a fraction ``false_positive_rate`` of them (at most) scores above it; the call flags inputs
    scoring strictly above the threshold.

    Cost: ``1 + number of squeezers`` forward passes per input (3 by default).  The detector
    reads the classifier's own predictions, defences included.  An attacker who knows the
    detector can target it (Carlini & Wagner's adaptive attacks); the score is not
    differentiable through the squeezers, so it is a screening device, not a certified one.

    Spec: ``featsqueeze_detector``, ``featsqueeze_detector(bit_depth=4, window_size=3)``; create it
    with the classifier: ``feint.create("defence", "featsqueeze_detector", classifier)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict``; its ``clip_values`` and ``channel_index`` configure the squeezers.
    bit_depth : int or None, default 1
        Bits kept by the bit-depth squeezer (1 to 16), or None to leave it out.  Xu et al. use
        1 bit on MNIST and 4-5 bits on colour images.
    window_size : int or None, default 2
        Median-filter window of the smoothing squeezer, or None to leave it out (Xu et al. use
        2 on MNIST, 2-3 on colour images).
    false_positive_rate : float, default 0.05
        Target fraction of clean inputs flagged, in (0, 1); Xu et al. use 5 %.
    batch_size : int, default 128

    Attributes
    ----------
    threshold : float
        Set by :meth:`fit`.

    References
    ----------
    Xu, Evans & Qi, "Feature squeezing: detecting adversarial examples in deep neural networks",
    NDSS 2018.
    """

    name: ClassVar[str] = "featsqueeze_detector"
    _context_args: ClassVar[tuple[str, ...]] = ("classifier",)
    requires = frozenset({"predict"})
    _parameter_constraints: ClassVar[dict] = {
        "bit_depth": [Integer(1, 16), NoneOk()],
        "window_size": [Integer(2, None), NoneOk()],
        "false_positive_rate": [Real(0, 1, "neither")],
        "batch_size": [Integer(1, None)],
        "rounding": [Options(("nearest", "floor"))],
    }

    def __init__(self, classifier, bit_depth: int | None = 1, window_size: int | None = 2,
                 false_positive_rate: float = 0.05, batch_size: int = 128, rounding: str = "nearest") -> None:
        from feint.contracts.attack import check_capabilities

        self.classifier = classifier
        self.bit_depth = bit_depth
        self.window_size = window_size
        self.false_positive_rate = false_positive_rate
        self.batch_size = batch_size
        self.rounding = rounding
        self._threshold: float | None = None
        check_capabilities(self, classifier)
        self._validate()

    def _check_params(self, params) -> None:
        if params["bit_depth"] is None and params["window_size"] is None:
            raise InvalidParameterError(
                "FeatureSqueezingDetector needs at least one squeezer: bit_depth and window_size are both None.")

    def squeezers(self) -> list:
        """The squeezing preprocessors, configured for the classifier."""
        out = []
        if self.bit_depth is not None:
            out.append(FeatureSqueezing(bit_depth=self.bit_depth, rounding=self.rounding))
        if self.window_size is not None:
            out.append(SpatialSmoothing(window_size=self.window_size))
        return [s.for_classifier(self.classifier) for s in out]

    def scores(self, x) -> np.ndarray:
        """Max over the squeezers of ``||F(x) - F(squeeze(x))||_1``, one float per input (in [0, 2])."""
        x = self.classifier.check_x(x)
        p0 = self.classifier.predict(x, batch_size=self.batch_size).astype(np.float64)
        best = np.zeros(len(x))
        for sq in self.squeezers():
            xs, _ = sq.transform(x, None)
            ps = self.classifier.predict(xs, batch_size=self.batch_size).astype(np.float64)
            best = np.maximum(best, np.abs(p0 - ps).sum(axis=1))
        return best

    def fit(self, x, y=None, **kwargs) -> FeatureSqueezingDetector:
        """Set the threshold from clean inputs ``x`` (``y`` is ignored); returns self.

        The threshold is the smallest score that at most ``floor(false_positive_rate * n)`` of
        the ``n`` clean scores exceed.
        """
        if kwargs:
            raise InvalidParameterError(f"FeatureSqueezingDetector.fit got unexpected arguments {sorted(kwargs)}.")
        s = np.sort(self.scores(x))
        if len(s) == 0:
            raise InvalidInputError("FeatureSqueezingDetector.fit needs at least one clean input. Got none.")
        allowed = int(math.floor(self.false_positive_rate * len(s) + 1e-9))
        self._threshold = float(s[len(s) - allowed - 1])
        return self

    @property
    def threshold(self) -> float:
        if self._threshold is None:
            raise FeintError("FeatureSqueezingDetector is not fitted; call fit(x_clean) first.")
        return self._threshold

    @property
    def is_fitted(self) -> bool:
        return self._threshold is not None
