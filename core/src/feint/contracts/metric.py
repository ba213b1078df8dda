"""A metric function bound to parameters, created from a spec such as ``clever_u(r=5)``."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from feint.contracts.component import format_value

__all__ = ["BoundMetric"]


class BoundMetric:
    """A metric with its parameters; call it with ``(classifier, x, **overrides)``."""

    kind = "metric"

    def __init__(self, func: Callable, name: str, params: dict[str, Any]) -> None:
        self.func = func
        self.name = name
        self.params = dict(params)
        sig = inspect.signature(func)
        names = list(sig.parameters)
        unknown = [k for k in self.params if k not in names[2:]] if not any(
            p.kind == p.VAR_KEYWORD for p in sig.parameters.values()) else []
        if unknown:
            from feint.errors import InvalidParameterError

            raise InvalidParameterError(
                f"Metric {name!r} has no parameter(s) {unknown}. Expected some of {names[2:]}.")

    def __call__(self, classifier, x, **overrides: Any):
        return self.func(classifier, x, **{**self.params, **overrides})

    def get_params(self) -> dict[str, Any]:
        return dict(self.params)

    def spec(self) -> str:
        if not self.params:
            return self.name
        return self.name + "(" + ", ".join(f"{k}={format_value(v)}" for k, v in self.params.items()) + ")"

    __str__ = spec

    def __repr__(self) -> str:
        return f"BoundMetric<{self.spec()}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoundMetric) and other.func is self.func and other.params == self.params

    __hash__ = object.__hash__
