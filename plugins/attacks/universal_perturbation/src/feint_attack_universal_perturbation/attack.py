"""The Universal Adversarial Perturbation attack class (paper 000 §5.7, Algorithm 5)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import numpy as np

from feint import Attack
from feint._params import Instance, Integer, NoneOk, Options, Real, SpecOf
from feint.errors import InvalidParameterError
from feint.norms import clip, project
from feint.rng import make_seed

__all__ = ["UniversalPerturbation"]

log = logging.getLogger("feint.attacks.universal_perturbation")


class UniversalPerturbation(Attack):
    """Universal perturbation: one perturbation rho, built with an inner attack, that fools most inputs.

    Algorithm 5 of the ART paper (Moosavi-Dezfooli et al. 2017).  Starting from ``rho = 0``, each
    iteration visits the inputs in random order; for an input ``x`` still classified as its label
    (``C(x + rho) = C(x)``) the inner attack is run on ``x + rho``, and if its output
    ``x + rho + r`` is misclassified the perturbation becomes ``rho = project(rho + r, norm, eps)``.  The
    iterations stop when the fooling rate on the set reaches ``1 - delta`` or after ``max_iter``
    iterations.  The output is ``clip(x + rho)`` for every input; after :meth:`generate` the
    attack holds

    * ``noise`` -- the universal perturbation ``rho`` (shape of one input),
    * ``fooling_rate`` -- the fraction of inputs with ``C(clip(x + rho)) != C(x)``,
    * ``converged`` -- whether ``fooling_rate >= 1 - delta`` (False: the target was not reached
      within ``max_iter`` iterations; a log record at INFO level says so too),
    * ``iterations`` -- the number of passes over the set.

    The inner attack is **any registered attack spec** (``'deepfool'``, ``'fgsm(eps=0.1)'``,
    ``'pgd(norm=2, eps=1.0)'``), a class or an instance, created on this attack's classifier with
    ``feint.create("attack", attacker, classifier, **attacker_params)``; it must be untargeted.

    Choices where the paper is open:

    * ``rho(x + rho)`` in line 7 is the inner attack's perturbation ``r`` at ``x + rho`` (the
      paper writes an attack as its perturbation, equation 1); line 8 tests the inner attack's
      output ``x + rho + r`` and line 9 is ``project(rho + r)`` (the box's ``x_adv - x + rho``,
      the original's additive update).  ``x + rho`` is clipped to ``clip_values`` before it is
      classified or attacked, and the additive update keeps the components of ``rho`` that the
      clipping hid for this input (ART's ``project(attack(x + rho) - x)`` erases them: on the
      digits CNN it stalled at a fooling rate of 0.48 where this form reaches 0.83).
    * The whole input set is one problem: ``batch_size`` only sizes the forward passes, never
      splits the set.  The checks ``C(x + rho) = C(x)`` are made for up to ``batch_size``
      upcoming inputs in one forward pass and redone only after ``rho`` changes, which gives
      exactly the sequential algorithm's decisions.  The inner attack runs on one input at a
      time, as the algorithm requires (each update changes ``rho`` for the next input).
    * The visiting order and the inner attack's ``random_state`` (unless set in
      ``attacker_params``) are drawn from ``random_state``.

    Spec: ``universal_perturbation``, ``universal_perturbation(attacker='fgsm(eps=0.1)', eps=0.3)``,
    ``universal_perturbation(attacker='deepfool', attacker_params={'max_iter': 20}, delta=0.1, norm=2, eps=2.0)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` and what the inner attack needs.
    attacker : str, Attack class or instance, default 'deepfool'
        The inner untargeted attack rho(.).
    attacker_params : dict, optional
        Parameters of the inner attack (override the spec's).
    delta : float, default 0.2
        Failure tolerance in [0, 1]; ``1 - delta`` is the target fooling rate.
    max_iter : int, default 20
        Maximum number of passes over the set, >= 1.
    eps : float, default 10.0
        Radius of the ``norm``-ball the perturbation is projected onto, >= 0.
    norm : {inf, 1, 2}, default inf
    batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    References
    ----------
    Moosavi-Dezfooli, Fawzi, Fawzi & Frossard, "Universal adversarial perturbations", CVPR 2017.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §5.7, Algorithm 5.
    """

    name: ClassVar[str] = "universal_perturbation"
    requires = frozenset({"predict"})
    supports_targeted = False
    _parameter_constraints: ClassVar[dict] = {
        "attacker": [SpecOf("attack")],
        "attacker_params": [Instance(dict, description="a dict of parameters"), NoneOk()],
        "delta": [Real(0, 1, "both")],
        "max_iter": [Integer(1, None)],
        "eps": [Real(0, None, "left")],
        "norm": [Options((np.inf, 1, 2, "inf"))],
    }

    def __init__(self, classifier, attacker="deepfool", attacker_params=None, delta: float = 0.2,
                 max_iter: int = 20, eps: float = 10.0, norm=np.inf, targeted: bool = False, target=None,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self.noise = None
        self.fooling_rate = None
        self.converged = None
        self.iterations = 0
        self._init_params(locals())

    # -- the inner attack -------------------------------------------------------------------------
    def _check_params(self, params) -> None:
        self._make_attacker(params)

    def _make_attacker(self, params: dict[str, Any]) -> Attack:
        from feint.registry import default_registry

        spec, extra = params["attacker"], dict(params["attacker_params"] or {})
        attack = default_registry().create("attack", spec, self.classifier, **extra)
        if not isinstance(attack, Attack):
            raise InvalidParameterError(
                f"The 'attacker' parameter of UniversalPerturbation must name an attack. Got {spec!r}, "
                f"which created a {type(attack).__name__}.")
        if isinstance(attack, UniversalPerturbation):
            raise InvalidParameterError(
                "The 'attacker' parameter of UniversalPerturbation must be another attack. "
                f"Got {spec!r} instead.")
        if attack.is_targeted:
            raise InvalidParameterError(
                "The 'attacker' of UniversalPerturbation must be untargeted (Algorithm 5 uses an "
                f"untargeted attack). Got {attack.spec()!r} instead.")
        return attack

    # -- Algorithm 5 -------------------------------------------------------------------------------
    def generate(self, x, y=None, **params: Any) -> np.ndarray:
        """Return ``clip(x + rho)`` for the universal perturbation ``rho`` built on ``x`` (Algorithm 5).

        ``y`` (optional) are the labels ``C(x)`` to move away from; by default the predictions.
        Sets ``noise``, ``fooling_rate``, ``converged`` and ``iterations``.
        """
        if params:
            self.set_params(**params)
        else:
            self._validate()
        x = self.classifier.check_x(x)
        seed = make_seed(self.random_state)
        labels = self._resolve_labels(x, y, seed)
        self._last_labels = labels
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        inner = self._make_attacker(self.get_params())
        inner.verbose = False
        fixed_seed = "random_state" in (self.attacker_params or {})
        cv = self.classifier.clip_values
        n, bs = x.shape[0], int(self.batch_size)

        def fooled(rho: np.ndarray, idx: np.ndarray) -> np.ndarray:
            pred = self.classifier.predict(clip(x[idx] + rho, cv), batch_size=bs).argmax(axis=1)
            return pred != labels[idx]

        rho = np.zeros(x.shape[1:], dtype=x.dtype)
        rate, it = 0.0, 0                                                          # lines 1-3
        from feint.hooks import task

        with task("attack", self.spec(), total=int(self.max_iter), unit="pass", verbose=self.verbose) as t:
            while n and rate < 1 - self.delta and it < self.max_iter:                # line 4
                order = rng.permutation(n)                                         # line 5
                pos = 0
                while pos < n:
                    window = order[pos:pos + bs]
                    todo = np.flatnonzero(~fooled(rho, window))                    # line 6, batched
                    pos += len(window)
                    for j in todo:
                        i = window[j]
                        if not fixed_seed:
                            inner.random_state = int(rng.integers(0, 2**63 - 1))
                        x_rho = clip(x[i:i + 1] + rho, cv)
                        x_adv = inner.generate(x_rho, labels[i:i + 1])                     # line 7
                        if self._predict(x_adv).argmax(axis=1)[0] != labels[i]:             # line 8
                            rho = project(rho + (x_adv - x_rho), self.eps, self.norm)[0]   # line 9
                            pos -= len(window) - j - 1      # rho changed: re-check the rest
                            break
                fool = fooled(rho, np.arange(n))                                    # line 13
                rate = float(fool.mean())
                it += 1
                t.advance()
        if it == 0:
            rate = float(fooled(rho, np.arange(n)).mean()) if n else 0.0
        self.noise, self.fooling_rate, self.iterations = rho, rate, it
        self.converged = bool(rate >= 1 - self.delta)
        if not self.converged:
            log.info("UniversalPerturbation reached a fooling rate of %.3f < 1 - delta = %.3f after %d "
                     "iterations", rate, 1 - self.delta, it)
        return clip(x + rho, cv).astype(x.dtype, copy=False)

    def _generate_batch(self, x, y, rng):  # pragma: no cover - generate() handles the whole set
        raise NotImplementedError("UniversalPerturbation works on the whole set in generate()")
