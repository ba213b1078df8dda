"""Adversarial training by static augmentation with several attacks (paper 000 §6.1)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from feint import Attack, Trainer
from feint._params import Boolean, Instance, Integer, NoneOk, Options, Real, Satisfies
from feint.errors import InvalidParameterError
from feint.labels import to_categorical, to_targets

__all__ = ["AdversarialTrainer"]

LABEL_RULES = ("predicted", "true")


def _is_attack_ref(value) -> bool:
    return isinstance(value, (str, Attack)) or (isinstance(value, type) and issubclass(value, Attack))


def _is_attacks(value) -> bool:
    if _is_attack_ref(value):
        return True
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(_is_attack_ref(v) for v in value)
    if isinstance(value, dict):
        return len(value) > 0 and all(_is_attack_ref(k) and (v is None or isinstance(v, (dict, str)))
                                      for k, v in value.items())
    return False


def _parse_params(text: str) -> dict[str, Any]:
    """``"eps=0.1, norm=2"`` (the paper's parameter strings) -> ``{"eps": 0.1, "norm": 2}``."""
    from feint.spec import parse_spec

    return dict(parse_spec(f"attack({text})")[0].kwargs) if text.strip() else {}


class AdversarialTrainer(Trainer):
    """Adversarial training: augment the training set with the adversarial samples of several attacks.

    Given attacks and the classifiers they target, ``{(rho_1, C_1), ..., (rho_m, C_m)}``, and the
    training set ``{(x_j, y_j)}``, :meth:`fit` adds the adversarial samples ``rho_i(x_j)`` of every
    attack to the training set (statically: they are crafted once, on the models as they are
    before training) and calls the classifier's ``fit`` on the augmented set, so
    ``self.classifier`` becomes the hardened classifier.  The original samples are kept, so with
    ``ratio=1`` the augmented set has ``(m + 1) * n`` samples (the paper's ``m * n`` counts the
    adversarial ones).

    Labels of the adversarial samples (``labels``):

    * ``"true"`` (default): the training label ``y_j`` -- what adversarial training usually means
      (Goodfellow et al.; Madry et al.) and what robustness needs;
    * ``"predicted"`` (the paper's rule, §6.1): ``C_i(rho_i(x_j))``, the prediction of the
      attacked classifier on the adversarial sample.  Right for virtual adversarial training (VAT
      perturbations keep the prediction), but for an attack that succeeds against ``C_i`` it is by
      construction a *wrong* class, so the hardened model learns the adversarial decision instead
      of resisting it (measured on the digits CNN: no gain at all, see the README).  We depart
      from the paper's default for that reason; ``labels="predicted"`` reproduces it.

    Every attack is called as ``rho_i(x_j) = attack.generate(x)`` without labels, so untargeted
    attacks move away from their classifier's predictions (no label leaking) and targeted ones need
    a ``target`` rule.

    Choices where the paper is open: ``ratio`` is the fraction of the training set each attack is
    applied to (a random subset, drawn with ``random_state``; 1 applies every attack to every
    sample, as in the paper).  For on-the-fly training against the current model see
    ``pgd_adversarial_trainer``, ``fast_adversarial_trainer`` and ``free_adversarial_trainer``.

    The attacks may be given as (paper §6.1, plus spec strings):

    * one attack: an instance (its ``classifier`` is ``C_i``), a spec string such as
      ``"fgsm(eps=0.1)"`` or a class (created against ``classifier``);
    * a list of them;
    * a dict ``{attack: parameters}`` where the parameters are a dict, a string of the paper's
      form ``"eps=0.1, norm=2"``, or None; an instance key is copied with the parameters set.

    Spec: ``adversarial_trainer(attacks='fgsm(eps=0.1)')``,
    ``adversarial_trainer(attacks=['fgsm(eps=0.1)', 'pgd(eps=0.2, max_iter=10)'], labels='true')``,
    ``adversarial_trainer(attacks={'fgsm': 'eps=0.1', 'deepfool': None}, ratio=0.5)``; alias
    ``adv_trainer``.

    Parameters
    ----------
    classifier : Classifier
        The classifier ``C`` to harden; needs ``fit``.
    attacks : Attack, str, class, list or dict
        The attacks (see above).
    ratio : float in (0, 1], default 1.0
        Fraction of the training set each attack perturbs.
    labels : {"true", "predicted"}, default "true"
        Labels of the adversarial samples (see above).
    random_state : int, numpy Generator or None
        Seeds the subsets when ``ratio < 1`` and the attacks this trainer creates from spec strings
        or classes without a ``random_state`` of their own (attack instances you pass keep theirs).
        The classifier's own training is seeded through ``fit(..., random_state=...)``.
    verbose : bool, default True

    Attributes
    ----------
    n_augmented_ : int
        Number of adversarial samples added by the last :meth:`fit`.

    References
    ----------
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.1.
    Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial examples", ICLR 2015.
    Tramèr et al., "Ensemble adversarial training: attacks and defenses", ICLR 2018.
    """

    name: ClassVar[str] = "adversarial_trainer"
    requires: ClassVar[frozenset[str]] = frozenset({"predict", "fit"})
    _parameter_constraints: ClassVar[dict] = {
        "attacks": [Satisfies(_is_attacks, "an attack (instance, spec string or class), a non-empty list of them, "
                                           "or a dict of attack -> parameters (dict, 'k=v, ...' string or None)",
                              invalid=[])],
        "ratio": [Real(0, 1, "right")],
        "labels": [Options(LABEL_RULES)],
        "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
        "verbose": [Boolean()],
    }

    def __init__(self, classifier, attacks, ratio: float = 1.0, labels: str = "true", random_state=None,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        self.attacks = attacks
        self.ratio = ratio
        self.labels = labels
        self.random_state = random_state
        self.verbose = verbose
        self._validate()
        self._attacks, self._owned = self._resolve(attacks)

    # -- attacks ------------------------------------------------------------------------------
    def _create(self, ref, params: dict[str, Any]) -> Attack:
        from feint.registry import default_registry

        if isinstance(ref, Attack):
            if not params:
                return ref
            return default_registry().create("attack", ref, ref.classifier, **params)
        return default_registry().create("attack", ref, self.classifier, **params)

    def _resolve(self, attacks) -> tuple[list[Attack], list[bool]]:
        """The attack objects, and per attack whether this trainer created it (so may seed it)."""
        if isinstance(attacks, dict):
            pairs = [(ref, _parse_params(p) if isinstance(p, str) else dict(p or {})) for ref, p in attacks.items()]
        elif isinstance(attacks, (list, tuple)):
            pairs = [(ref, {}) for ref in attacks]
        else:
            pairs = [(attacks, {})]
        out = [self._create(ref, params) for ref, params in pairs]
        owned = [atk is not ref and getattr(atk, "random_state", None) is None for atk, (ref, _) in zip(out, pairs)]
        for atk in out:
            if atk.is_targeted and getattr(atk, "target", None) is None:
                raise InvalidParameterError(
                    f"The attack {atk} of AdversarialTrainer is targeted without a target rule; it is called "
                    "without labels, so give it target='least_likely' | 'next' | 'random', or make it untargeted.")
        return out, owned

    # -- training -----------------------------------------------------------------------------
    def fit(self, x, y, **kwargs: Any) -> AdversarialTrainer:
        """Augment ``(x, y)`` with every attack's adversarial samples and fit the classifier; returns self.

        Parameters
        ----------
        x : ndarray
            Training inputs; never modified.
        y : ndarray
            Integer, one-hot or probability-row labels.
        **kwargs
            Passed to ``self.classifier.fit`` (``batch_size``, ``nb_epochs``, ``random_state``...).
        """
        self._validate()
        clf = self.classifier
        x = clf.check_x(x)
        n, k_classes = x.shape[0], clf.nb_classes
        t = to_targets(y, n, k_classes, dtype=clf.np_dtype)
        gen = np.random.default_rng(self.random_state)
        k = math.ceil(self.ratio * n)
        xs, ts = [x], [t]
        from feint.hooks import task

        with task("trainer", self.spec(), total=len(self._attacks) + 1, unit="step", verbose=self.verbose) as tk:
            for atk, owned in zip(self._attacks, self._owned):
                idx = np.arange(n) if k >= n else np.sort(gen.choice(n, k, replace=False))
                seed = int(gen.integers(2**63 - 1))          # drawn for every attack: streams stay aligned
                params = {"random_state": seed} if owned else {}
                x_adv = np.asarray(atk.generate(x[idx], **params), dtype=clf.np_dtype)
                if owned:
                    atk.random_state = None
                if self.labels == "true":
                    t_adv = t[idx]
                else:
                    pred = atk.classifier.predict(x_adv).argmax(axis=1)
                    t_adv = to_categorical(pred, k_classes, dtype=clf.np_dtype)
                xs.append(x_adv)
                ts.append(t_adv)
                tk.advance()
            self.n_augmented_ = sum(len(a) for a in xs[1:])
            clf.fit(np.concatenate(xs), np.concatenate(ts), **kwargs)
            tk.advance()
        return self
