"""The base of every registered component: parameters, validation, canonical spec and equality."""

from __future__ import annotations

import inspect
import math
from typing import Any, ClassVar

from feint._params import Constraint, validate_params
from feint.errors import InvalidParameterError

__all__ = ["Component", "format_value"]


def format_value(value: Any) -> str:
    """Write a parameter value as a spec literal that :mod:`feint.spec` reads back."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # numpy scalar
        return format_value(value.item())
    if isinstance(value, (int, str)):
        return repr(value)
    if isinstance(value, tuple):
        inner = ", ".join(format_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Component):
        return repr(str(value))
    if isinstance(value, type) and getattr(value, "name", None):
        return repr(value.name)
    return f"<{type(value).__name__}>"


def _equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if hasattr(a, "shape") and hasattr(b, "shape"):
        import numpy as np

        return a.shape == b.shape and bool(np.all(a == b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False


class Component:
    """Base class for attacks, defences, trainers, detectors and classifiers.

    Subclasses store their keyword parameters as attributes of the same name in ``__init__``
    and declare constraints in ``_parameter_constraints``.  Parameters are the ``__init__``
    arguments after the ones listed in ``_context_args`` (for an attack: ``classifier``).

    Attributes
    ----------
    name : str
        Registry name; set by the plugin (equal to its entry-point name).
    kind : str
        ``"attack"``, ``"defence"``, ``"framework"`` or ``"metric"``.
    """

    name: ClassVar[str | None] = None
    kind: ClassVar[str] = "component"
    _context_args: ClassVar[tuple[str, ...]] = ()
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    # -- parameters ---------------------------------------------------------------------------
    @classmethod
    def _param_signature(cls) -> list[inspect.Parameter]:
        # cached per class (in the class's own __dict__, so a subclass never sees its parent's):
        # inspect.signature costs ~0.1 ms, and spec()/get_params() run on every generate()
        cached = cls.__dict__.get("_feint_param_signature")
        if cached is None or cached[0] is not cls.__init__:
            sig = inspect.signature(cls.__init__)
            out = tuple(p for p in list(sig.parameters.values())[1:]
                        if p.name not in cls._context_args and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
            cached = (cls.__init__, out)
            type.__setattr__(cls, "_feint_param_signature", cached)
        return list(cached[1])

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the component's parameters, in signature order."""
        return [p.name for p in cls._param_signature()]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Default value of each parameter (``inspect.Parameter.empty`` where none)."""
        return {p.name: p.default for p in cls._param_signature()}

    def get_params(self) -> dict[str, Any]:
        """Return the parameters as a dict, in signature order."""
        return {n: getattr(self, n) for n in self.param_names()}

    def set_params(self, **params: Any) -> bool:
        """Set parameters after validating them; return ``True`` (the paper's contract).

        Unlike ART 0.2.2, an invalid value raises :class:`~feint.errors.InvalidParameterError`
        (naming the value and what was expected) instead of returning ``False``.
        """
        known = set(self.param_names())
        unknown = sorted(set(params) - known)
        if unknown:
            raise InvalidParameterError(
                f"{type(self).__name__} has no parameter(s) {unknown}. "
                f"Expected one of {sorted(known)}."
            )
        merged = {**self.get_params(), **params}
        self._validate(merged)
        for key, value in params.items():
            setattr(self, key, value)
        return True

    def _validate(self, params: dict[str, Any] | None = None) -> None:
        """Validate parameters against the declared constraints, then :meth:`_check_params`."""
        params = self.get_params() if params is None else params
        validate_params(type(self).__name__, self._parameter_constraints, params)
        self._check_params(params)

    def _check_params(self, params: dict[str, Any]) -> None:
        """Cross-parameter checks a subclass needs beyond single-value constraints."""

    # -- spec and equality --------------------------------------------------------------------
    def changed_params(self) -> dict[str, Any]:
        """Parameters that differ from their defaults."""
        defaults = self.param_defaults()
        return {k: v for k, v in self.get_params().items()
                if defaults.get(k, inspect.Parameter.empty) is inspect.Parameter.empty
                or not _equal(v, defaults[k])}

    def spec(self) -> str:
        """Canonical spec string: registry name and changed parameters."""
        name = type(self).name or type(self).__name__
        changed = self.changed_params()
        if not changed:
            return name
        return name + "(" + ", ".join(f"{k}={format_value(v)}" for k, v in changed.items()) + ")"

    def __str__(self) -> str:
        return self.spec()

    def __repr__(self) -> str:
        return f"{type(self).__name__}<{self.spec()}>"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        a, b = self.get_params(), other.get_params()  # type: ignore[attr-defined]
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)

    __hash__ = object.__hash__
