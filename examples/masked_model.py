"""A deliberately gradient-masked model for the honest-evaluation example (``masked.toml``).

The digits CNN behind a binarisation step *inside* the model: ``round(x)``, whose gradient is zero
almost everywhere.  Gradient attacks see no signal and the model looks robust; the sanity checks
of ``feint evaluate`` flag it, and ``masked_bpda.toml`` shows the same function evaluated as a
preprocessing defence (``featsqueeze(bit_depth=1, rounding='nearest')``) with a straight-through
(BPDA) gradient, which breaks it.
"""

from __future__ import annotations


def masked_digits_cnn():
    """The cached digits CNN with ``round(x)`` inside its forward pass, as a PyTorchClassifier."""
    import torch

    from feint_framework_torch import PyTorchClassifier
    from feint_framework_torch.testing import digits_cnn

    base, _, _ = digits_cnn()

    class Binarised(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net(torch.round(x))

    return PyTorchClassifier((0.0, 1.0), Binarised(base.model), input_shape=(1, 8, 8), nb_classes=10)
