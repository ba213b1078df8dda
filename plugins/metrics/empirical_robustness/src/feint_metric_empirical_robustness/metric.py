"""Empirical robustness (paper 000 §7.1), with any registered attack."""

from __future__ import annotations

import math
import warnings

import numpy as np

from feint.errors import InvalidParameterError
from feint.norms import lp_norm, parse_norm

__all__ = ["attack_norm", "empirical_robustness"]


def attack_norm(attack) -> float:
    """The norm p an attack works in: its ``norm`` parameter when it has one, else 2 (§7.1)."""
    name = getattr(attack, "norm_param", None)
    value = getattr(attack, name, None) if name else None
    return 2.0 if value is None else parse_norm(value)


def empirical_robustness(classifier, x, attack_name: str = "fgsm", attack_params: dict | None = None):
    """Mean relative size ``||rho(x) - x||_p / ||x||_p`` of the successful adversarial examples.

    Paper 000 §7.1 (the minimal-perturbation robustness of DeepFool's authors):
    ``ER = 1/|I| sum_{i in I} ||rho(x_i) - x_i||_p / ||x_i||_p``, with ``I`` the inputs whose
    predicted class the attack changed.  ``p`` is the attack's ``norm`` parameter when it has one,
    else 2.

    Spec: ``empirical_robustness(attack_name='fgsm', attack_params={'minimal': True, 'eps_step': 0.01})``,
    ``empirical_robustness(attack_name='deepfool')``.

    Parameters
    ----------
    classifier : Classifier
    x : ndarray
        Test inputs.
    attack_name : str, default "fgsm"
        Any registered attack, as a spec string (``'fgsm(eps=0.1)'``, ``'pgd'``); the paper
        allowed only ``'fgsm'``.  Use a minimal-perturbation attack (``fgsm`` with
        ``minimal=True``, ``deepfool``, ``carlini_l2``) for the quantity the paper means; a
        fixed-budget attack measures its budget.
    attack_params : dict, optional
        Parameters that override the spec's.

    Returns
    -------
    float
        The empirical robustness, or ``nan`` (with a warning) when the attack succeeds on no
        input: the average over an empty set is undefined (ART 0.2.2 returned 0, which reads as
        "no robustness at all").  Inputs with ``||x||_p = 0`` are left out, with a warning.
    """
    import feint

    if attack_params is not None and not isinstance(attack_params, dict):
        raise InvalidParameterError(
            f"The 'attack_params' parameter of empirical_robustness must be a dict or None. Got {attack_params!r} instead.")
    attack = feint.create("attack", attack_name, classifier, **(attack_params or {}))
    x = classifier.check_x(x)
    pred = classifier.predict(x).argmax(axis=1)
    x_adv = attack.generate(x)
    changed = classifier.predict(x_adv).argmax(axis=1) != pred
    p = attack_norm(attack)
    size = lp_norm(x_adv - x, p).astype(np.float64)
    scale = lp_norm(x, p).astype(np.float64)
    zero = changed & (scale == 0)
    if zero.any():
        warnings.warn(f"empirical_robustness: {int(zero.sum())} successful input(s) have ||x||_{p:g} = 0 and "
                      "were left out (the ratio is undefined).", RuntimeWarning, stacklevel=2)
    keep = changed & (scale > 0)
    if not keep.any():
        warnings.warn(f"empirical_robustness: {attack} changed the prediction of none of the {len(x)} inputs; "
                      "the empirical robustness is undefined (nan).", RuntimeWarning, stacklevel=2)
        return math.nan
    return float(np.mean(size[keep] / scale[keep]))
