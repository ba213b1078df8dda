"""Against scipy.ndimage.median_filter and a brute-force reading of the paper's border rule."""

import numpy as np
import pytest
from scipy import ndimage

from feint.errors import InvalidInputError
from feint.testing import SoftmaxRegression
from feint_defence_spatial_smoothing import SpatialSmoothing


def brute_force(img: np.ndarray, w: int) -> np.ndarray:
    """Median over offsets -w//2 .. w-1-w//2 with the paper's reflection x_0 = x_1, x_-1 = x_2, ..."""
    h, wd = img.shape

    def at(i, j):
        def refl(k, n):        # 0-based form of the paper's rule (edge sample repeated)
            while k < 0 or k >= n:
                k = -k - 1 if k < 0 else 2 * n - 1 - k
            return k
        return img[refl(i, h), refl(j, wd)]

    lo, hi = -(w // 2), w - 1 - w // 2
    out = np.empty_like(img)
    for i in range(h):
        for j in range(wd):
            vals = [at(i + a, j + b) for a in range(lo, hi + 1) for b in range(lo, hi + 1)]
            out[i, j] = np.sort(vals)[len(vals) // 2]         # even windows: the upper of the two middle values
    return out


@pytest.mark.parametrize("w", [1, 2, 3, 4, 5])
def test_paper_border_rule_is_scipy_reflect(w):
    img = np.random.default_rng(w).random((6, 5))
    out = SpatialSmoothing(window_size=w)(img[None])[0]
    np.testing.assert_array_equal(out, brute_force(img, w))
    np.testing.assert_array_equal(out, ndimage.median_filter(img, size=w, mode="reflect"))


@pytest.mark.parametrize("layout", ["last", "first"])
@pytest.mark.parametrize("w", [2, 3])
def test_each_channel_of_each_image_is_filtered_alone(layout, w):
    x = np.random.default_rng(0).random((3, 7, 6, 3)).astype(np.float32)
    ref = np.stack([np.stack([ndimage.median_filter(x[n, :, :, c], size=w, mode="reflect") for c in range(3)], -1)
                    for n in range(3)])
    if layout == "first":
        x, ref = x.transpose(0, 3, 1, 2), ref.transpose(0, 3, 1, 2)
    out = SpatialSmoothing(window_size=w, channel_index=1 if layout == "first" else 3)(x)
    np.testing.assert_array_equal(out, ref)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    # inferred layout: 3 channels on one side only
    np.testing.assert_array_equal(SpatialSmoothing(window_size=w)(x), ref)


def test_one_d_signals_and_the_papers_example():
    x = np.random.default_rng(0).random((50, 20))
    out = SpatialSmoothing()(x, window_size=5)
    np.testing.assert_array_equal(out, ndimage.median_filter(x, size=(1, 5), mode="reflect"))


def test_salt_and_pepper_pixel_is_removed():
    img = np.full((1, 1, 8, 8), 0.5, np.float32)
    img[0, 0, 3, 4] = 1.0
    np.testing.assert_array_equal(SpatialSmoothing(channel_index=1)(img), np.full_like(img, 0.5))


def test_layout_rule():
    from feint.images import channel_axis, to_nchw

    assert channel_axis((5, 20)) is None and channel_axis((5, 8, 8)) is None
    assert channel_axis((5, 8, 8, 3)) == 3 and channel_axis((5, 3, 8, 8)) == 1 and channel_axis((5, 1, 8, 1)) == 3
    assert channel_axis((5, 8, 8, 3), channel_index=1) == 1 and channel_axis((5, 8, 8, 3), channel_index=-1) == 3
    x = np.random.default_rng(0).random((2, 5, 4, 3))
    v, restore = to_nchw(x, 3)
    assert v.shape == (2, 3, 5, 4)
    np.testing.assert_array_equal(restore(v), x)
    v1, restore1 = to_nchw(x[:, :, 0, 0])
    assert v1.shape == (2, 1, 1, 5)
    np.testing.assert_array_equal(restore1(v1), x[:, :, 0, 0])


def test_ambiguous_layout_and_bad_inputs_are_errors():
    with pytest.raises(InvalidInputError, match="pass channel_index"):
        SpatialSmoothing()(np.zeros((2, 8, 8, 8)))
    with pytest.raises(InvalidInputError, match="not a non-batch axis"):
        SpatialSmoothing(channel_index=4)(np.zeros((2, 8, 8, 1)))
    with pytest.raises(InvalidInputError, match="shape"):
        SpatialSmoothing()(np.zeros((2, 3, 4, 4, 4)))


def test_classifier_channel_index_and_straight_through_gradient():
    clf = SoftmaxRegression((2, 5, 5), 3)
    clf.channel_index = 1
    clf.W = np.random.default_rng(0).normal(size=clf.W.shape).astype(np.float32)
    defended = clf.with_defences("smooth")
    (sm,) = defended.preprocessors
    assert sm.channel_index == 1
    x = np.random.default_rng(1).random((4, 2, 5, 5)).astype(np.float32)
    smoothed = sm(x)
    np.testing.assert_allclose(defended.predict(x), clf.predict(smoothed), atol=1e-6)
    np.testing.assert_allclose(defended.loss_gradient(x, [0, 1, 2, 0]), clf.loss_gradient(smoothed, [0, 1, 2, 0]),
                               atol=1e-6)
    # applied at predict time only: fit sees the raw inputs
    assert not sm.apply_fit and sm.apply_predict


@pytest.mark.parametrize("defences", ["smooth", ["smooth"], "featsqueeze5+smooth", ["featsqueeze5", "smooth"],
                                      ["labsmooth", "smooth"], ["featsqueeze5", "label_smooth", "smooth"]])
def test_paper_strings_and_lists_on_the_digits_cnn(digits, defences):
    pytest.importorskip("feint_defence_featsqueeze")
    pytest.importorskip("feint_defence_label_smoothing")
    from feint_defence_featsqueeze import FeatureSqueezing

    clf, x, y = digits
    defended = clf.with_defences(defences)
    names = [type(p).__name__ for p in defended.preprocessors]
    assert names[-1] == "SpatialSmoothing" and defended.preprocessors[-1].channel_index == 1
    xt = x
    for p in defended.preprocessors:
        if p.apply_predict:
            xt = p(xt)
    if isinstance(defended.preprocessors[0], FeatureSqueezing):
        assert defended.preprocessors[0].bit_depth == 5
    np.testing.assert_allclose(defended.predict(x), clf.predict(xt), atol=1e-6)
    assert (defended.predict(x).argmax(1) == y).mean() > 0.8      # 3x3 median on 8x8 digits costs ~12 points
