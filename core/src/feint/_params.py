"""Declared parameter constraints and the one validator that checks them (scikit-learn style).

A component declares ``_parameter_constraints = {"eps": [Real(0, None, "neither")], ...}``; each
entry is a list of alternatives, any of which may accept the value.  :func:`validate_params`
produces messages of one shape::

    The 'eps' parameter of FastGradientMethod must be a float > 0. Got -0.1 instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable

from feint.errors import InvalidParameterError

__all__ = [
    "Boolean",
    "Constraint",
    "Instance",
    "Integer",
    "NoneOk",
    "Options",
    "Real",
    "SpecOf",
    "Satisfies",
    "validate_params",
]


class Constraint:
    """One alternative a parameter value may satisfy."""

    description = "a valid value"

    def accepts(self, value) -> bool:
        raise NotImplementedError

    def invalid_example(self):
        """A value this constraint rejects (used by the contract kits), or ``None`` if none."""
        return None


def _bound_text(low, high, closed: str, kind: str) -> str:
    lo_in = closed in ("left", "both")
    hi_in = closed in ("right", "both")
    if low is not None and high is not None:
        return f"{kind} in the range {'[' if lo_in else '('}{low}, {high}{']' if hi_in else ')'}"
    if low is not None:
        return f"{kind} {'>=' if lo_in else '>'} {low}"
    if high is not None:
        return f"{kind} {'<=' if hi_in else '<'} {high}"
    return kind


class _Interval(Constraint):
    _kind = "a number"

    def __init__(self, low=None, high=None, closed: str = "both") -> None:
        if closed not in ("left", "right", "both", "neither"):
            raise ValueError(f"closed must be left/right/both/neither, got {closed!r}")
        self.low, self.high, self.closed = low, high, closed
        self.description = _bound_text(low, high, closed, self._kind)

    def _type_ok(self, value) -> bool:
        raise NotImplementedError

    def accepts(self, value) -> bool:
        if not self._type_ok(value):
            return False
        if isinstance(value, float) and math.isnan(value):
            return False
        lo_in = self.closed in ("left", "both")
        hi_in = self.closed in ("right", "both")
        if self.low is not None and (value < self.low or (value == self.low and not lo_in)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not hi_in)):
            return False
        return True

    def invalid_example(self):
        if self.low is not None:
            return self.low - 1
        if self.high is not None:
            return self.high + 1
        return "not-a-number"


class Real(_Interval):
    """A real number (int or float, not bool) within optional bounds."""

    _kind = "a float"

    def _type_ok(self, value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)


class Integer(_Interval):
    """An integer (not bool) within optional bounds."""

    _kind = "an int"

    def _type_ok(self, value) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class Boolean(Constraint):
    """``True`` or ``False`` (numpy bools too)."""

    description = "a bool"

    def accepts(self, value) -> bool:
        return isinstance(value, bool) or type(value).__name__ == "bool_"

    def invalid_example(self):
        return "yes"


class Options(Constraint):
    """One of a fixed set of values, compared with ``==`` (``inf`` matches ``np.inf``)."""

    def __init__(self, options: Iterable) -> None:
        self.options = tuple(options)
        shown = ", ".join("inf" if o == math.inf else repr(o) for o in self.options)
        self.description = f"one of {{{shown}}}"

    def accepts(self, value) -> bool:
        try:
            return any(value == o and type(value) is not bool for o in self.options) or (
                isinstance(value, bool) and value in [o for o in self.options if isinstance(o, bool)])
        except Exception:  # noqa: BLE001 - arrays and odd objects are simply not options
            return False

    def invalid_example(self):
        return "__invalid__"


class NoneOk(Constraint):
    """``None``."""

    description = "None"

    def accepts(self, value) -> bool:
        return value is None


class Instance(Constraint):
    """An instance of the given type(s)."""

    def __init__(self, *types: type, description: str | None = None) -> None:
        self.types = types
        self.description = description or "an instance of " + " or ".join(t.__name__ for t in types)

    def accepts(self, value) -> bool:
        return isinstance(value, self.types)

    def invalid_example(self):
        return object()


class Satisfies(Constraint):
    """Any value for which ``predicate(value)`` is true, described in words."""

    def __init__(self, predicate: Callable[[object], bool], description: str, invalid=None) -> None:
        self.predicate = predicate
        self.description = description
        self._invalid = invalid

    def accepts(self, value) -> bool:
        try:
            return bool(self.predicate(value))
        except Exception:  # noqa: BLE001
            return False

    def invalid_example(self):
        return self._invalid


class SpecOf(Constraint):
    """A spec string, class or instance of a registered component of ``kind``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.description = f"a {kind} spec string, class or instance"

    def accepts(self, value) -> bool:
        return isinstance(value, str) or isinstance(value, type) or hasattr(value, "get_params")

    def invalid_example(self):
        return 3.5


def describe(constraints: list[Constraint]) -> str:
    parts = [c.description for c in constraints]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def show_value(value) -> str:
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_params(owner: str, constraints: dict[str, list[Constraint]], params: dict) -> None:
    """Check every constrained parameter in ``params``; raise on the first that fails.

    Raises
    ------
    InvalidParameterError
        ``The '<name>' parameter of <owner> must be <description>. Got <value> instead.``
    """
    for name, value in params.items():
        alternatives = constraints.get(name)
        if not alternatives:
            continue
        if any(c.accepts(value) for c in alternatives):
            continue
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} must be {describe(alternatives)}. "
            f"Got {show_value(value)} instead."
        )
