"""feint plugin: the Keras 3 classifier adapter.  Importing this package does not import keras."""

__version__ = "0.2.1"


def __getattr__(name):
    if name == "KerasClassifier":
        from feint_framework_keras.classifier import KerasClassifier

        return KerasClassifier
    raise AttributeError(name)
