"""PGD adversarial training (Madry et al. 2018; paper 002, "Adversarial training by PGD")."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from feint import Trainer
from feint._params import Boolean, Instance, Integer, NoneOk, Options, Real, SpecOf
from feint.errors import InvalidParameterError
from feint.norms import parse_norm

__all__ = ["PGDAdversarialTrainer"]

_ATTACK_PARAMS = ("eps", "eps_step", "max_iter", "norm", "num_random_init")


class PGDAdversarialTrainer(Trainer):
    """PGD adversarial training: each step trains on PGD examples crafted against the current model.

    Madry et al. train on the empirical worst case, ``min_theta E[max_{||delta|| <= eps}
    L(f_theta(x + delta), y)]``: the inner maximisation is approximated by projected gradient
    ascent (PGD with a random start, the registered ``pgd`` attack) on the model as it is at that
    step, the outer minimisation by the classifier's optimiser through ``train_on_batch``.  Each
    epoch shuffles the data; in every mini-batch a fraction ``ratio`` of the samples (chosen at
    random) is replaced by its PGD example, labelled with the true label.

    ``ratio=1`` is Madry et al.'s objective (adversarial examples only).  ``ratio=alpha'`` < 1
    gives the mixed loss ``(1 - ratio) * L(x, y) + ratio * L(x_adv, y)`` of Goodfellow et al.
    (paper 002, "Adversarial loss"), with the batch size kept.

    Choices where the papers are open:

    * The inner attack uses the true labels ``y`` (Madry et al.) and is run in the classifier's
      gradient mode (eval mode for the framework adapters).
    * By default the inner attack is ``pgd`` with this trainer's ``eps``, ``eps_step``,
      ``max_iter``, ``norm`` and ``num_random_init``; the defaults are Madry et al.'s MNIST
      setting (eps 0.3, step 0.01, 40 steps, one random start) for inputs in [0, 1].  Any other
      untargeted attack can be given as ``attack`` (a spec string such as ``"pgd(eps=0.1)"`` or
      ``"apgd"``, a class, or an instance, which is copied and re-bound to the classifier being
      trained); the budget is then the attack's own, and the five PGD parameters must be left at
      their defaults.
    * Randomness (shuffling, the mixed subset, the attack's random starts) comes from one
      generator seeded by ``random_state``: the same seed and the same initial model give the
      same training.

    Spec: ``pgd_adversarial_trainer``, ``pgd_adversarial_trainer(eps=0.2, eps_step=0.05,
    max_iter=7)``, ``pgd_adversarial_trainer(ratio=0.5)``,
    ``pgd_adversarial_trainer(attack='pgd(norm=2, eps=1.5, eps_step=0.3)')``; aliases ``pgd_at``
    and ``madry``.  Create it with ``feint.create("defence", spec, classifier)``.

    Parameters
    ----------
    classifier : Classifier
        The model to harden in place; needs ``loss_gradient`` and ``train_on_batch`` (an optimiser).
    eps : float, default 0.3
        Radius of the threat ball.
    eps_step : float, default 0.01
        PGD step size.
    max_iter : int, default 40
        PGD steps per batch.
    norm : {inf, 1, 2}, default inf
    num_random_init : int, default 1
        PGD random starts (0: start at x).
    ratio : float in (0, 1], default 1.0
        Fraction of every batch replaced by adversarial examples.
    attack : str, class or Attack, optional
        Another inner attack (see above).
    nb_epochs : int, default 20
        Passes over the training data.
    batch_size : int, default 128
    random_state : int, numpy Generator or None
    verbose : bool, default True
        Progress through the ``feint_task_*`` hooks (a bar on a terminal).

    Attributes
    ----------
    history_ : list of float
        Mean training loss (on the mixed batches) of each epoch, after :meth:`fit`.

    References
    ----------
    Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards deep learning models resistant to
    adversarial attacks", ICLR 2018.
    Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015.
    """

    name: ClassVar[str] = "pgd_adversarial_trainer"
    requires: ClassVar[frozenset[str]] = frozenset({"predict", "loss_gradient", "train_on_batch"})
    _parameter_constraints: ClassVar[dict] = {
        "eps": [Real(0, None, "left")],
        "eps_step": [Real(0, None, "neither")],
        "max_iter": [Integer(1, None)],
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "num_random_init": [Integer(0, None)],
        "ratio": [Real(0, 1, "right")],
        "attack": [SpecOf("attack"), NoneOk()],
        "nb_epochs": [Integer(1, None)],
        "batch_size": [Integer(1, None)],
        "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
        "verbose": [Boolean()],
    }

    def __init__(self, classifier, eps: float = 0.3, eps_step: float = 0.01, max_iter: int = 40, norm=np.inf,
                 num_random_init: int = 1, ratio: float = 1.0, attack=None, nb_epochs: int = 20,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self.eps = eps
        self.eps_step = eps_step
        self.max_iter = max_iter
        self.norm = norm
        self.num_random_init = num_random_init
        self.ratio = ratio
        self.attack = attack
        self.nb_epochs = nb_epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose
        self._validate()
        self._make_attack(None)          # fail now on an unknown or unsuitable attack

    def _check_params(self, params: dict[str, Any]) -> None:
        if params["attack"] is None:
            return
        defaults = self.param_defaults()
        same = {"norm": lambda a, b: parse_norm(a) == parse_norm(b)}
        changed = [k for k in _ATTACK_PARAMS if not same.get(k, lambda a, b: a == b)(params[k], defaults[k])]
        if changed:
            raise InvalidParameterError(
                f"PGDAdversarialTrainer got attack={params['attack']!r} and also {changed}; give the inner "
                "attack's budget either in the attack spec or in eps/eps_step/max_iter/norm/num_random_init, "
                "not both.")

    def _make_attack(self, rng):
        from feint.registry import default_registry

        common = {"random_state": rng, "verbose": False, "batch_size": int(self.batch_size)}
        if self.attack is None:
            atk = default_registry().create(
                "attack", "pgd", self.classifier, eps=self.eps, eps_step=self.eps_step, max_iter=self.max_iter,
                norm=self.norm, num_random_init=self.num_random_init, **common)
        else:
            atk = default_registry().create("attack", self.attack, self.classifier, **common)
        if getattr(atk, "is_targeted", False):
            raise InvalidParameterError(
                f"The 'attack' parameter of PGDAdversarialTrainer must be an untargeted attack (it moves "
                f"away from the true labels). Got {atk} instead.")
        return atk

    def fit(self, x, y, scheduler=None, **kwargs: Any) -> PGDAdversarialTrainer:
        """Adversarially train ``self.classifier`` on ``(x, y)``; returns self.

        Parameters
        ----------
        x : ndarray
            Training inputs inside the classifier's ``clip_values``; never modified.
        y : ndarray
            Integer or one-hot labels.
        scheduler : object with ``step()``, optional
            Called after every optimiser step, e.g. a ``torch.optim.lr_scheduler`` built on the
            classifier's optimiser (the number of steps is ``nb_epochs * ceil(n / batch_size)``).
        """
        clf = self.classifier

        def make_step(rng, x):
            attack = self._make_attack(rng)

            def step(xb, yb, done):
                k = math.ceil(self.ratio * len(xb))
                sel = np.arange(len(xb)) if k >= len(xb) else np.sort(rng.choice(len(xb), k, replace=False))
                xb = xb.copy()
                xb[sel] = attack.generate(xb[sel], yb[sel])
                done(clf.train_on_batch(xb, yb))
            return step

        return self._fit_on_the_fly(x, y, scheduler, kwargs, make_step)

