"""The ``BinaryInputDetector`` on the ``Detector`` contract (paper 000 §6.7)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Detector
from feint._params import Integer
from feint.errors import InvalidInputError, InvalidParameterError

__all__ = ["BinaryInputDetector"]


class BinaryInputDetector(Detector):
    """Binary input detector: a two-class classifier that tells adversarial inputs from clean ones.

    The detector network is any feint classifier (any framework adapter) with
    ``nb_classes=2``: class 0 is clean, class 1 adversarial.  :meth:`fit` trains it through its
    own ``fit`` on labelled inputs; the score of an input is the probability of class 1 and the
    call flags scores above 0.5 (the network's argmax).

    Spec: ``binary_input_detector``; create it with the detector network:
    ``feint.create("defence", "binary_input_detector", detector_classifier)``.

    Parameters
    ----------
    classifier : Classifier
        The detector network: two classes, needs ``predict`` and ``fit``.
    batch_size : int, default 128
        Batch size of predictions and training.

    Notes
    -----
    A detector network that is already trained can be marked as such with
    ``fit(x, y, nb_epochs=0)``.  Like every detector trained on one attack, it may not
    recognise another attack's examples, and an attacker who targets the detector too can
    evade it (Carlini & Wagner, "Adversarial examples are not easily detected", 2017).

    References
    ----------
    Metzen, Genewein, Fischer & Bischoff, "On detecting adversarial perturbations", ICLR 2017.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.7.
    """

    name: ClassVar[str] = "binary_input_detector"
    _context_args: ClassVar[tuple[str, ...]] = ("classifier",)
    requires = frozenset({"predict", "fit"})
    _parameter_constraints: ClassVar[dict] = {"batch_size": [Integer(1, None)]}

    def __init__(self, classifier, batch_size: int = 128) -> None:
        from feint.contracts.attack import check_capabilities

        self.classifier = classifier
        self.batch_size = batch_size
        self._fitted = False
        check_capabilities(self, classifier)
        if getattr(classifier, "nb_classes", None) != 2:
            raise InvalidParameterError(
                "The detector classifier of BinaryInputDetector must have nb_classes=2 (clean, adversarial). "
                f"Got nb_classes={getattr(classifier, 'nb_classes', None)!r} instead.")
        self._validate()

    @staticmethod
    def _binary_labels(y, n: int) -> np.ndarray:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape == (n, 2):
            y = y.argmax(axis=1)
        if y.ndim != 1 or len(y) != n:
            raise InvalidInputError(
                f"BinaryInputDetector.fit needs one label per input ({n}): 0/False for clean, 1/True for "
                f"adversarial, or one-hot rows of width 2. Got an array of shape {y.shape} instead.")
        if y.dtype != bool and not np.isin(y, (0, 1)).all():
            raise InvalidInputError(
                "BinaryInputDetector labels must be 0 (clean) or 1 (adversarial). "
                f"Got values {np.unique(y)[:5]} instead.")
        return y.astype(np.int64)

    def fit(self, x, y=None, *, x_adv=None, batch_size: int | None = None, nb_epochs: int = 20,
            **kwargs) -> BinaryInputDetector:
        """Train the detector network; returns self.

        Either ``fit(x, y)`` with labels 0 (clean) / 1 (adversarial) per input, as ART, or
        ``fit(x_clean, x_adv=x_adversarial)``.  Other keyword arguments go to the network's
        ``fit`` (``random_state``, ...).
        """
        x = np.asarray(x)
        if x_adv is not None:
            if y is not None:
                raise InvalidParameterError("BinaryInputDetector.fit takes either y or x_adv, not both.")
            x_adv = np.asarray(x_adv)
            y = np.concatenate([np.zeros(len(x), np.int64), np.ones(len(x_adv), np.int64)])
            x = np.concatenate([x, x_adv.astype(x.dtype, copy=False)])
        elif y is None:
            raise InvalidParameterError(
                "BinaryInputDetector.fit needs labels y (0 clean, 1 adversarial) or x_adv (adversarial inputs).")
        labels = self._binary_labels(y, len(x))
        self.classifier.fit(x, labels, batch_size=batch_size or self.batch_size, nb_epochs=nb_epochs, **kwargs)
        self._fitted = True
        return self

    def scores(self, x) -> np.ndarray:
        """Probability of the adversarial class, one float per input."""
        return self.classifier.predict(x, batch_size=self.batch_size)[:, 1].astype(np.float64)

    @property
    def threshold(self) -> float:
        return 0.5

    @property
    def is_fitted(self) -> bool:
        return self._fitted
