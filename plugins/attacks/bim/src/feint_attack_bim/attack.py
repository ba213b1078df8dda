"""The Basic Iterative Method attack class (paper 000 §5.3)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Options, Real
from feint_attack_bim._functional import projected_steps

__all__ = ["BasicIterativeMethod"]


class BasicIterativeMethod(Attack):
    """Basic Iterative Method: FGSM iterated with small steps, each projected back onto the eps-ball.

    Each iteration takes an FGM step of size ``eps_step`` (the sign of the loss gradient for
    ``norm=inf``, the gradient scaled to unit L1/L2 norm otherwise), projects the total
    perturbation onto the ``norm``-ball of radius ``eps`` around the input and clips to
    ``clip_values`` (paper 000 §5.3, Kurakin et al. 2017).  Untargeted, the steps ascend the
    loss of the labels (the classifier's predictions unless ``y`` is given); targeted, they
    descend the loss of the targets.

    Choices where the paper is open:

    * The paper's text describes BIM aimed at the least likely class; here the attack is
      untargeted by default like every other feint attack, and ``target='least_likely'`` gives
      the least-likely-class variant (Kurakin et al.'s "iterative least-likely class method").
    * All ``max_iter`` iterations run for every sample: stopping a sample as soon as it is
      misclassified would return a weaker, lower-confidence example than the algorithm does,
      so there is no early stop.  Every iteration costs one forward and one backward pass.
    * ``eps_step > eps`` is allowed (the projection bounds the result); ``eps = 0`` returns
      the input.

    Spec: ``bim``, ``bim(eps=0.1, eps_step=0.01, max_iter=20)``, ``bim(norm=2, eps=1.0, eps_step=0.1)``,
    ``bim(target='least_likely')``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``loss_gradient``.
    norm : {inf, 1, 2}, default inf
        Norm of the steps and of the ball.
    eps : float, default 0.3
        Radius of the ball (the attack budget), >= 0.
    eps_step : float, default 0.1
        Size of each step, > 0.
    max_iter : int, default 20
        Number of iterations, >= 1.
    targeted : bool, default False
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    References
    ----------
    Kurakin, Goodfellow & Bengio, "Adversarial examples in the physical world", ICLR 2017 workshop.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.3.
    """

    name: ClassVar[str] = "bim"
    requires = frozenset({"predict", "loss_gradient"})
    _parameter_constraints: ClassVar[dict] = {
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "eps": [Real(0, None, "left")],
        "eps_step": [Real(0, None, "neither")],
        "max_iter": [Integer(1, None)],
    }

    def __init__(self, classifier, norm=np.inf, eps: float = 0.3, eps_step: float = 0.1, max_iter: int = 20,
                 targeted: bool = False, target=None, batch_size: int = 128, random_state=None,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _generate_batch(self, x, y, rng):
        if self.eps == 0:
            return x
        return projected_steps(self.classifier, x, x, y, self.eps, self.eps_step, int(self.max_iter), self.norm,
                               self.is_targeted, len(x))
