"""The paper's values, rows summing to 1, fit-time application and the paper's strings."""

import numpy as np
import pytest

from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_defence_label_smoothing import LabelSmoothing


@pytest.mark.parametrize("k, max_value", [(10, 0.9), (3, 0.8), (2, 0.6), (5, 1.0)])
def test_one_hot_rows_get_the_papers_values(k, max_value):
    labels = np.array([0, k - 1, 1, 1])
    y = np.eye(k, dtype=np.float32)[labels]
    x = np.zeros((4, 2), np.float32)
    x2, ys = LabelSmoothing(max_value=max_value)(x, y)
    assert x2 is x or np.array_equal(x2, x)
    expected = np.full((4, k), (1 - max_value) / (k - 1))
    expected[np.arange(4), labels] = max_value
    np.testing.assert_allclose(ys, expected, atol=1e-7)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-6)
    assert ys.dtype == np.float32


def test_default_is_0_9_on_ten_classes():
    ys = LabelSmoothing()(np.zeros((1, 1)), np.eye(10)[[3]])[1]
    np.testing.assert_allclose(ys[0], [1 / 90] * 3 + [0.9] + [1 / 90] * 6)


def test_soft_rows_stay_normalised():
    y = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    ys = LabelSmoothing(max_value=0.7)(np.zeros((2, 1)), y)[1]
    np.testing.assert_allclose(ys.sum(axis=1), 1.0)
    np.testing.assert_allclose(ys[0], 0.15 + 0.55 * y[0])


def test_without_labels_returns_x():
    x = np.random.default_rng(0).random((50, 20))
    out = LabelSmoothing()(x, max_value=0.8)     # the paper's example: x back, unchanged
    np.testing.assert_array_equal(out, x)


def test_bad_labels_and_parameters():
    with pytest.raises(InvalidInputError, match="one-hot labels of shape"):
        LabelSmoothing()(np.zeros((3, 1)), np.array([0, 1, 2]))
    with pytest.raises(InvalidInputError, match="row sums"):
        LabelSmoothing()(np.zeros((2, 1)), np.array([[1.0, 1.0], [0.0, 0.0]]))
    with pytest.raises(InvalidParameterError, match=r"'max_value' parameter of LabelSmoothing must be a float in "
                                                    r"the range \[0, 1\]\. Got 1\.5 instead"):
        LabelSmoothing(max_value=1.5)


class _Recorder(SoftmaxRegression):
    def _fit(self, x, targets, batch_size, nb_epochs, **kwargs):
        self.seen = targets


@pytest.mark.parametrize("spec", ["labsmooth", "label_smooth", ["labsmooth"]])
def test_classifier_applies_it_at_fit_only(spec):
    clf = _Recorder((4,), 3, defences=spec)
    x = np.random.default_rng(0).random((5, 4)).astype(np.float32)
    clf.fit(x, np.array([0, 1, 2, 2, 1]), nb_epochs=1)
    np.testing.assert_allclose(clf.seen[0], [0.9, 0.05, 0.05], atol=1e-7)
    np.testing.assert_allclose(clf.predict(x), clf.without_defences().predict(x))
    np.testing.assert_allclose(clf.loss_gradient(x, [0] * 5), clf.without_defences().loss_gradient(x, [0] * 5))


def test_paper_strings_train_the_digits_cnn(digits):
    from feint_framework_torch.testing import digits_cnn

    _, x, y = digits
    probs = {}
    for defences in (None, "label_smooth"):
        fresh, (x_tr, y_tr), _ = digits_cnn(train=False, defences=defences)     # same seeded initial weights
        fresh.fit(x_tr, y_tr, batch_size=64, nb_epochs=5, random_state=0)
        probs[defences] = fresh.predict(x)
        assert (probs[defences].argmax(1) == y).mean() > 0.85
    # smoothed targets (0.9 / 0.011) give clearly softer outputs than one-hot targets
    assert probs["label_smooth"].max(axis=1).mean() < probs[None].max(axis=1).mean() - 0.05
