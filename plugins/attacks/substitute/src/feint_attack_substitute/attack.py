"""The substitute-model black-box attack class (Papernot et al. 2017; paper 002)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np

from feint import Attack, AttackResult
from feint._params import Integer, NoneOk, Real, Satisfies, SpecOf
from feint.errors import CapabilityError, InvalidInputError, InvalidParameterError
from feint.hooks import task
from feint.rng import make_seed
from feint_attack_substitute._functional import train_substitute

__all__ = ["SubstituteBlackBox", "SubstituteResult"]

_TRAINING_PARAMS = ("substitute", "nb_rounds", "lmbda", "nb_epochs", "train_batch_size", "random_state")


@dataclass
class SubstituteResult(AttackResult):
    """:class:`feint.AttackResult` (success = transfer to the oracle) plus the substitute's record.

    Attributes
    ----------
    oracle_queries : int
        Oracle predictions spent on labelling the substitute's training set.
    training_size : int
        Size of the final substitute training set.
    substitute_agreement : float
        Fraction of the clean inputs on which substitute and oracle predict the same class.
    substitute_success : float
        Success rate of the white-box attack on the substitute itself.
    """

    oracle_queries: int = 0
    training_size: int = 0
    substitute_agreement: float = math.nan
    substitute_success: float = math.nan

    def summary(self) -> dict[str, Any]:
        return {**super().summary(), "oracle_queries": self.oracle_queries, "training_size": self.training_size,
                "substitute_agreement": self.substitute_agreement, "substitute_success": self.substitute_success}


def _check_spec(spec) -> None:
    """Resolve an attack spec string early, so a typo fails at construction."""
    if isinstance(spec, str):
        from feint.registry import default_registry
        from feint.spec import parse_spec

        items = parse_spec(spec)
        if len(items) != 1:
            raise InvalidParameterError(
                f"The 'attack' parameter of SubstituteBlackBox must be one attack spec. Got {spec!r} instead.")
        default_registry().resolve("attack", items[0].name)


class SubstituteBlackBox(Attack):
    """Substitute-model black-box attack: train a local model on the oracle's labels, attack it, transfer.

    Papernot et al.'s practical black-box attack: from a small seed set ``S_0`` the attacker
    queries the oracle (the attacked classifier, through ``predict`` only) for labels, trains a
    substitute, and grows the set by Jacobian-based dataset augmentation
    ``S_{rho+1} = S_rho U {x + lmbda sign(J_F[O~(x)])}`` for ``nb_rounds`` substitute epochs
    (Algorithm 1).  Adversarial examples are then crafted on the substitute with any registered
    white-box attack (``attack='fgsm(eps=0.3)'``) and returned for the oracle; :meth:`run`
    reports their success on the oracle, i.e. the transfer rate.

    Spec: ``substitute``, ``substitute(attack='fgsm(eps=0.3)', nb_rounds=6, lmbda=0.1)``.

    Parameters
    ----------
    classifier : Classifier
        The oracle; needs ``predict`` only.
    substitute : callable or None, default None
        A factory ``substitute() -> Classifier`` returning a fresh, untrained classifier of any
        framework adapter that provides ``fit`` and ``class_gradient``, with the oracle's input
        shape, number of classes and ``clip_values``.  Seed it inside the factory (e.g.
        ``torch.manual_seed``) for reproducible runs.  ``None``: a numpy one-hidden-layer MLP
        (:class:`feint.testing.MLPClassifier`, 64 tanh units) seeded from ``random_state``.
        A factory cannot be written in a spec string: pass it as a keyword
        (``feint.create("attack", "substitute(nb_rounds=4)", oracle, substitute=factory)``).
    attack : str, class or Attack, default 'fgsm(eps=0.3)'
        The white-box attack run on the substitute (a spec of any registered attack).
        ``targeted``, ``target``, ``batch_size``, ``random_state`` and ``verbose`` are passed on.
    nb_rounds : int, default 6
        Substitute training epochs rho (the seed set doubles between two rounds).
    lmbda : float, default 0.1
        Jacobian augmentation step lambda.
    nb_epochs : int, default 10
        Training epochs of the substitute in each round.
    train_batch_size : int, default 128
        Mini-batch size of substitute training.
    targeted : bool, default False
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    Notes
    -----
    The seed set is ``x_seed`` when given (``generate(x, x_seed=...)`` or :meth:`fit_substitute`),
    otherwise the inputs ``x`` of the first call (the paper's attacker holds a small set of
    representative inputs; passing a separate seed set reproduces its protocol).  The trained
    substitute is kept in ``substitute_`` and reused by later calls until ``x_seed`` is passed
    again, :meth:`fit_substitute` is called, or a training parameter changes.  The substitute
    continues training from round to round (as in the authors' reference tutorial) rather than
    restarting; only points new in a round are sent to the oracle.  The Jacobian is that of the
    substitute's class probabilities.  Outputs are clipped to the oracle's ``clip_values``.

    References
    ----------
    Papernot, McDaniel, Goodfellow, Jha, Celik & Swami, "Practical Black-Box Attacks against
    Machine Learning", ASIA CCS 2017.
    """

    name: ClassVar[str] = "substitute"
    requires = frozenset({"predict"})
    norm_param: ClassVar[str | None] = None
    eps_param: ClassVar[str | None] = None
    _parameter_constraints: ClassVar[dict] = {
        "substitute": [NoneOk(), Satisfies(callable, "a callable returning a fresh Classifier", invalid=3.5)],
        "attack": [SpecOf("attack")],
        "nb_rounds": [Integer(1, None)],
        "lmbda": [Real(0, None, "neither")],
        "nb_epochs": [Integer(1, None)],
        "train_batch_size": [Integer(1, None)],
    }

    def __init__(self, classifier, substitute=None, attack="fgsm(eps=0.3)", nb_rounds: int = 6, lmbda: float = 0.1,
                 nb_epochs: int = 10, train_batch_size: int = 128, targeted: bool = False, target=None,
                 batch_size: int = 128, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self.substitute_ = None
        self.oracle_queries_ = 0
        self.training_size_ = 0
        self._init_params(locals())

    def _check_params(self, params) -> None:
        _check_spec(params["attack"])

    def set_params(self, **params: Any) -> bool:
        old = {k: getattr(self, k) for k in _TRAINING_PARAMS}
        out = super().set_params(**params)
        if any(k in params and params[k] is not old[k] and params[k] != old[k] for k in _TRAINING_PARAMS):
            self.substitute_ = None
        return out

    def budget(self):
        """The ``(eps, norm)`` budget of the white-box attack (read from its parameters), or None."""
        spec = self.attack
        if isinstance(spec, str):
            from feint.registry import default_registry
            from feint.spec import parse_spec

            item = parse_spec(spec)[0]
            reg = default_registry()
            entry, bound = reg.resolve("attack", item.name)
            cls = reg.load("attack", entry.name)
            params = {**cls.param_defaults(), **bound, **item.kwargs}
        elif isinstance(spec, type):
            cls, params = spec, spec.param_defaults()
        else:
            cls, params = type(spec), spec.get_params()
        bare = cls.__new__(cls)  # the budget is a function of the parameters only
        for key, value in params.items():
            setattr(bare, key, value)
        return bare.budget()

    # -- the substitute -------------------------------------------------------------------------
    def _new_substitute(self, seed: int, input_shape):
        oracle = self.classifier
        if self.substitute is None:
            from feint.testing import MLPClassifier

            sub = MLPClassifier(tuple(input_shape), oracle.nb_classes, clip_values=oracle.clip_values, hidden=64,
                                dtype=oracle.dtype, random_state=int(seed % (2**32)))
        else:
            sub = self.substitute()
        from feint import Classifier

        if not isinstance(sub, Classifier):
            raise InvalidParameterError(
                "The 'substitute' parameter of SubstituteBlackBox must return a feint Classifier. "
                f"Got {type(sub).__name__} instead.")
        missing = {"fit", "class_gradient"} - set(sub.provides)
        if missing:
            raise CapabilityError("SubstituteBlackBox (its substitute)", {"fit", "class_gradient"}, sub.provides,
                                  type(sub).__name__)
        if sub.nb_classes != oracle.nb_classes:
            raise InvalidParameterError(
                f"The substitute must have the oracle's {oracle.nb_classes} classes. Got {sub.nb_classes} instead.")
        if sub.input_shape is not None and tuple(sub.input_shape) != tuple(input_shape):
            raise InvalidParameterError(
                f"The substitute must take inputs of shape {tuple(input_shape)}. Got {tuple(sub.input_shape)} instead.")
        return sub

    def fit_substitute(self, x_seed, seed: int | None = None):
        """Train a fresh substitute on the oracle's labels of ``x_seed`` (Algorithm 1); returns it.

        Stored in ``substitute_``; ``oracle_queries_`` and ``training_size_`` record its cost.
        """
        x_seed = self.classifier.check_x(x_seed, name="x_seed")
        if x_seed.shape[0] == 0:
            raise InvalidInputError("x_seed must hold at least one input. Got an empty array instead.")
        seed = make_seed(self.random_state) if seed is None else int(seed)
        sub = self._new_substitute(seed, x_seed.shape[1:])
        with task("attack", f"{self.name} training", total=self.nb_rounds, unit="round", verbose=self.verbose) as t:
            sub, s, _, queries = train_substitute(self.classifier, sub, x_seed, self.nb_rounds, self.lmbda,
                                                  self.nb_epochs, self.train_batch_size, seed, progress=t)
        self.substitute_, self.oracle_queries_, self.training_size_ = sub, queries, len(s)
        return sub

    def _inner(self, substitute) -> Attack:
        from feint.registry import default_registry

        return default_registry().create("attack", self.attack, substitute, targeted=self.is_targeted, target=None,
                                         batch_size=self.batch_size, verbose=self.verbose)

    # -- public API -----------------------------------------------------------------------------
    def generate(self, x, y=None, x_seed=None, **params: Any) -> np.ndarray:
        """Adversarial examples for the oracle, crafted on the substitute (trained first if needed).

        ``x_seed``: the attacker's seed set for (re)training the substitute; by default the
        substitute of an earlier call, or one trained on ``x``.
        """
        if params:
            self.set_params(**params)
        else:
            self._validate()
        x = self.classifier.check_x(x)
        seed = make_seed(self.random_state)
        labels = self._resolve_labels(x, y, seed)
        self._last_labels = labels
        with task("attack", self.spec(), total=2, unit="stage", verbose=self.verbose) as t:
            if x_seed is not None or self.substitute_ is None:
                self.fit_substitute(x if x_seed is None else x_seed, seed)
            t.advance()
            inner = self._inner(self.substitute_)
            inner.set_params(random_state=seed)
            x_adv = inner.generate(x, labels)
            t.advance()
        return self._clip(np.asarray(x_adv, dtype=x.dtype))

    def run(self, x, y=None, **params: Any) -> SubstituteResult:
        """Run the attack: success on the oracle (transfer) plus the substitute's record."""
        res = super().run(x, y, **params)
        x_in = self.classifier.check_x(x)
        sub = self.substitute_
        pred_sub_clean = sub.predict(x_in, batch_size=self.batch_size).argmax(axis=1)
        pred_oracle_clean = self.classifier.predict(x_in, batch_size=self.batch_size).argmax(axis=1)
        sub_adv = sub.predict(res.x_adv, batch_size=self.batch_size)
        return SubstituteResult(**{f.name: getattr(res, f.name) for f in fields(AttackResult)},
                                oracle_queries=int(self.oracle_queries_), training_size=int(self.training_size_),
                                substitute_agreement=float(np.mean(pred_sub_clean == pred_oracle_clean)),
                                substitute_success=float(np.mean(self._is_adversarial(sub_adv, res.y))))
