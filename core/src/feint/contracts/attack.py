"""The ``Attack`` contract (paper 000 §5.1) and the result record of :meth:`Attack.run`.

An attack is written once, in numpy, against the ``Classifier`` contract.  A subclass declares
its parameters in ``__init__`` (stored verbatim with :meth:`Attack._init_params`), their
constraints in ``_parameter_constraints``, the capabilities it ``requires``, and implements
``_generate_batch(x, y, rng)``.  The base class validates inputs, resolves labels and targets
(paper 004's target rules), batches, draws per-sample random streams (so ``batch_size`` never
changes a result), clips to ``clip_values``, reports progress and counts passes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from feint._params import Boolean, Instance, Integer, NoneOk, Options
from feint.contracts.component import Component
from feint.contracts.counters import PassCounter
from feint.errors import CapabilityError, InvalidInputError, InvalidParameterError
from feint.labels import TARGET_RULES, target_labels, to_indices
from feint.norms import all_norms
from feint.rng import SampleRandom, make_seed

__all__ = ["Attack", "AttackResult", "check_capabilities"]

COMMON_CONSTRAINTS = {
    "targeted": [Boolean()],
    "target": [Options(TARGET_RULES), NoneOk()],
    "batch_size": [Integer(1, None)],
    "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
    "verbose": [Boolean()],
}


def _immutable(v: Any) -> bool:
    """Whether a parameter value cannot change without the attribute being assigned again."""
    if v is None or isinstance(v, (bool, int, float, str, np.number, np.random.Generator)):
        return True
    return isinstance(v, tuple) and all(map(_immutable, v))


def check_capabilities(component: Any, classifier: Any) -> None:
    """Raise :class:`CapabilityError` if ``classifier`` lacks what ``component`` requires."""
    required = frozenset(getattr(component, "requires", ()))
    provided = frozenset(getattr(classifier, "provides", ()))
    if not hasattr(classifier, "predict"):
        raise CapabilityError(type(component).__name__, required, provided,
                              f"{type(classifier).__name__} (not a feint Classifier)")
    if not required <= provided:
        raise CapabilityError(type(component).__name__, required, provided, type(classifier).__name__)


@dataclass
class AttackResult:
    """What one :meth:`Attack.run` produced and what it cost.

    Attributes
    ----------
    x_adv : ndarray
        Adversarial examples (same shape and dtype as the input).
    success : ndarray of bool
        Per sample: misclassified (untargeted, ``pred != y``) or classified as the target.
    y : ndarray of int
        Labels the attack moved away from (untargeted) or targets (targeted).
    norms : dict of str to ndarray
        Per-sample ``l0``, ``l1``, ``l2``, ``linf`` of ``x_adv - x``.
    passes : dict of str to int
        Forward/backward calls and samples spent by ``generate`` (the success check excluded).
    seconds : float
        Wall time of ``generate``.
    """

    x_adv: np.ndarray
    success: np.ndarray
    y: np.ndarray
    targeted: bool
    norms: dict[str, np.ndarray]
    passes: dict[str, int]
    seconds: float
    attack: str
    predictions: np.ndarray = field(repr=False, default=None)

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.success)) if self.success.size else math.nan

    def mean_norm(self, which: str = "l2", successful_only: bool = True) -> float:
        values = self.norms[which][self.success] if successful_only else self.norms[which]
        return float(np.mean(values)) if values.size else math.nan

    def summary(self) -> dict[str, Any]:
        """Scalars for reports: success rate, mean norms of successful examples, cost."""
        return {
            "attack": self.attack, "targeted": self.targeted, "n": int(self.success.size),
            "success_rate": self.success_rate,
            **{f"mean_{k}": self.mean_norm(k) for k in ("l0", "l1", "l2", "linf")},
            "passes": dict(self.passes), "seconds": self.seconds,
        }


class Attack(Component):
    """Base class of evasion attacks.

    Every attack accepts, besides its own parameters: ``targeted`` (bool), ``target``
    (``None`` or a rule ``'least_likely' | 'next' | 'random'``; a rule implies a targeted attack
    and picks the targets from the clean predictions), ``batch_size``, ``random_state`` and
    ``verbose`` (progress bar).
    """

    kind = "attack"
    _context_args: ClassVar[tuple[str, ...]] = ("classifier",)
    requires: ClassVar[frozenset[str]] = frozenset({"predict", "loss_gradient"})
    supports_targeted: ClassVar[bool] = True
    supports_untargeted: ClassVar[bool] = True
    #: names of the parameters holding the threat norm and budget (for checks and reports)
    norm_param: ClassVar[str | None] = "norm"
    eps_param: ClassVar[str | None] = "eps"
    #: True for one-step attacks (FGSM): an evaluation expects iterative attacks to beat them
    single_step: ClassVar[bool] = False

    @classmethod
    def threat_model(cls) -> str:
        """``"white-box"`` when the attack needs gradients, else ``"black-box"`` (decision/score based)."""
        return "white-box" if set(cls.requires) & {"loss_gradient", "class_gradient"} else "black-box"

    def __init__(self, classifier) -> None:
        check_capabilities(self, classifier)
        self.classifier = classifier

    def _init_params(self, local_vars: dict[str, Any]) -> None:
        """Store every declared parameter from ``locals()`` of ``__init__``, then validate."""
        for name in self.param_names():
            setattr(self, name, local_vars[name])
        self._checked_spec()            # validates, and keeps the result for the first generate()

    def _validate(self, params: dict[str, Any] | None = None) -> None:
        params = self.get_params() if params is None else params
        from feint._params import validate_params

        validate_params(type(self).__name__, {**COMMON_CONSTRAINTS, **self._parameter_constraints}, params)
        targeted = bool(params.get("targeted", False)) or params.get("target") is not None
        if targeted and not self.supports_targeted:
            raise InvalidParameterError(
                f"{type(self).__name__} is untargeted only; got targeted={params.get('targeted')!r}, "
                f"target={params.get('target')!r}.")
        if not targeted and not self.supports_untargeted:
            raise InvalidParameterError(
                f"{type(self).__name__} is a targeted attack: set targeted=True and pass target labels "
                "y, or set target='least_likely' | 'next' | 'random'.")
        self._check_params(params)

    # -- helpers for subclasses -----------------------------------------------------------------
    @property
    def is_targeted(self) -> bool:
        """True when the attack aims at given classes (``targeted=True`` or a ``target`` rule)."""
        return bool(getattr(self, "targeted", False)) or getattr(self, "target", None) is not None

    def budget(self) -> tuple[float, float] | None:
        """``(eps, norm)`` that bounds every perturbation, or None (minimal-norm attacks).

        The default reads the parameters named by ``eps_param`` and ``norm_param``.
        """
        if not self.eps_param or not self.norm_param:
            return None
        eps, norm = getattr(self, self.eps_param, None), getattr(self, self.norm_param, None)
        if eps is None or norm is None:
            return None
        from feint.norms import parse_norm

        return float(eps), parse_norm(norm)

    @property
    def clip_values(self):
        return self.classifier.clip_values

    def _clip(self, x: np.ndarray) -> np.ndarray:
        cv = self.classifier.clip_values
        return x if cv is None else np.clip(x, cv[0], cv[1]).astype(x.dtype, copy=False)

    def _predict(self, x: np.ndarray, logits: bool = False) -> np.ndarray:
        return self.classifier.predict(x, logits=logits, batch_size=max(len(x), 1))

    def _is_adversarial(self, preds: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per sample: the goal is reached by predictions ``preds`` (n, K) w.r.t. labels ``y``."""
        cls = preds.argmax(axis=1)
        return cls == y if self.is_targeted else cls != y

    # -- public API -----------------------------------------------------------------------------
    def generate(self, x, y=None, **params: Any) -> np.ndarray:
        """Return adversarial examples for ``x`` (paper 000 §5.1).

        Parameters
        ----------
        x : ndarray
            Inputs, inside the classifier's ``clip_values``; never modified.
        y : ndarray, optional
            Integer or one-hot labels.  Targeted: the target classes; with a ``target`` rule, the
            true classes the rule picks targets against (default: the predictions).  Untargeted:
            the labels to move away from; by default the classifier's predictions (avoids label
            leaking, §5.2).
        **params
            Attack parameters to set before running (the paper's convention: they stay set).
        """
        if params:
            self.set_params(**params)
        spec = self._checked_spec()
        x = self.classifier.check_x(x)
        n = x.shape[0]
        seed = make_seed(self.random_state)
        labels = self._resolve_labels(x, y, seed)
        self._last_labels = labels
        bs = int(self.batch_size)
        from feint.hooks import task

        out = np.empty_like(x)
        with task("attack", spec, total=max(1, -(-n // bs)), verbose=self.verbose) as t:
            for start in range(0, n, bs):
                sl = slice(start, min(n, start + bs))
                rng = SampleRandom(seed, np.arange(sl.start, sl.stop))
                # a batch gets an array of its own (one batch: check_x's copy is that already)
                adv = self._generate_batch(x if n <= bs else x[sl].copy(), labels[sl], rng)
                out[sl] = self._clip(np.asarray(adv, dtype=x.dtype))
                t.advance()
        return out

    def _checked_spec(self) -> str:
        """Validate the parameters and return the spec, both redone only when a parameter changed.

        The parameters validated last, with the spec written from them, are kept when every
        value is immutable (numbers, strings, ``None``, tuples of them, a ``Generator``): the next
        :meth:`generate` with the very same objects in every parameter (and the same classifier)
        skips both.  Assigning an attribute puts a new object there, so it is checked again;
        a mutable value (a dict, a list, an attack object) is checked on every call.  Validation
        and spec cost ~0.25 ms right after a model pass, a few percent of a fast attack.
        """
        params = self.get_params()
        memo = self.__dict__.get("_feint_checked")
        if (memo is not None and memo[0] is self.classifier and memo[1].keys() == params.keys()
                and all(a is b for a, b in zip(memo[1].values(), params.values()))):
            return memo[2]
        self.__dict__.pop("_feint_checked", None)
        self._validate(params)
        spec = self.spec()
        if all(map(_immutable, params.values())):
            self.__dict__["_feint_checked"] = (self.classifier, params, spec)
        return spec

    def _resolve_labels(self, x: np.ndarray, y, seed: int) -> np.ndarray:
        k = self.classifier.nb_classes
        if getattr(self, "target", None) is not None:
            # with a target rule, y (if given) holds the true classes the targets are chosen against
            true = None if y is None else to_indices(y, x.shape[0], k)
            probs = self.classifier.predict(x, batch_size=self.batch_size)
            rng = SampleRandom(seed + 1, np.arange(x.shape[0])) if self.target == "random" else None
            return target_labels(self.target, probs, rng, labels=true)
        if y is not None:
            return to_indices(y, x.shape[0], k)
        if self.is_targeted:
            raise InvalidInputError(
                f"{type(self).__name__} is targeted: pass the target classes as y, or set "
                "target='least_likely' | 'next' | 'random'.")
        return self.classifier.predict(x, batch_size=self.batch_size).argmax(axis=1).astype(np.int64)

    def run(self, x, y=None, **params: Any) -> AttackResult:
        """Run :meth:`generate` and return an :class:`AttackResult` (success, norms, cost)."""
        x_in = self.classifier.check_x(x)
        before = self.classifier.counts.copy()
        t0 = time.perf_counter()
        x_adv = self.generate(x_in, y, **params)
        seconds = time.perf_counter() - t0
        passes: PassCounter = self.classifier.counts - before
        preds = self.classifier.predict(x_adv, batch_size=self.batch_size)
        labels = self._last_labels
        success = self._is_adversarial(preds, labels)
        return AttackResult(x_adv=x_adv, success=success, y=labels, targeted=self.is_targeted,
                            norms=all_norms(x_adv - x_in), passes=passes.as_dict(), seconds=seconds,
                            attack=self._checked_spec(), predictions=preds)

    def _generate_batch(self, x: np.ndarray, y: np.ndarray, rng: SampleRandom) -> np.ndarray:
        """Attack one batch. ``y``: int labels (untargeted) or targets (targeted)."""
        raise NotImplementedError
