"""Hook implementations: adapt a raw ``torch.nn.Module`` into a ``PyTorchClassifier``."""

from __future__ import annotations

from feint.hooks import hookimpl


@hookimpl
def feint_adapt_model(model, kwargs):
    """Wrap torch modules; leave everything else to other plugins (checked without importing torch).

    A Keras 3 model on the torch backend is also a ``torch.nn.Module``, but takes channels-last
    input and Keras's call conventions: it is declined here and left to the Keras plugin.
    """
    roots = {cls.__module__.split(".")[0] for cls in type(model).__mro__}
    if "keras" in roots:
        return None
    if "torch" not in roots and not _is_module(model):
        return None
    from feint_framework_torch.classifier import PyTorchClassifier

    return PyTorchClassifier(kwargs.pop("clip_values", None), model, **kwargs)


def _is_module(model) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)
