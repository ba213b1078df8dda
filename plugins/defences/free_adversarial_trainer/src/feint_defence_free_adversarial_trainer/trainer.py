"""Free adversarial training: minibatch replay with recycled gradients (Shafahi et al. 2019; paper 004 §2)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from feint import Trainer
from feint._params import Boolean, Instance, Integer, NoneOk, Options, Real
from feint.norms import clip, normalize, project

__all__ = ["FreeAdversarialTrainer"]


class FreeAdversarialTrainer(Trainer):
    """Free adversarial training: replay each minibatch m times, updating the perturbation for free.

    Shafahi et al. recycle the backward pass of every training step: the same backward gives the
    gradient for the parameters and the gradient ``g_adv`` for the input.  Each minibatch is
    trained on ``replays`` (the paper's ``m``) times in a row; after every step the perturbation
    is moved by ``delta <- Pi_eps(delta + eps * sign(g_adv))`` and used for the next step.  The
    perturbation is kept from one minibatch to the next (it is never reset, as in the paper's
    Algorithm 1), starting from zero.  Adversarial training thus costs what natural training
    costs: one forward and one backward pass per optimiser step.

    This needs both gradients from **one** backward pass, so the classifier must provide the
    capability ``train_with_input_gradient`` (``train_on_batch(x, y, return_input_gradient=True)``;
    the PyTorch adapter and the numpy reference classifiers do); other adapters get a
    :class:`~feint.errors.CapabilityError` naming it.

    ``nb_epochs`` counts passes over the data, each with ``replays`` steps per minibatch; the paper
    trains ``N / m`` epochs to match the cost of ``N`` epochs of natural training.

    Choices where the paper is open: the model input ``x + delta`` is clipped to the classifier's
    ``clip_values``; norms 2 and 1 step by ``eps`` along the normalised gradient and project onto
    their ball (the paper treats Linf); the input gradient is the one of the training loss in
    training mode, whose scale does not matter since only its sign (or direction) is used.

    Spec: ``free_adversarial_trainer``, ``free_adversarial_trainer(eps=0.2, replays=8)``; alias
    ``free_at``.

    Parameters
    ----------
    classifier : Classifier
        The model to harden in place; needs ``train_with_input_gradient``.
    eps : float, default 0.3
        Radius of the threat ball and size of each perturbation step.
    replays : int, default 8
        Steps per minibatch (the paper's ``m``; 8 for their CIFAR-10 results).
    norm : {inf, 1, 2}, default inf
    nb_epochs : int, default 10
    batch_size : int, default 128
    random_state : int, numpy Generator or None
        Seeds the shuffling.
    verbose : bool, default True

    Attributes
    ----------
    history_ : list of float
        Mean training loss of each epoch, after :meth:`fit`.

    References
    ----------
    Shafahi, Najibi, Ghiasi, Xu, Dickerson, Studer, Davis, Taylor & Goldstein, "Adversarial
    training for free!", NeurIPS 2019.
    """

    name: ClassVar[str] = "free_adversarial_trainer"
    requires: ClassVar[frozenset[str]] = frozenset({"predict", "train_on_batch", "train_with_input_gradient"})
    _parameter_constraints: ClassVar[dict] = {
        "eps": [Real(0, None, "neither")],
        "replays": [Integer(1, None)],
        "norm": [Options((np.inf, 1, 2, "inf"))],
        "nb_epochs": [Integer(1, None)],
        "batch_size": [Integer(1, None)],
        "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
        "verbose": [Boolean()],
    }

    def __init__(self, classifier, eps: float = 0.3, replays: int = 8, norm=np.inf, nb_epochs: int = 10,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self.eps = eps
        self.replays = replays
        self.norm = norm
        self.nb_epochs = nb_epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.verbose = verbose
        self._validate()

    def fit(self, x, y, scheduler=None, **kwargs: Any) -> FreeAdversarialTrainer:
        """Adversarially train ``self.classifier`` on ``(x, y)`` (integer or one-hot labels); returns self.

        ``scheduler``: optional object whose ``step()`` is called after every optimiser step.
        """
        clf = self.classifier

        def make_step(gen, x):
            eps = np.asarray(self.eps, dtype=x.dtype)
            delta = np.zeros((min(int(self.batch_size), len(x)), *x.shape[1:]), dtype=x.dtype)  # kept across batches

            def step(xb, yb, done):
                b = len(xb)
                for _ in range(int(self.replays)):
                    x_adv = clip(xb + delta[:b], clf.clip_values)
                    loss, g_adv = clf.train_on_batch(x_adv, yb, return_input_gradient=True)
                    delta[:b] = project(delta[:b] + eps * normalize(g_adv, self.norm), eps, self.norm)
                    done(loss)
            return step

        return self._fit_on_the_fly(x, y, scheduler, kwargs, make_step, steps_per_batch=int(self.replays))
