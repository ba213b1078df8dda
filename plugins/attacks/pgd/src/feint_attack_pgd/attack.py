"""The Projected Gradient Descent attack class (papers 002 and 003 §2.1; Madry et al. 2018)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint import Attack
from feint._params import Integer, Options, Real
from feint_attack_pgd._functional import objective, pgd_steps, random_start

__all__ = ["ProjectedGradientDescent"]


class ProjectedGradientDescent(Attack):
    """Projected Gradient Descent: BIM from a random point of the eps-ball, with restarts.

    Each run starts at ``clip(x + u)``, ``u`` drawn uniformly from the ``norm``-ball of radius
    ``eps`` (the "dithering" of paper 003 §2.1), then takes ``max_iter`` FGM steps of size
    ``eps_step`` (sign of the loss gradient for ``norm=inf``, the gradient scaled to unit L1/L2
    norm otherwise), each followed by the projection onto the ball (Linf: clipping; L2: scaling;
    L1: the exact Euclidean projection of Duchi et al. 2008) and clipping to ``clip_values``.
    With ``num_random_init = N > 1`` the attack is restarted from N random points and keeps, per
    sample, the best run: the first that reaches the goal, otherwise the one with the highest
    objective (the loss of the label when untargeted, minus the loss of the target when targeted).

    Choices where the papers are open:

    * ``num_random_init=0`` starts at ``x`` itself (BIM with projection; with ``max_iter=1`` and
      ``eps_step=eps`` it is FGSM); the default 1 is Madry et al.'s single random start.
    * No early stop inside a run: all ``max_iter`` steps are taken for every sample (stopping
      at the first misclassification would return weaker, lower-loss examples).  Across
      restarts, a sample whose earlier run reached the goal is not attacked again (a restart only
      exists to find a success), so restarts cost passes for the unsolved samples only.  Ranking
      the runs of an unsolved sample costs one extra forward pass per run; with one run there is
      none.
    * ``eps_step > eps`` is allowed (the projection bounds the result); ``eps = 0`` returns
      the input.

    Spec: ``pgd``, ``pgd(eps=0.1, eps_step=0.01, max_iter=40)``, ``pgd(norm=2, eps=1.0, eps_step=0.2)``,
    ``pgd(num_random_init=5)``, ``pgd(targeted=True)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``loss_gradient``.
    norm : {inf, 1, 2}, default inf
        Norm of the steps, of the random start and of the ball.
    eps : float, default 0.3
        Radius of the ball (the attack budget), >= 0.
    eps_step : float, default 0.1
        Size of each step, > 0.
    max_iter : int, default 20
        Steps per run, >= 1.
    num_random_init : int, default 1
        Number of runs from random starts (0: one run from ``x``).
    targeted : bool, default False
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).  All randomness comes from each sample's own
        stream, so ``random_state`` fixes the result whatever ``batch_size``.

    References
    ----------
    Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards deep learning models resistant to adversarial
    attacks", ICLR 2018.
    Balda, Behboodi & Mathar, "Adversarial examples in deep neural networks: an overview", §2.1.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.3 (BIM, of which PGD is the random-start form).
    """

    name: ClassVar[str] = "pgd"
    requires = frozenset({"predict", "loss_gradient"})
    _parameter_constraints: ClassVar[dict] = {
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "eps": [Real(0, None, "left")],
        "eps_step": [Real(0, None, "neither")],
        "max_iter": [Integer(1, None)],
        "num_random_init": [Integer(0, None)],
    }

    def __init__(self, classifier, norm=np.inf, eps: float = 0.3, eps_step: float = 0.1, max_iter: int = 20,
                 num_random_init: int = 1, targeted: bool = False, target=None, batch_size: int = 128,
                 random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._init_params(locals())

    def _run(self, x, y, rng):
        """One run on the given samples: random start (if any), then the projected steps."""
        start = random_start(x, rng, self.eps, self.norm, self.clip_values) if self.num_random_init > 0 else x
        return pgd_steps(self.classifier, x, start, y, self.eps, self.eps_step, int(self.max_iter), self.norm,
                         self.is_targeted, max(len(x), 1))

    def _generate_batch(self, x, y, rng):
        if self.eps == 0:
            return x
        runs = max(1, int(self.num_random_init))
        if runs == 1:
            return self._run(x, y, rng)
        best = x.copy()
        best_score = np.full(len(x), -np.inf)
        todo = np.arange(len(x))                       # samples without a success so far
        for _ in range(runs):
            adv = self._run(x[todo], y[todo], rng.subset(todo))
            done, score = objective(self._predict(adv, logits=True), y[todo], self.is_targeted)
            better = done | (score > best_score[todo])
            best[todo[better]] = adv[better]
            best_score[todo[better]] = score[better]
            todo = todo[~done]
            if todo.size == 0:
                break
        return best
