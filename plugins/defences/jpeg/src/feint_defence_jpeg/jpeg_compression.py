"""The ``JpegCompression`` preprocessor (Dziugaite et al. 2016; paper 004 §2)."""

from __future__ import annotations

import io
import math
from typing import ClassVar

import numpy as np

from feint import Preprocessor
from feint._params import Integer, NoneOk, Satisfies
from feint.errors import InvalidInputError
from feint.images import to_nchw

__all__ = ["JpegCompression", "jpeg_roundtrip"]

_MOSAIC_SIDE = 8192          # largest side of a greyscale mosaic, in pixels (JPEG allows 65535)


def _is_range(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and math.isfinite(b)
                    for b in v) and v[0] < v[1])


def _codec(image: np.ndarray, quality: int) -> np.ndarray:
    """One encode/decode of a uint8 image ``(h, w)`` or ``(h, w, 3)`` by Pillow, in memory."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as dec:
        return np.asarray(dec.convert("L" if image.ndim == 2 else "RGB"))


def _grey_mosaic(images: np.ndarray, quality: int) -> np.ndarray:
    """Greyscale images ``(n, h, w)`` through the codec as one mosaic, cut back into images.

    Each image is padded by edge replication to whole 8x8 blocks (what libjpeg does to a lone
    image's partial blocks) and the padded images are tiled, so every JPEG block holds pixels of
    one image only.  Greyscale JPEG codes blocks independently (the differential coding of the
    DC terms is lossless), so the result is bit-identical to one codec call per image
    (``tests/test_jpeg.py`` checks this) at a fraction of the per-call overhead.
    """
    n, h, w = images.shape
    hp, wp = -(-h // 8) * 8, -(-w // 8) * 8
    per_chunk = max(1, (_MOSAIC_SIDE // max(hp, wp)) ** 2)
    out = np.empty_like(images)
    for start in range(0, n, per_chunk):
        block = images[start:start + per_chunk]
        k = len(block)
        cols = int(math.ceil(math.sqrt(k)))
        rows = -(-k // cols)
        tiles = np.zeros((rows * cols, hp, wp), dtype=np.uint8)
        tiles[:k] = np.pad(block, ((0, 0), (0, hp - h), (0, wp - w)), mode="edge")
        mosaic = tiles.reshape(rows, cols, hp, wp).swapaxes(1, 2).reshape(rows * hp, cols * wp)
        back = _codec(mosaic, quality).reshape(rows, hp, cols, wp).swapaxes(1, 2).reshape(rows * cols, hp, wp)
        out[start:start + k] = back[:k, :h, :w]
    return out


def jpeg_roundtrip(images: np.ndarray, quality: int) -> np.ndarray:
    """Encode and decode ``(n, c, h, w)`` uint8 images (c = 1 or 3) with Pillow's JPEG codec.

    Greyscale images go through the codec tiled in mosaics (bit-identical to one call per
    image, see :func:`_grey_mosaic`); colour images one call per image, since chroma
    upsampling at decode time reads across block boundaries.
    """
    if images.shape[1] == 1:
        return _grey_mosaic(images[:, 0], quality)[:, None]
    out = np.empty_like(images)
    for i, img in enumerate(images):
        out[i] = _codec(np.ascontiguousarray(img.transpose(1, 2, 0)), quality).transpose(2, 0, 1)
    return out


class JpegCompression(Preprocessor):
    """JPEG compression: encode and decode every image with a real JPEG codec at a given quality.

    Each image is mapped from ``clip_values = (lo, hi)`` to 8-bit pixels
    (``round(255 (x - lo) / (hi - lo))``, clipped to 0..255), compressed and decompressed in
    memory by Pillow (libjpeg: greyscale ``L`` for one channel, ``RGB`` for three with Pillow's
    default 4:2:0 chroma subsampling), and mapped back to the data range.  Any range works:
    inside a classifier ``clip_values=None`` takes the classifier's, on its own it means
    ``(0, 1)``.  ``channel_index`` is filled in by the
    classifier or inferred (:func:`feint.images.channel_axis`); batches ``(n, h, w)`` are
    greyscale images.  Only 1 or 3 channels can be encoded.

    Applied at predict time only.  Gradient rule: straight-through (BPDA): quantisation makes
    the codec piecewise constant, so the identity stands in for its Jacobian.

    Spec: ``jpeg``, ``jpeg(quality=75)``, ``smooth+jpeg(quality=75)``.

    Parameters
    ----------
    quality : int, default 50
        JPEG quality, 1 (smallest, worst) to 95 (Pillow advises against higher values).
    channel_index : int or None, default None
        Axis of the colour channels; None takes the classifier's, or infers it.
    clip_values : (float, float) or None, default None
        Data range; None takes the classifier's, or (0, 1) on its own.

    Cost: greyscale batches go through the codec as mosaics of whole 8x8 blocks, bit-identical
    to one call per image; colour images take one codec call each (Pillow has no batch API).

    References
    ----------
    Dziugaite, Ghahramani & Roy, "A study of the effect of JPG compression on adversarial
    images", arXiv:1608.00853, 2016.  Jankovic & Mayer, "An empirical evaluation of adversarial
    examples defences, combinations and robustness scores", 2022, §2.
    """

    name: ClassVar[str] = "jpeg"
    apply_fit = False
    apply_predict = True
    gradient_rule = "straight-through"
    _parameter_constraints: ClassVar[dict] = {
        "quality": [Integer(1, 95)],
        "channel_index": [Integer(), NoneOk()],
        "clip_values": [Satisfies(_is_range, "a (min, max) pair of finite numbers with min < max", (1, 0)),
                        NoneOk()],
    }

    def __init__(self, quality: int = 50, channel_index: int | None = None, clip_values=None) -> None:
        self.quality = quality
        self.channel_index = channel_index
        self.clip_values = tuple(clip_values) if isinstance(clip_values, list) else clip_values
        self._validate()

    def transform(self, x, y=None):
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise InvalidInputError(f"JpegCompression expects numeric inputs. Got dtype {x.dtype} instead.")
        v, restore = to_nchw(x, self.channel_index, owner="JpegCompression")
        if v.shape[1] not in (1, 3):
            raise InvalidInputError(
                f"JpegCompression encodes images with 1 or 3 channels; inputs of shape {x.shape} have "
                f"{v.shape[1]} along the channel axis. Set channel_index if the layout was misread.")
        lo, hi = self.clip_values if self.clip_values is not None else (0.0, 1.0)
        lo, hi = float(lo), float(hi)
        pixels = np.clip(np.rint((v.astype(np.float64) - lo) * (255.0 / (hi - lo))), 0, 255).astype(np.uint8)
        decoded = jpeg_roundtrip(pixels, self.quality) if len(pixels) else pixels
        out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float32)
        back = (lo + decoded.astype(np.float64) * ((hi - lo) / 255.0)).astype(out_dtype)
        return np.ascontiguousarray(restore(back)), y
