"""The Fast Gradient Method attack class (paper 000 §5.2)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Boolean, Options, Real
from feint.errors import InvalidParameterError
from feint_attack_fgsm._functional import fgm, fgm_direction

__all__ = ["FastGradientMethod"]


class FastGradientMethod(Attack):
    """Fast Gradient (Sign) Method: one gradient step of size eps in the Linf, L1 or L2 norm.

    Untargeted, ``x_adv = clip(x + eps * sign(grad L(x, C(x))))`` for ``norm=inf`` (the step is
    ``eps * g / ||g||_p`` for p = 1, 2); targeted, the step descends the loss of the target.
    With ``minimal=True`` the attack searches, per sample, the smallest ``eps = k * eps_step``
    (k = 1, 2, ...) that succeeds, up to ``eps_max``; samples that never succeed get the
    ``eps_max`` step (and count as failures in :meth:`run`).  The search reuses the one
    gradient: each further k costs a forward pass on the samples still unsolved only.

    Spec: ``fgsm``, ``fgsm(eps=0.1, norm=2)``, ``fgsm(minimal=True, eps_step=0.01, eps_max=0.5)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``loss_gradient``.
    norm : {inf, 1, 2}, default inf
    eps : float, default 0.3
        Attack strength (>= 0; 0 returns the input).
    targeted : bool, default False
    minimal : bool, default False
        Search the minimal perturbation (paper §5.2, "minimum perturbation").
    eps_step, eps_max : float, default 0.1, 1.0
        Step and bound of the minimal search.
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    References
    ----------
    Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.2.
    """

    name: ClassVar[str] = "fgsm"
    single_step: ClassVar[bool] = True
    requires = frozenset({"predict", "loss_gradient"})
    _parameter_constraints: ClassVar[dict] = {
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "eps": [Real(0, None, "left")],
        "minimal": [Boolean()],
        "eps_step": [Real(0, None, "neither")],
        "eps_max": [Real(0, None, "neither")],
    }

    def __init__(self, classifier, norm=np.inf, eps: float = 0.3, targeted: bool = False, minimal: bool = False,
                 eps_step: float = 0.1, eps_max: float = 1.0, target=None, batch_size: int = 128,
                 random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _check_params(self, params) -> None:
        if params["minimal"] and params["eps_step"] > params["eps_max"]:
            raise InvalidParameterError(
                f"The 'eps_step' parameter of FastGradientMethod must be <= eps_max ({params['eps_max']}). "
                f"Got {params['eps_step']} instead.")

    def budget(self):
        """``(eps, norm)``, or ``(eps_max, norm)`` for the minimal search."""
        from feint.norms import parse_norm

        return (float(self.eps_max) if self.minimal else float(self.eps)), parse_norm(self.norm)

    def _generate_batch(self, x, y, rng):
        if not self.minimal:
            if self.eps == 0:
                return x
            return fgm(self.classifier, x, y, self.eps, self.norm, self.is_targeted, len(x))
        return self._minimal(x, y)

    def _minimal(self, x, y):
        d = fgm_direction(self.classifier, x, y, self.norm, self.is_targeted, len(x))
        out = x.copy()
        active = np.ones(len(x), dtype=bool)
        k = 1
        while active.any() and k * self.eps_step <= self.eps_max * (1 + 1e-9):
            idx = np.flatnonzero(active)
            cand = self._clip(x[idx] + np.float32(k * self.eps_step) * d[idx])
            done = self._is_adversarial(self._predict(cand), y[idx])
            out[idx] = cand
            active[idx[done]] = False
            k += 1
        return out
