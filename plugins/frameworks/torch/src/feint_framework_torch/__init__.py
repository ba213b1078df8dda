"""feint plugin: the PyTorch classifier adapter.  Importing this package does not import torch."""

__version__ = "0.3.2"


def __getattr__(name):
    if name == "PyTorchClassifier":
        from feint_framework_torch.classifier import PyTorchClassifier

        return PyTorchClassifier
    raise AttributeError(name)
