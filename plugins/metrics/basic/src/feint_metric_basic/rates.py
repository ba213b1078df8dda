"""Success rate and robust accuracy of adversarial examples (paper 004 §3 conventions)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from feint.errors import InvalidInputError, InvalidParameterError
from feint.labels import to_indices

__all__ = ["robust_accuracy", "success_rate"]


def _pair(classifier, x, x_adv):
    x = classifier.check_x(x)
    x_adv = classifier.check_x(x_adv, name="x_adv")
    if x_adv.shape != x.shape:
        raise InvalidInputError(f"x_adv must have the shape of x {x.shape}. Got {x_adv.shape} instead.")
    return x, x_adv


def success_rate(classifier, x, x_adv, y=None, targets=None, correct_only: bool = True,
                 batch_size: int = 128) -> float:
    """Fraction of adversarial examples that reach the attack's goal.

    Untargeted, an example succeeds when the classifier's prediction differs from the label;
    targeted (``targets`` given), when it equals the target.  Following paper 004 §3, only the
    inputs the classifier classifies correctly count (``correct_only=True``): an input that is
    already misclassified is not an attack's success.

    Spec: ``success_rate`` (called with ``x_adv=`` and optionally ``y=``, ``targets=``).

    Parameters
    ----------
    x, x_adv : ndarray
        Clean inputs and their adversarial examples.
    y : ndarray, optional
        True labels (int or one-hot); the clean predictions by default (then every input is
        "correct").
    targets : ndarray, optional
        Target classes of a targeted attack.
    correct_only : bool, default True

    Returns
    -------
    float
        The rate, or ``nan`` (with a warning) when no input is eligible.
    """
    x, x_adv = _pair(classifier, x, x_adv)
    n, k = x.shape[0], classifier.nb_classes
    clean = classifier.predict(x, batch_size=batch_size).argmax(axis=1)
    labels = clean if y is None else to_indices(y, n, k)
    adv = classifier.predict(x_adv, batch_size=batch_size).argmax(axis=1)
    if targets is not None:
        hit = adv == to_indices(targets, n, k, name="targets")
    else:
        hit = adv != labels
    eligible = clean == labels if correct_only else np.ones(n, dtype=bool)
    if not eligible.any():
        warnings.warn("success_rate: no input is classified correctly, so no attack can succeed on one; "
                      "returning nan.", RuntimeWarning, stacklevel=2)
        return math.nan
    return float(hit[eligible].mean())


def robust_accuracy(classifier, x, y, attack=None, attack_params: dict | None = None, x_adv=None,
                    batch_size: int = 128) -> float:
    """Accuracy of the classifier on adversarial examples of ``x`` (labels ``y``).

    Give either ``x_adv`` or an attack (a spec string such as ``'pgd(eps=0.1)'``, a class or an
    instance), which is run untargeted against ``y``.  Inputs the classifier already gets wrong
    count as errors whatever the attack does, so this is at most the clean accuracy.

    Spec: ``robust_accuracy(attack='pgd(eps=0.1)')``.
    """
    import feint

    if (attack is None) == (x_adv is None):
        raise InvalidParameterError("robust_accuracy needs exactly one of attack= (a spec) or x_adv= (examples). "
                                    f"Got attack={attack!r}, x_adv={'given' if x_adv is not None else None}.")
    x = classifier.check_x(x)
    labels = to_indices(y, x.shape[0], classifier.nb_classes)
    if x_adv is None:
        atk = feint.create("attack", attack, classifier, **(attack_params or {}))
        x_adv = atk.generate(x, labels)
    else:
        x, x_adv = _pair(classifier, x, x_adv)
    adv = classifier.predict(x_adv, batch_size=batch_size).argmax(axis=1)
    clean_ok = classifier.predict(x, batch_size=batch_size).argmax(axis=1) == labels
    return float(np.mean(clean_ok & (adv == labels)))
