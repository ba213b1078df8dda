"""Hook implementations: adapt a raw ``torch.nn.Module`` into a ``PyTorchClassifier``."""

from __future__ import annotations

from feint.hooks import hookimpl


@hookimpl
def feint_adapt_model(model, kwargs):
    """Wrap torch modules; leave everything else to other plugins (checked without importing torch)."""
    if not type(model).__module__.split(".")[0] == "torch" and not _is_module(model):
        return None
    from feint_framework_torch.classifier import PyTorchClassifier

    return PyTorchClassifier(kwargs.pop("clip_values", None), model, **kwargs)


def _is_module(model) -> bool:
    import sys

    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)
