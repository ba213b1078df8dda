"""The ``Preprocessor`` contract (paper 000 §6.2) and chains of preprocessors.

A preprocessor transforms inputs and/or labels at fit and/or predict time, and states how
gradients pass through it (``gradient_rule``): ``"exact"`` where it is differentiable and
:meth:`estimate_gradient` returns the true vector-Jacobian product, ``"straight-through"``
(BPDA, Athalye et al. 2018) where it is not and the identity is used instead.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import numpy as np

from feint.contracts.component import Component

__all__ = ["Preprocessor", "PreprocessorChain"]


class Preprocessor(Component):
    """Base class of preprocessing defences.

    Class attributes a subclass sets: ``apply_fit``, ``apply_predict`` (when a classifier applies
    it), ``gradient_rule`` (``"exact"`` or ``"straight-through"``), ``randomised`` (draws random
    numbers per call: EOT applies), ``modifies_labels`` and ``changes_count`` (Gaussian
    augmentation adds samples).
    """

    kind = "defence"
    apply_fit: ClassVar[bool] = True
    apply_predict: ClassVar[bool] = True
    gradient_rule: ClassVar[str] = "straight-through"
    randomised: ClassVar[bool] = False
    modifies_labels: ClassVar[bool] = False
    changes_count: ClassVar[bool] = False

    def __call__(self, x, y=None, **params: Any):
        """Apply the transformation (the paper's call form).

        Parameters given here override the instance's for this call only.  Returns ``x`` alone
        when ``y`` is None, else ``(x, y)``.
        """
        target = self
        if params:
            target = copy.copy(self)
            target.set_params(**params)
        else:
            self._validate()
        x_out, y_out = target.transform(np.asarray(x), None if y is None else np.asarray(y))
        return x_out if y is None else (x_out, y_out)

    def transform(self, x: np.ndarray, y: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Return the transformed ``(x, y)``; never modifies its arguments."""
        raise NotImplementedError

    def estimate_gradient(self, x: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Map a gradient w.r.t. the output to one w.r.t. the input ``x``.

        The default is straight-through (BPDA): the identity.
        """
        return grad

    def fit(self, x, y=None, **kwargs: Any) -> Preprocessor:
        """Fit data-dependent parameters (none for most preprocessors); returns self."""
        return self

    @property
    def is_fitted(self) -> bool:
        return True

    def for_classifier(self, classifier) -> Preprocessor:
        """The preprocessor to use inside ``classifier``: fills in context parameters
        (``clip_values``, ``channel_index``) left at None, on a copy; the default is ``self``."""
        context = {}
        for key in ("clip_values", "channel_index"):
            if key in self.param_names() and getattr(self, key) is None and getattr(classifier, key, None) is not None:
                context[key] = getattr(classifier, key)
        if not context:
            return self
        clone = copy.copy(self)
        for k, v in context.items():
            setattr(clone, k, v)
        return clone

    def __add__(self, other: Preprocessor) -> PreprocessorChain:
        return PreprocessorChain([self, other])


class PreprocessorChain(Preprocessor):
    """Several preprocessors applied in order; itself a preprocessor (spec ``a+b+c``).

    Each step keeps its own ``apply_fit``/``apply_predict``: a classifier applies the steps that
    apply to the current phase.  Gradients go back through every step's rule in reverse order.
    """

    name = "chain"

    def __init__(self, steps) -> None:
        self.steps = list(steps)
        for s in self.steps:
            if not isinstance(s, Preprocessor):
                from feint.errors import InvalidParameterError

                raise InvalidParameterError(
                    f"The 'steps' of a PreprocessorChain must be Preprocessors. Got {s!r} instead.")

    @property
    def apply_fit(self) -> bool:  # type: ignore[override]
        return any(s.apply_fit for s in self.steps)

    @property
    def apply_predict(self) -> bool:  # type: ignore[override]
        return any(s.apply_predict for s in self.steps)

    @property
    def randomised(self) -> bool:  # type: ignore[override]
        return any(s.randomised for s in self.steps)

    @property
    def modifies_labels(self) -> bool:  # type: ignore[override]
        return any(s.modifies_labels for s in self.steps)

    @property
    def changes_count(self) -> bool:  # type: ignore[override]
        return any(s.changes_count for s in self.steps)

    @property
    def gradient_rule(self) -> str:  # type: ignore[override]
        rules = {s.gradient_rule for s in self.steps}
        return rules.pop() if len(rules) == 1 else "mixed"

    def transform(self, x, y=None):
        trace = []
        for s in self.steps:
            trace.append(x)
            x, y = s.transform(x, y)
        self._last_trace = trace
        return x, y

    def estimate_gradient(self, x, grad):
        inputs = []
        cur = x
        for s in self.steps:
            inputs.append(cur)
            cur, _ = s.transform(cur, None)
        for s, x_in in reversed(list(zip(self.steps, inputs))):
            grad = s.estimate_gradient(x_in, grad)
        return grad

    def for_classifier(self, classifier) -> PreprocessorChain:
        return PreprocessorChain([s.for_classifier(classifier) for s in self.steps])

    def get_params(self) -> dict[str, Any]:
        return {"steps": self.steps}

    def spec(self) -> str:
        return "+".join(s.spec() for s in self.steps)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PreprocessorChain) and self.steps == other.steps

    __hash__ = object.__hash__

    def __add__(self, other: Preprocessor) -> PreprocessorChain:
        return PreprocessorChain(self.steps + (other.steps if isinstance(other, PreprocessorChain) else [other]))
