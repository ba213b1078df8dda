"""Hook implementations: adapt a raw Keras 3 model into a ``KerasClassifier``."""

from __future__ import annotations

from feint.hooks import hookimpl


def is_keras_model(model) -> bool:
    """True if ``model`` is a Keras layer or model, decided from class modules (imports nothing)."""
    return any(cls.__module__.split(".")[0] == "keras" for cls in type(model).__mro__)


@hookimpl
def feint_adapt_model(model, kwargs):
    """Wrap Keras 3 models (on any backend); leave everything else to other plugins."""
    if not is_keras_model(model):
        return None
    from feint_framework_keras.classifier import KerasClassifier

    return KerasClassifier(kwargs.pop("clip_values", None), model, **kwargs)
