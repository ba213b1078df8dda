"""The ``SpatialSmoothing`` preprocessor (paper 000 §6.5)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy import ndimage

from feint import Preprocessor
from feint._params import Integer, NoneOk
from feint.errors import InvalidInputError
from feint.images import to_nchw

__all__ = ["SpatialSmoothing", "median_smooth"]


def median_smooth(x: np.ndarray, window_size: int, channel_index: int | None = None) -> np.ndarray:
    """Median-filter every channel of every image of the batch ``x`` with a ``w x w`` window.

    Borders are reflected with the edge sample repeated (``d c b a | a b c d | d c b a``), the
    paper's rule ``x_0 = x_1, x_-1 = x_2, ...``, which is ``scipy.ndimage``'s ``mode="reflect"``.
    One call filters the whole batch (window of extent 1 along the batch and channel axes).
    """
    v, restore = to_nchw(x, channel_index, owner="SpatialSmoothing")
    size = (1, 1, 1 if v.shape[2] == 1 else window_size, window_size)
    return np.ascontiguousarray(restore(ndimage.median_filter(v, size=size, mode="reflect")))


class SpatialSmoothing(Preprocessor):
    """Spatial smoothing: replace each pixel by the median of its ``w x w`` neighbourhood, per channel.

    The window covers offsets ``-floor(w/2) ... w - 1 - floor(w/2)`` around each pixel along
    both spatial axes: centred for odd ``w`` (the paper's printed upper bound
    ``i + floor(w/2) - 1`` would leave an odd window one pixel short, so we read it as the
    centred window of Xu et al. and ART's code), and exactly the paper's range for even ``w``,
    where the median of the ``w * w`` values is the upper of the two middle ones (scipy's rank).
    Borders are reflected as in the paper (``x_0 = x_1``, ``x_-1 = x_2``; scipy's
    ``mode="reflect"``).  Channels are filtered separately; ``channel_index`` is filled in by the
    classifier, or inferred on its own by :func:`feint.images.channel_axis`.  A batch ``(n, d)``
    is filtered as 1-D signals (window ``w``), as in the paper's example.

    Applied at predict time only (the paper: "when the predict function is called").
    Gradient rule: straight-through (BPDA): the median is piecewise linear in its inputs but
    selects a different pixel whenever the order changes, so the identity stands in for it.

    Spec: ``spatial_smoothing``, ``smooth``, ``smooth(window_size=2)``.

    Parameters
    ----------
    window_size : int, default 3
        The window size w >= 1 (1 is the identity).
    channel_index : int or None, default None
        Axis of the colour channels in a batch; None takes the classifier's, or infers it.

    References
    ----------
    Xu, Evans & Qi, "Feature squeezing: detecting adversarial examples in deep neural networks",
    NDSS 2018.  Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.5.
    """

    name: ClassVar[str] = "spatial_smoothing"
    apply_fit = False
    apply_predict = True
    gradient_rule = "straight-through"
    _parameter_constraints: ClassVar[dict] = {
        "window_size": [Integer(1, None)],
        "channel_index": [Integer(), NoneOk()],
    }

    def __init__(self, window_size: int = 3, channel_index: int | None = None) -> None:
        self.window_size = window_size
        self.channel_index = channel_index
        self._validate()

    def transform(self, x, y=None):
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise InvalidInputError(f"SpatialSmoothing expects numeric inputs. Got dtype {x.dtype} instead.")
        if x.shape[0] == 0 or self.window_size == 1:
            return x.copy(), y
        return median_smooth(x, int(self.window_size), self.channel_index), y
