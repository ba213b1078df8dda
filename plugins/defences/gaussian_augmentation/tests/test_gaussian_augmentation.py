"""Sizes, label order, noise statistics, clipping, seeds and fit-time use."""

import numpy as np
import pytest

from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_defence_gaussian_augmentation import GaussianAugmentation


@pytest.mark.parametrize("n, ratio, extra", [(10, 1.0, 10), (10, 0.5, 5), (10, 2.0, 20), (10, 2.3, 23), (7, 0.1, 1)])
def test_sizes_and_label_order(n, ratio, extra):
    x = np.arange(n, dtype=np.float32)[:, None].repeat(3, axis=1)      # sample i is all i
    y = np.eye(n, dtype=np.float32)                                    # label i is e_i
    ax, ay = GaussianAugmentation(sigma=0.01, ratio=ratio, random_state=0)(x, y)
    assert ax.shape == (n + extra, 3) and ay.shape == (n + extra, n)
    np.testing.assert_array_equal(ax[:n], x)
    np.testing.assert_array_equal(ay[:n], y)
    source = ay[n:].argmax(axis=1)                 # each copy carries the label of the sample it came from
    np.testing.assert_allclose(ax[n:], x[source], atol=0.1)
    counts = np.bincount(source, minlength=n)
    assert counts.max() - counts.min() <= 1        # copies spread evenly: floor(ratio) or one more each


def test_ratio_one_doubles_with_one_copy_each_in_order():
    x = np.random.default_rng(0).random((100, 4)).astype(np.float32)
    ax = GaussianAugmentation(sigma=0.3, random_state=0)(x)
    assert not isinstance(ax, tuple) and ax.shape == (200, 4)
    noise = ax[100:] - x
    assert abs(noise.std() - 0.3) < 0.02 and abs(noise.mean()) < 0.02


def test_clipping_only_when_asked_and_inside_a_classifier():
    x = np.full((500, 2), 0.5, np.float32)
    free = GaussianAugmentation(sigma=1.0, random_state=0)(x)
    assert free.min() < 0 and free.max() > 1                  # on its own: unclipped, as the paper
    clipped = GaussianAugmentation(sigma=1.0, clip_values=(0.0, 1.0), random_state=0)(x)
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    clf = SoftmaxRegression((2,), 2, defences="gaussian_augmentation")
    assert clf.preprocessors[0].clip_values == (0.0, 1.0)


def test_same_seed_same_sequence_and_new_noise_each_call():
    x = np.zeros((4, 3), np.float32)
    a, b = GaussianAugmentation(random_state=5), GaussianAugmentation(random_state=5)
    first_a, first_b = a(x), b(x)
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(a(x), first_a)


def test_bad_inputs_and_parameters():
    with pytest.raises(InvalidParameterError, match="'ratio' parameter of GaussianAugmentation must be a float > 0"):
        GaussianAugmentation(ratio=0)
    with pytest.raises(InvalidParameterError, match="'sigma'"):
        GaussianAugmentation(sigma=-1)
    with pytest.raises(InvalidInputError, match="3 inputs but 2 labels"):
        GaussianAugmentation()(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match="floating-point"):
        GaussianAugmentation()(np.zeros((3, 2), dtype=np.int64))


class _Recorder(SoftmaxRegression):
    def _fit(self, x, targets, batch_size, nb_epochs, **kwargs):
        self.seen = (x, targets)


def test_classifier_fits_on_the_augmented_set_and_predicts_on_raw_inputs():
    clf = _Recorder((3,), 3, defences="gaussian_augmentation(sigma=0.05, ratio=1.5, random_state=0)")
    x = np.random.default_rng(0).uniform(0.2, 0.8, (6, 3)).astype(np.float32)
    clf.fit(x, [0, 1, 2, 0, 1, 2], nb_epochs=1)
    xs, ts = clf.seen
    assert xs.shape == (15, 3) and ts.shape == (15, 3)
    np.testing.assert_allclose(xs[6:12], x, atol=0.3)          # first copies, in order
    np.testing.assert_array_equal(ts[6:12].argmax(1), [0, 1, 2, 0, 1, 2])
    np.testing.assert_allclose(clf.predict(x), clf.without_defences().predict(x))
