"""The one exception hierarchy of feint; every public error is a :class:`FeintError`."""

from __future__ import annotations

__all__ = [
    "CapabilityError",
    "FeintError",
    "FeintPluginWarning",
    "IncompatiblePluginError",
    "InvalidInputError",
    "InvalidParameterError",
    "PluginLoadError",
    "SpecSyntaxError",
    "UnknownComponentError",
]


class FeintError(Exception):
    """Base class of every error feint raises on purpose."""


class InvalidParameterError(FeintError, ValueError, TypeError):
    """A parameter has a value outside its declared constraints (scikit-learn's double base)."""


class InvalidInputError(FeintError, ValueError):
    """An input array or label array has the wrong shape, dtype, range or format."""


class CapabilityError(FeintError, TypeError):
    """A component requires capabilities that the classifier does not provide."""

    def __init__(self, who: str, required, provided, classifier: str) -> None:
        self.required = frozenset(required)
        self.provided = frozenset(provided)
        missing = sorted(self.required - self.provided)
        super().__init__(
            f"{who} requires capabilities {sorted(self.required)}, but {classifier} provides "
            f"{sorted(self.provided)} (missing: {missing}). Use a classifier that provides them, "
            "or an attack that needs fewer (decision-based attacks need only 'predict')."
        )


class SpecSyntaxError(FeintError, ValueError):
    """A spec string does not follow the grammar; the message shows a caret under the fault."""

    def __init__(self, text: str, offset: int, reason: str) -> None:
        self.text = text
        self.offset = max(0, min(offset, len(text)))
        self.reason = reason
        super().__init__(f"invalid spec: {reason}\n  {text}\n  {' ' * self.offset}^")


class UnknownComponentError(FeintError, KeyError):
    """No component of this kind is registered under the name; suggests the closest names."""

    def __init__(self, kind: str, name: str, suggestions=(), install_hint: str | None = None) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = list(suggestions)
        msg = f"no {kind} named {name!r} is registered"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        else:
            msg += "."
        if install_hint:
            msg += f" It is provided by {install_hint} (pip install {install_hint})."
        else:
            msg += f" Run 'feint list --kind {kind}' to see what is installed."
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class PluginLoadError(FeintError, ImportError):
    """A registered plugin failed to import or to load; the cause is chained."""

    def __init__(self, message: str, *, dist: str | None = None, version: str | None = None,
                 entry_point: str | None = None) -> None:
        super().__init__(message)
        self.dist = dist
        self.version = version
        self.entry_point = entry_point


class IncompatiblePluginError(PluginLoadError):
    """A plugin's ``feint-core`` requirement excludes the running core; it is not loaded."""


class FeintPluginWarning(UserWarning):
    """One broken, duplicated or incompatible plugin, reported once while everything else works."""
