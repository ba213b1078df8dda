"""Statistics of perturbation sizes ``x_adv - x`` in L0, L1, L2 and Linf."""

from __future__ import annotations

import math

import numpy as np

from feint.errors import InvalidInputError, InvalidParameterError
from feint.norms import all_norms

__all__ = ["perturbation_norm", "perturbation_norm_stats"]

_NORMS = {0: "l0", 1: "l1", 2: "l2", math.inf: "linf"}
_STATS = {"mean": np.mean, "median": np.median, "min": np.min, "max": np.max, "std": np.std}


def _norm_key(norm) -> str:
    if isinstance(norm, str) and norm.lower() in ("l0", "l1", "l2", "linf", "inf"):
        return "linf" if norm.lower() == "inf" else norm.lower()
    if isinstance(norm, (int, float)) and not isinstance(norm, bool) and norm in _NORMS:
        return _NORMS[norm]
    raise InvalidParameterError(f"The 'norm' parameter must be one of 0, 1, 2, inf. Got {norm!r} instead.")


def _selected(classifier, x, x_adv, successful_only, y, atol):
    x = classifier.check_x(x)
    x_adv = classifier.check_x(x_adv, name="x_adv")
    if x_adv.shape != x.shape:
        raise InvalidInputError(f"x_adv must have the shape of x {x.shape}. Got {x_adv.shape} instead.")
    norms = all_norms(x_adv - x, atol=atol)
    mask = np.ones(len(x), dtype=bool)
    if successful_only:
        from feint.labels import to_indices

        labels = classifier.predict(x).argmax(axis=1) if y is None else to_indices(y, len(x), classifier.nb_classes)
        mask = classifier.predict(x_adv).argmax(axis=1) != labels
    return {k: v[mask].astype(np.float64) for k, v in norms.items()}


def perturbation_norm(classifier, x, x_adv, norm=2, statistic: str = "mean", successful_only: bool = False,
                      y=None, atol: float = 0.0) -> float:
    """One statistic of the per-sample perturbation norms ``||x_adv - x||_p``.

    Spec: ``perturbation_norm(norm=inf, statistic='median', successful_only=True)``.

    Parameters
    ----------
    norm : {0, 1, 2, inf}, default 2
        L0 counts the components changed by more than ``atol``.
    statistic : {"mean", "median", "min", "max", "std"}, default "mean"
    successful_only : bool, default False
        Only examples whose prediction differs from ``y`` (the clean predictions by default).

    Returns ``nan`` when no example is selected.
    """
    if statistic not in _STATS:
        raise InvalidParameterError(
            f"The 'statistic' parameter must be one of {sorted(_STATS)}. Got {statistic!r} instead.")
    values = _selected(classifier, x, x_adv, successful_only, y, atol)[_norm_key(norm)]
    return float(_STATS[statistic](values)) if values.size else math.nan


def perturbation_norm_stats(classifier, x, x_adv, successful_only: bool = False, y=None,
                            atol: float = 0.0) -> dict[str, dict[str, float]]:
    """Mean, median, min, max and std of the L0, L1, L2 and Linf norms, as a nested dict."""
    sel = _selected(classifier, x, x_adv, successful_only, y, atol)
    return {k: {s: (float(f(v)) if v.size else math.nan) for s, f in _STATS.items()} | {"n": int(v.size)}
            for k, v in sel.items()}
