"""ONE-LINE SUMMARY (rename this module for what it holds: attack.py, defence.py, ...)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Real

__all__ = ["ClassName"]


class ClassName(Attack):
    """One-line summary first (listings show it).

    What it does, the algorithm box it follows, the choices made where the paper is ambiguous.

    Spec: ``NAME``, ``NAME(eps=0.1)``.

    Parameters
    ----------
    classifier : Classifier
        Needs the capabilities in ``requires``.
    eps : float, default 0.1
        ...

    References
    ----------
    Author et al., "Title", Venue Year.
    """

    name: ClassVar[str] = "NAME"
    requires = frozenset({"predict", "loss_gradient"})
    _parameter_constraints: ClassVar[dict] = {"eps": [Real(0, None, "left")]}

    def __init__(self, classifier, norm=np.inf, eps: float = 0.1, targeted: bool = False, target=None,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _generate_batch(self, x, y, rng):
        raise NotImplementedError("write the algorithm here")
