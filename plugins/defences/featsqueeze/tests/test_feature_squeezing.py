"""Equation 8 on hand-made arrays, any data range, and the paper's strings on a classifier."""

import numpy as np
import pytest

from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_defence_featsqueeze import FeatureSqueezing

U = np.array([[0.0, 0.1, 0.32, 0.34, 0.49, 0.5, 0.51, 0.66, 0.67, 0.999, 1.0]], dtype=np.float32)

# floor(u * (2^b - 1)) / (2^b - 1), worked out by hand
EXPECTED = {
    1: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    2: [0, 0, 0, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1],      # 3u: .96 1.02 ... 2.01 2.997
    3: [0, 0, 2 / 7, 2 / 7, 3 / 7, 3 / 7, 3 / 7, 4 / 7, 4 / 7, 6 / 7, 1],   # 7u: .7 2.24 2.38 ... 6.993
}


@pytest.mark.parametrize("b", sorted(EXPECTED))
def test_equation_8_on_unit_range(b):
    out = FeatureSqueezing(bit_depth=b)(U)
    np.testing.assert_allclose(out[0], EXPECTED[b], atol=1e-7)
    assert out.dtype == np.float32


@pytest.mark.parametrize("b", sorted(EXPECTED))
@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 255.0), (-0.5, 0.25)])
def test_equation_8_on_any_range(b, lo, hi):
    x = (lo + U.astype(np.float64) * (hi - lo)).astype(np.float32)
    out = FeatureSqueezing(bit_depth=b, clip_values=(lo, hi))(x)
    np.testing.assert_allclose(out[0], lo + np.array(EXPECTED[b]) * (hi - lo), atol=1e-5 * (hi - lo))


def test_eight_bits_keep_8bit_pixels_and_values_outside_are_clipped():
    pixels = np.arange(256, dtype=np.float32)[None] / 255
    np.testing.assert_array_equal(FeatureSqueezing(bit_depth=8)(pixels), pixels)
    x = np.array([[-0.5, 1.5, 300.0]], dtype=np.float32)
    np.testing.assert_array_equal(FeatureSqueezing(bit_depth=2, clip_values=(0, 255))(x), [[0.0, 0.0, 255.0]])


def test_nearest_rounding_is_xu_et_al_threshold():
    out = FeatureSqueezing(bit_depth=1, rounding="nearest")(U)
    np.testing.assert_array_equal(out[0], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])  # 0.5 rounds to even (0)


def test_paper_call_form_overrides_for_one_call_only():
    x = np.random.default_rng(0).random((50, 20)).astype(np.float32)
    fs = FeatureSqueezing()
    out = fs(x, bit_depth=1)
    assert set(np.unique(out)) <= {0.0, 1.0} and fs.bit_depth == 8


def test_integer_inputs_give_float32():
    out = FeatureSqueezing(bit_depth=1, clip_values=(0, 255))(np.array([[0, 128, 255]], dtype=np.uint8))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 0.0, 255.0]])


def test_invalid_parameters_and_inputs():
    with pytest.raises(InvalidParameterError, match=r"The 'bit_depth' parameter of FeatureSqueezing must be an int "
                                                    r"in the range \[1, 16\]\. Got 0 instead\."):
        FeatureSqueezing(bit_depth=0)
    with pytest.raises(InvalidParameterError, match="clip_values"):
        FeatureSqueezing(clip_values=(1, 0))
    with pytest.raises(InvalidInputError, match="numeric"):
        FeatureSqueezing()(np.array([["a"]]))


def test_classifier_fills_clip_values_and_gradient_is_straight_through():
    clf = SoftmaxRegression((4,), 3, clip_values=(-2.0, 2.0))
    clf.W = np.random.default_rng(0).normal(size=clf.W.shape).astype(np.float32)
    x = np.random.default_rng(1).uniform(-2, 2, (5, 4)).astype(np.float32)
    defended = clf.with_defences("featsqueeze2")
    (fs,) = defended.preprocessors
    assert fs.clip_values == (-2.0, 2.0) and FeatureSqueezing(bit_depth=2).clip_values is None
    squeezed = fs(x)
    levels = np.array([-2.0, -2 + 4 / 3, -2 + 8 / 3, 2.0], dtype=np.float32)
    assert np.isclose(squeezed[..., None], levels, atol=1e-6).any(axis=-1).all()
    np.testing.assert_allclose(defended.predict(x), clf.predict(squeezed), atol=1e-6)
    # BPDA: the defended gradient is the undefended gradient taken at the squeezed input
    y = np.array([0, 1, 2, 0, 1])
    np.testing.assert_allclose(defended.loss_gradient(x, y), clf.loss_gradient(squeezed, y), atol=1e-6)


def test_paper_string_on_the_digits_cnn(digits):
    clf, x, y = digits
    defended = clf.with_defences("featsqueeze5")
    (fs,) = defended.preprocessors
    assert isinstance(fs, FeatureSqueezing) and fs.bit_depth == 5 and fs.clip_values == (0.0, 1.0)
    assert (defended.predict(x).argmax(1) == y).mean() > 0.95
