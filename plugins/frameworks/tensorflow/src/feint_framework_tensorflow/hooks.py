"""Hook implementations: adapt a raw TensorFlow 2 model (a ``tf.Module``) into a ``TensorFlowClassifier``."""

from __future__ import annotations

from feint.hooks import hookimpl


@hookimpl
def feint_adapt_model(model, kwargs):
    """Wrap ``tf.Module`` models; Keras models are left to the Keras plugin (checked without importing)."""
    modules = [cls.__module__.split(".")[0] for cls in type(model).__mro__]
    if "keras" in modules or "tensorflow" not in modules:
        return None
    from feint_framework_tensorflow.classifier import TensorFlowClassifier

    return TensorFlowClassifier(kwargs.pop("clip_values", None), model, **kwargs)
