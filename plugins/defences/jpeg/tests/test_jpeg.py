"""Round trips through Pillow's codec: constants, quality, colour, ranges, mosaics."""

import io

import numpy as np
import pytest
from PIL import Image

from feint.errors import InvalidInputError, InvalidParameterError
from feint_defence_jpeg import JpegCompression
from feint_defence_jpeg.jpeg_compression import jpeg_roundtrip


def smooth_images(n, h, w, c=None, seed=0):
    """Natural-looking test images: low-frequency blobs plus a little texture, in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    shape = (n, h, w) if c is None else (n, h, w, c)
    base = np.zeros(shape)
    for _ in range(4):
        f = rng.uniform(1, 4, size=2)
        ph = rng.uniform(0, 6, size=(n, 1, 1) + (() if c is None else (1,)))
        wave = np.sin(2 * np.pi * (f[0] * yy + f[1] * xx))
        base += (wave[None] if c is None else wave[None, ..., None]) * np.cos(ph)
    base += 0.1 * rng.standard_normal(shape)
    return ((base - base.min()) / (base.max() - base.min())).astype(np.float32)


@pytest.mark.parametrize("value", [0.0, 0.2, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("quality, tol", [(5, 12), (50, 1.5), (95, 1.5)])
def test_constant_image_stays_constant(value, quality, tol):
    x = np.full((2, 1, 16, 16), value, np.float32)
    out = JpegCompression(quality=quality, channel_index=1)(x)
    assert out.max() - out.min() <= 1 / 255 + 1e-7           # still constant
    # only the DC term survives; its quantisation step grows as the quality drops (about 20 levels at 5)
    assert np.abs(out - value).max() <= tol / 255


def test_error_decreases_with_quality():
    x = smooth_images(8, 32, 32)
    errors = [np.abs(JpegCompression(quality=q)(x) - x).mean() for q in (5, 10, 25, 50, 75, 90, 95)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 0.02 < errors[0]


def test_greyscale_mosaic_is_bit_identical_to_one_codec_call_per_image():
    rng = np.random.default_rng(0)
    for shape in [(30, 1, 8, 8), (11, 1, 7, 13), (5, 1, 28, 28)]:
        pixels = (rng.random(shape) * 255).astype(np.uint8)
        for q in (10, 75):
            single = []
            for img in pixels[:, 0]:
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="JPEG", quality=q)
                single.append(np.asarray(Image.open(io.BytesIO(buf.getvalue()))))
            np.testing.assert_array_equal(jpeg_roundtrip(pixels, q)[:, 0], np.stack(single))


def test_colour_images_channels_last_and_first_agree():
    x = smooth_images(3, 24, 16, c=3)
    last = JpegCompression(quality=60)(x)                                   # inferred: 3 channels last
    first = JpegCompression(quality=60, channel_index=1)(x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(last, first.transpose(0, 2, 3, 1))
    assert 0 < np.abs(last - x).mean() < 0.05


def test_any_range_is_the_unit_range_rescaled():
    x = smooth_images(4, 16, 16)
    unit = JpegCompression(quality=30)(x)
    shifted = JpegCompression(quality=30, clip_values=(-1.0, 3.0))(x * 4 - 1)
    np.testing.assert_allclose(shifted, unit * 4 - 1, atol=1e-5)
    assert shifted.min() >= -1 and shifted.max() <= 3


def test_output_is_eight_bit_levels_and_dtype_is_kept():
    x = smooth_images(2, 8, 8).astype(np.float64)
    out = JpegCompression()(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out * 255, np.rint(out * 255), atol=1e-9)


def test_errors():
    with pytest.raises(InvalidInputError, match="1 or 3 channels"):
        JpegCompression(channel_index=1)(np.zeros((2, 2, 8, 8), np.float32))
    with pytest.raises(InvalidParameterError, match=r"'quality' parameter of JpegCompression must be an int in the "
                                                    r"range \[1, 95\]\. Got 0 instead"):
        JpegCompression(quality=0)


def test_classifier_fills_layout_and_range_and_gradient_is_straight_through(digits):
    clf, x, y = digits
    defended = clf.with_defences("jpeg(quality=75)")
    (jp,) = defended.preprocessors
    assert jp.channel_index == 1 and jp.clip_values == (0.0, 1.0)
    xs = x[:20]
    np.testing.assert_allclose(defended.predict(xs), clf.predict(jp(xs)), atol=1e-6)
    np.testing.assert_allclose(defended.loss_gradient(xs, y[:20]), clf.loss_gradient(jp(xs), y[:20]), atol=1e-6)
    assert (defended.predict(x).argmax(1) == y).mean() > 0.95
