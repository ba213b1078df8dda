"""The ``Detector`` contract (paper 000 §6.7): flags inputs as adversarial."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.contracts.component import Component

__all__ = ["Detector"]


class Detector(Component):
    """Base class of runtime detectors of adversarial inputs.

    Subclasses implement :meth:`fit` (where they learn anything) and :meth:`scores`; the call
    returns ``scores(x) > threshold`` as one boolean per sample (True = adversarial).
    """

    kind = "defence"

    def fit(self, x, y=None, **kwargs: Any) -> Detector:
        """Fit the detector (the threshold, or a model) on data; returns self."""
        raise NotImplementedError

    def scores(self, x) -> np.ndarray:
        """A per-sample score; larger means more likely adversarial."""
        raise NotImplementedError

    @property
    def threshold(self) -> float:
        raise NotImplementedError

    def __call__(self, x) -> np.ndarray:
        """Binary decisions, one per input: True where the input is flagged as adversarial."""
        if not self.is_fitted:
            from feint.errors import FeintError

            raise FeintError(f"{type(self).__name__} is not fitted; call fit(x_clean, ...) first.")
        return np.asarray(self.scores(x)) > self.threshold

    detect = __call__

    @property
    def is_fitted(self) -> bool:
        return True
