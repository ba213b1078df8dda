"""Preprocessors with known gradient rules, for testing how a classifier applies defences.

``RoundingSqueeze`` (straight-through) and ``AffineShrink`` (exact, predict time only) stand in for
real defences in adapter tests, so the adapter's handling of chains, phases and gradient rules is
checked without depending on the defence plugins.  :func:`registered` registers them under the
names ``testsqueeze`` (compact form ``testsqueeze<n>``) and ``testaffine`` for the duration of a
``with`` block.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from feint.contracts.preprocessor import Preprocessor

__all__ = ["AffineShrink", "RoundingSqueeze", "registered"]


class RoundingSqueeze(Preprocessor):
    """Round to ``2**bit_depth - 1`` levels in [0, 1] (a feature-squeezing stand-in, straight-through)."""

    name = "testsqueeze"
    gradient_rule = "straight-through"

    def __init__(self, bit_depth: int = 4) -> None:
        self.bit_depth = bit_depth

    def transform(self, x, y=None):
        x = np.asarray(x)
        levels = 2 ** self.bit_depth - 1
        return (np.round(x * levels) / levels).astype(x.dtype), y


class AffineShrink(Preprocessor):
    """``x -> 0.5 + 0.5 (x - 0.5)`` at predict time, with its exact gradient."""

    name = "testaffine"
    gradient_rule = "exact"
    apply_fit = False
    scale = 0.5

    def transform(self, x, y=None):
        x = np.asarray(x)
        return (0.5 + self.scale * (x - 0.5)).astype(x.dtype), y

    def estimate_gradient(self, x, grad):
        return self.scale * grad


@contextmanager
def registered():
    """Register ``testsqueeze`` and ``testaffine`` in the default registry; yield the two classes."""
    from feint.registry import default_registry

    reg = default_registry()
    reg.register("defence", "testsqueeze", RoundingSqueeze, suffix_param="bit_depth", replace=True)
    reg.register("defence", "testaffine", AffineShrink, replace=True)
    try:
        yield RoundingSqueeze, AffineShrink
    finally:
        reg.unregister("defence", "testsqueeze")
        reg.unregister("defence", "testaffine")
