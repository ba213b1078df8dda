"""The ``FeatureSqueezing`` preprocessor (paper 000 §6.3, equation 8, on any data range)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from feint import Preprocessor
from feint._params import Integer, NoneOk, Options, Satisfies
from feint.errors import InvalidInputError

__all__ = ["FeatureSqueezing", "squeeze"]

_F32_EPS = float(np.finfo(np.float32).eps)


def _is_range(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and math.isfinite(b)
                    for b in v) and v[0] < v[1])


def squeeze(x: np.ndarray, bit_depth: int, clip_values=(0.0, 1.0), rounding: str = "floor") -> np.ndarray:
    """Reduce every component of ``x`` to ``2**bit_depth`` levels spread over ``clip_values``.

    ``u = (x - lo) / (hi - lo)`` clipped to [0, 1], ``u <- floor(u * (2^b - 1)) / (2^b - 1)``
    (equation 8; ``rounding="nearest"`` rounds instead of flooring, as Xu et al.'s code does), then
    back to ``lo + u * (hi - lo)``.  The arithmetic runs in float64 and the result has ``x``'s
    dtype (float32 for integer inputs).  A tolerance of a few float32 units in the last place,
    measured in grid steps, is added before flooring so that values already on the grid stay
    where they are (``k / (2^b - 1)`` stored in float32 may read back as ``k - 1e-5`` steps).
    """
    lo, hi = float(clip_values[0]), float(clip_values[1])
    levels = float(2 ** int(bit_depth) - 1)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
    u = np.clip((x.astype(np.float64) - lo) / (hi - lo), 0.0, 1.0) * levels
    if rounding == "floor":
        tol = min(1e-2, max(1e-9, 8 * _F32_EPS * levels * max(1.0, abs(lo), abs(hi)) / (hi - lo)))
        q = np.floor(u + tol)
    else:
        q = np.rint(u)
    return (lo + (q / levels) * (hi - lo)).astype(out_dtype)


class FeatureSqueezing(Preprocessor):
    """Feature squeezing: encode every input component on ``bit_depth`` bits (equation 8).

    Each component is mapped to one of ``2**bit_depth`` evenly spaced levels of the data range
    ``clip_values = (lo, hi)``: ``x <- lo + (hi - lo) * floor(u (2^b - 1)) / (2^b - 1)`` with
    ``u = (x - lo) / (hi - lo)``.  On ``(0, 1)`` this is the paper's equation 8 exactly; other
    ranges are the paper's announced "future implementation" (values outside the range are
    clipped to it first).  Inside a classifier, ``clip_values=None`` is filled in from the
    classifier; on its own it means ``(0, 1)``.

    Applied at fit and predict time.  Gradient rule: straight-through (BPDA, Athalye et al.
    2018): the squeezing is piecewise constant, so the identity stands in for its Jacobian and
    attacks on a squeezed classifier stay adaptive.

    Spec: ``featsqueeze`` (8 bits), ``featsqueeze5`` (the paper's compact form),
    ``featsqueeze(bit_depth=3, clip_values=(-1, 1))``.

    Parameters
    ----------
    bit_depth : int, default 8
        The bit depth b, 1 to 16 (float32 data carries no more precision than that).
    clip_values : (float, float) or None, default None
        Data range; None takes the classifier's, or (0, 1) when used on its own.
    rounding : {"floor", "nearest"}, default "floor"
        ``"floor"`` is equation 8; ``"nearest"`` rounds to the nearest level, as in Xu et al.'s
        reference code (1 bit then means a threshold at the middle of the range).

    References
    ----------
    Xu, Evans & Qi, "Feature squeezing: detecting adversarial examples in deep neural networks",
    NDSS 2018.  Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.3.
    """

    name: ClassVar[str] = "featsqueeze"
    apply_fit = True
    apply_predict = True
    gradient_rule = "straight-through"
    _parameter_constraints: ClassVar[dict] = {
        "bit_depth": [Integer(1, 16)],
        "clip_values": [Satisfies(_is_range, "a (min, max) pair of finite numbers with min < max", (1, 0)),
                        NoneOk()],
        "rounding": [Options(("floor", "nearest"))],
    }

    def __init__(self, bit_depth: int = 8, clip_values=None, rounding: str = "floor") -> None:
        self.bit_depth = bit_depth
        self.clip_values = tuple(clip_values) if isinstance(clip_values, list) else clip_values
        self.rounding = rounding
        self._validate()

    def transform(self, x, y=None):
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise InvalidInputError(f"FeatureSqueezing expects numeric inputs. Got dtype {x.dtype} instead.")
        clip = self.clip_values if self.clip_values is not None else (0.0, 1.0)
        return squeeze(x, self.bit_depth, clip, self.rounding), y
