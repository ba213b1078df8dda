"""Fast adversarial training: FGSM from a random start (Wong, Rice & Kolter 2020; paper 004 §2)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from feint import Trainer
from feint._params import Boolean, Instance, Integer, NoneOk, Options, Real
from feint.norms import clip, normalize, project, random_ball

__all__ = ["FastAdversarialTrainer"]


class _Rows:
    """``n`` rows of draws from one numpy Generator, in the interface :func:`feint.norms.random_ball` uses."""

    def __init__(self, gen: np.random.Generator, n: int) -> None:
        self.gen, self.n = gen, n

    def __len__(self) -> int:
        return self.n

    def uniform(self, low, high, d, dtype=np.float64):
        return self.gen.uniform(low, high, (self.n, d)).astype(dtype, copy=False)

    def normal(self, loc, scale, d, dtype=np.float64):
        return self.gen.normal(loc, scale, (self.n, d)).astype(dtype, copy=False)

    def standard_exponential(self, d, dtype=np.float64):
        return self.gen.standard_exponential((self.n, d)).astype(dtype, copy=False)


def fgsm_rs(classifier, x: np.ndarray, y: np.ndarray, eps: float, alpha: float, norm, gen) -> np.ndarray:
    """One FGSM step of size ``alpha`` from a uniform random point of the ``eps``-ball, projected back.

    ``delta ~ U(B_eps)``; ``delta <- Pi_eps(delta + alpha * d(grad_x L(x + delta, y)))`` with ``d``
    the unit-norm steepest-ascent direction (the sign for Linf); every point clipped to the data
    range.  One forward and one backward pass.
    """
    cv = classifier.clip_values
    start = clip(x + random_ball(_Rows(gen, len(x)), x.shape[1:], eps, norm, dtype=x.dtype), cv)
    grad = classifier.loss_gradient(start, y, batch_size=max(len(x), 1))
    delta = project(start - x + np.asarray(alpha, x.dtype) * normalize(grad, norm), eps, norm)
    return clip(x + delta, cv)


class FastAdversarialTrainer(Trainer):
    """Fast adversarial training: train on one-step FGSM examples from a random start, step 1.25 eps.

    Wong, Rice & Kolter ("fast is better than free") show that FGSM adversarial training works as
    well as PGD training once the FGSM step starts from a uniformly random point of the threat
    ball and has size ``alpha = 1.25 * eps``: for every mini-batch, ``delta ~ U(B_eps)``, one
    gradient step ``delta <- Pi_eps(delta + alpha * sign(grad_x L(x + delta, y)))`` on the current
    model, and one optimiser step on ``x + delta`` (true labels).  A training step costs two
    forward and two backward passes, against ``max_iter + 1`` for PGD training.

    Known limits, from the paper: with steps much larger than ``1.25 * eps``, or long training, the
    model can *catastrophically overfit*: FGSM accuracy rises while PGD accuracy falls to about
    zero within an epoch.  Evaluate with PGD, not FGSM; the paper stops early when PGD accuracy on
    a training batch drops.  Their cyclic learning rate and mixed precision are speed-ups of the
    framework side: pass the schedule as ``fit(..., scheduler=...)`` (any object with ``step()``,
    called after every optimiser step), e.g. for PyTorch
    ``torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=nb_epochs * ceil(n / batch_size),
    pct_start=0.5, anneal_strategy="linear")`` (the paper's triangle from 0 to ``max_lr`` and back).

    Choices where the paper is open: the random start is uniform in the ball of ``norm`` (the paper
    treats Linf; L2 and L1 use :func:`feint.norms.random_ball` and the matching projection), and
    all randomness comes from one generator seeded by ``random_state``.

    Spec: ``fast_adversarial_trainer``, ``fast_adversarial_trainer(eps=0.1)``,
    ``fast_adversarial_trainer(eps=0.3, alpha=0.375, nb_epochs=10)``; aliases ``fast_at``, ``fbf``.

    Parameters
    ----------
    classifier : Classifier
        The model to harden in place; needs ``loss_gradient`` and ``train_on_batch``.
    eps : float, default 0.3
        Radius of the threat ball (the paper's MNIST setting for inputs in [0, 1]).
    alpha : float, optional
        FGSM step size; default ``1.25 * eps``.
    norm : {inf, 1, 2}, default inf
    nb_epochs : int, default 10
    batch_size : int, default 128
    random_state : int, numpy Generator or None
    verbose : bool, default True

    Attributes
    ----------
    history_ : list of float
        Mean training loss of each epoch, after :meth:`fit`.

    References
    ----------
    Wong, Rice & Kolter, "Fast is better than free: revisiting adversarial training", ICLR 2020.
    Jankovic & Mayer, "An empirical evaluation of adversarial examples defences, combinations and
    robustness scores" (paper 004), §2.
    """

    name: ClassVar[str] = "fast_adversarial_trainer"
    requires: ClassVar[frozenset[str]] = frozenset({"predict", "loss_gradient", "train_on_batch"})
    _parameter_constraints: ClassVar[dict] = {
        "eps": [Real(0, None, "neither")],
        "alpha": [Real(0, None, "neither"), NoneOk()],
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "nb_epochs": [Integer(1, None)],
        "batch_size": [Integer(1, None)],
        "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
        "verbose": [Boolean()],
    }

    def __init__(self, classifier, eps: float = 0.3, alpha: float | None = None, norm=np.inf, nb_epochs: int = 10,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self.eps = eps
        self.alpha = alpha
        self.norm = norm
        self.nb_epochs = nb_epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose
        self._validate()

    @property
    def step_size(self) -> float:
        """The FGSM step actually used: ``alpha``, or ``1.25 * eps`` when it is None."""
        return float(self.alpha) if self.alpha is not None else 1.25 * float(self.eps)

    def fit(self, x, y, scheduler=None, **kwargs: Any) -> FastAdversarialTrainer:
        """Adversarially train ``self.classifier`` on ``(x, y)`` (integer or one-hot labels); returns self.

        ``scheduler``: optional object whose ``step()`` is called after every optimiser step (a
        cyclic learning rate, see the class docstring).
        """
        clf = self.classifier

        def make_step(gen, x):
            def step(xb, yb, done):
                x_adv = fgsm_rs(clf, xb, yb, float(self.eps), self.step_size, self.norm, gen)
                done(clf.train_on_batch(x_adv, yb))
            return step

        return self._fit_on_the_fly(x, y, scheduler, kwargs, make_step)
