"""feint plugin: TensorFlow classifier adapters (TF2 and the session-style TFClassifier).

Importing this package does not import tensorflow.
"""

__version__ = "0.1.1"

_LAZY = {"TensorFlowClassifier": "feint_framework_tensorflow.classifier",
         "TFClassifier": "feint_framework_tensorflow.session"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
