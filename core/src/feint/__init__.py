"""feint: adversarial robustness for machine-learning models, as a plugin ecosystem.

``import feint`` is cheap and imports no framework: the contracts, the registry functions and
the facades (``feint.attacks``, ``feint.defences``, ``feint.classifiers``, ``feint.metrics``)
are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feint._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from feint.contracts.attack import Attack, AttackResult
    from feint.contracts.classifier import Classifier
    from feint.contracts.detector import Detector
    from feint.contracts.preprocessor import Preprocessor, PreprocessorChain
    from feint.contracts.trainer import Trainer
    from feint.registry import Registry

__all__ = [
    "Attack", "AttackResult", "Classifier", "Detector", "Preprocessor", "PreprocessorChain",
    "Registry", "Trainer", "__version__", "check_evaluation", "classifier", "create", "hookimpl", "info", "list",
    "load", "prefer", "register",
]

_LAZY = {
    "Attack": ("feint.contracts.attack", "Attack"),
    "AttackResult": ("feint.contracts.attack", "AttackResult"),
    "Classifier": ("feint.contracts.classifier", "Classifier"),
    "Detector": ("feint.contracts.detector", "Detector"),
    "Preprocessor": ("feint.contracts.preprocessor", "Preprocessor"),
    "PreprocessorChain": ("feint.contracts.preprocessor", "PreprocessorChain"),
    "Trainer": ("feint.contracts.trainer", "Trainer"),
    "Registry": ("feint.registry", "Registry"),
    "hookimpl": ("feint.hooks", "hookimpl"),
    "check_evaluation": ("feint.sanity", "check_evaluation"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'feint' has no attribute {name!r}")


def _reg():
    from feint.registry import default_registry

    return default_registry()


def list(kind: str | None = None, pattern: str = "*") -> list[str]:  # noqa: A001 - the paper-style API
    """Names of registered components of ``kind`` (all kinds if None) matching an fnmatch pattern.

    Reads installed metadata only; imports no plugin.
    """
    return _reg().names(kind, pattern)


def info(name_or_spec: str, kind: str | None = None) -> dict[str, Any]:
    """Distribution, version, summary, parameters with defaults, aliases and needs of one component."""
    return _reg().info(name_or_spec, kind)


def load(kind: str, name: str) -> Any:
    """The class or function registered as ``name`` (imports that one plugin)."""
    return _reg().load(kind, name)


def create(kind: str, spec: Any, *args: Any, **kwargs: Any) -> Any:
    """Create a component from a spec string (``"pgd(eps=8/255, norm=inf)"``), class or instance.

    Positional arguments go to the constructor (an attack's classifier); keyword arguments
    override the spec's.
    """
    return _reg().create(kind, spec, *args, **kwargs)


def register(kind: str, name: str, obj: Any, **kwargs: Any):
    """Register a component in process, without packaging a plugin (see ``Registry.register``)."""
    return _reg().register(kind, name, obj, **kwargs)


def prefer(kind: str, name: str, dist: str) -> None:
    """Pick which distribution provides ``name`` when several register it."""
    _reg().prefer(kind, name, dist)


def evaluate(config: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Run an evaluation pipeline (``feint evaluate``) and return its report dict.

    ``config`` is a dict, a TOML file path or TOML text; ``None`` runs the built-in default.
    Keyword arguments: ``out``, ``quiet``, ``resume``, ``samples`` (see :mod:`feint.pipeline`).
    Raises :class:`feint.pipeline.ConfigError` listing every problem before any work starts.
    """
    from feint.pipeline import evaluate as _evaluate

    return _evaluate(config, **kwargs)


def classifier(model: Any, **kwargs: Any):
    """Wrap a raw model (``torch.nn.Module``, Keras model...) in the matching classifier adapter.

    Asks the framework plugins through the ``feint_adapt_model`` hook, loading their hook
    modules; raises :class:`~feint.errors.UnknownComponentError` if none recognises the model.
    """
    from feint.hooks import get_plugin_manager

    _reg()
    result = get_plugin_manager().hook.feint_adapt_model(model=model, kwargs=kwargs)
    if result is None:
        from feint.errors import UnknownComponentError

        raise UnknownComponentError(
            "framework", type(model).__module__ + "." + type(model).__qualname__,
            install_hint=None)
    return result
