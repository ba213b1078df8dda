"""Image layout helpers shared by image preprocessors (smoothing, JPEG, TVM).

One rule decides which axis of a batch holds the colour channels, so that every image defence
reads a batch the same way:

* ``channel_index`` given (the classifier fills it in): that axis; the other non-batch axes are
  spatial (one or two of them).
* ``channel_index=None``: a batch ``(n, d)`` is a batch of 1-D signals and ``(n, h, w)`` of
  single-channel images; for ``(n, a, b, c)`` the channel axis is whichever of axis 1 and axis 3
  has 1, 3 or 4 entries (axis 3, channels-last as in the paper's ``x_ijk``, when both do); when
  neither does the layout is ambiguous and an error asks for ``channel_index``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from feint.errors import InvalidInputError

__all__ = ["channel_axis", "to_nchw"]

_CHANNEL_SIZES = (1, 3, 4)


def channel_axis(shape: tuple[int, ...], channel_index: int | None = None, *,
                 owner: str = "this defence") -> int | None:
    """The axis of the colour channels in a batch of ``shape``, or None when it has none.

    Raises
    ------
    InvalidInputError
        When the batch is not 2-, 3- or 4-dimensional, ``channel_index`` is out of range, no
        spatial axis remains, or a 4-D layout is ambiguous and ``channel_index`` is None.
    """
    ndim = len(shape)
    if ndim not in (2, 3, 4):
        raise InvalidInputError(
            f"{owner} expects a batch of shape (n, d), (n, h, w) or (n, h, w, c) / (n, c, h, w). "
            f"Got shape {tuple(shape)} instead.")
    if channel_index is not None:
        axis = channel_index + ndim if channel_index < 0 else channel_index
        if not 1 <= axis < ndim:
            raise InvalidInputError(
                f"channel_index={channel_index} is not a non-batch axis of inputs of shape {tuple(shape)}.")
        if ndim == 2:
            raise InvalidInputError(
                f"{owner} needs at least one spatial axis besides the channel axis {axis}; inputs of shape "
                f"{tuple(shape)} have none. Pass channel_index=None for a batch of 1-D signals.")
        return axis
    if ndim < 4:
        return None
    candidates = [a for a in (3, 1) if shape[a] in _CHANNEL_SIZES]
    if not candidates:
        raise InvalidInputError(
            f"{owner} cannot tell which axis of inputs of shape {tuple(shape)} holds the colour channels; "
            "pass channel_index (1 for channels-first, 3 for channels-last).")
    return candidates[0]


def to_nchw(x: np.ndarray, channel_index: int | None = None, *,
            owner: str = "this defence") -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """View a batch as ``(n, c, h, w)`` and return it with the function that restores the layout.

    1-D signals become ``h = 1`` images and channel-less batches get ``c = 1``.  The returned
    array is a view where numpy allows it; callers must not write into it.
    """
    axis = channel_axis(x.shape, channel_index, owner=owner)
    if axis is None:
        v = x[:, None]
    else:
        v = np.moveaxis(x, axis, 1)
    one_d = v.ndim == 3
    if one_d:
        v = v[:, :, None]

    def restore(y: np.ndarray) -> np.ndarray:
        if one_d:
            y = y[:, :, 0]
        if axis is None:
            return y[:, 0]
        return np.moveaxis(y, 1, axis)

    return v, restore
