"""The NewtonFool attack class (paper 000 §5.8, Algorithm 6)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Real
from feint.labels import to_categorical
from feint.norms import lp_norm
from feint_attack_newtonfool._functional import newtonfool_step

__all__ = ["NewtonFool"]


class NewtonFool(Attack):
    """NewtonFool: Newton-like steps that drive the probability of the label down to 1/K.

    Algorithm 6 of the ART paper (Jang et al. 2017): with ``y = C(x)`` and ``F_y`` the predicted
    probability of ``y``, each iteration moves by ``d = -delta * grad F_y / ||grad F_y||^2``
    where ``delta = min(eta * ||x||_2 * ||grad F_y||_2, F_y - 1/K)`` (equation 7) -- a Newton
    step towards ``F_y = 1/K``, its length capped at ``eta * ||x||_2`` -- then clips to
    ``clip_values``.  Untargeted only; the labels are the classifier's predictions unless ``y``
    is given.

    Choices where the paper is open:

    * **Termination**: Algorithm 6 has only ``max_iter``.  Here a sample stops as soon as it is
      misclassified (an active mask: finished samples stop costing passes), which is the goal
      of the attack and keeps the perturbation as small as the steps allow; samples that are
      never misclassified run all ``max_iter`` iterations.  Each iteration costs one forward
      and one backward pass on the samples still active: ``output_gradient`` gives the
      probabilities (the termination test) and the gradient of ``F_y`` from the same forward
      pass (a sample found misclassified has paid for one backward pass it does not use).
    * ``||x||_2`` is the norm of the original input, fixed for the run (as in the algorithm).

    Spec: ``newtonfool``, ``newtonfool(eta=0.05, max_iter=50)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``class_gradient`` (of the probabilities).
    max_iter : int, default 100
        Maximum number of iterations ``i_max``, >= 1.
    eta : float, default 0.01
        Strength ``eta`` > 0: each step moves at most ``eta * ||x||_2`` in L2.
    batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`); the attack is deterministic.

    References
    ----------
    Jang, Wu & Jha, "Objective metrics and gradient descent algorithms for adversarial examples
    in machine learning", ACSAC 2017.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.8, Algorithm 6.
    """

    name: ClassVar[str] = "newtonfool"
    requires = frozenset({"predict", "class_gradient"})
    supports_targeted = False
    norm_param = None
    eps_param = None
    _parameter_constraints: ClassVar[dict] = {
        "max_iter": [Integer(1, None)],
        "eta": [Real(0, None, "neither")],
    }

    def __init__(self, classifier, max_iter: int = 100, eta: float = 0.01, targeted: bool = False, target=None,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _generate_batch(self, x, y, rng):
        k = self.classifier.nb_classes
        x_norm = lp_norm(x, 2)
        x_adv = x.copy()
        active = np.arange(len(x))
        for _ in range(int(self.max_iter)):
            # one forward pass: the probabilities (stop test) and the gradient of F_y (the step)
            p, grad = self.classifier.output_gradient(x_adv[active], to_categorical(y[active], k, x.dtype), logits=False,
                                                      batch_size=len(active))
            keep = p.argmax(axis=1) == y[active]
            active, p, grad = active[keep], p[keep], grad[keep]
            if active.size == 0:
                break
            ya = y[active]
            d = newtonfool_step(p[np.arange(len(ya)), ya], grad, x_norm[active], float(self.eta), k)
            x_adv[active] = self._clip(x_adv[active] + d)
        return x_adv
