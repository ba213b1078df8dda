"""Loss sensitivity on a linear model equals the mean gradient norm in closed form."""

import numpy as np
import pytest

from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_metric_loss_sensitivity import loss_sensitivity


@pytest.fixture
def linear():
    clf = SoftmaxRegression((5,), 3, dtype="float64")
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(5, 3))
    clf.b = rng.normal(size=3)
    return clf, rng.uniform(0, 1, (20, 5))


def test_logit_gradient_norm_is_the_weight_norm_of_the_predicted_class(linear):
    clf, x = linear
    c = (x @ clf.W + clf.b).argmax(1)
    expected = np.mean(np.linalg.norm(clf.W[:, c], axis=0))
    assert loss_sensitivity(clf, x) == pytest.approx(expected, rel=1e-12)


def test_loss_gradient_variant(linear):
    clf, x = linear
    z = x @ clf.W + clf.b
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = np.array([0, 1, 2, 0, 1] * 4)
    expected = np.mean(np.linalg.norm((p - np.eye(3)[y]) @ clf.W.T, axis=1))
    assert loss_sensitivity(clf, x, gradient="loss", y=y) == pytest.approx(expected, rel=1e-12)


def test_bad_gradient_name(linear):
    clf, x = linear
    with pytest.raises(InvalidParameterError, match="'gradient'.*Got 'logits'"):
        loss_sensitivity(clf, x, gradient="logits")


@pytest.mark.parametrize("gradient", ["logit", "loss"])
def test_one_pass_each_way_and_the_same_value_without_output_gradient(linear, gradient):
    from feint.testing import without_native_output_gradient

    clf, x = linear
    pred = (x @ clf.W + clf.b).argmax(1)
    clf.reset_counts()
    value = loss_sensitivity(clf, x, gradient=gradient)
    assert (clf.counts.forward, clf.counts.backward) == (1, 1)          # prediction and gradient share a pass
    slow = without_native_output_gradient(clf)
    assert value == pytest.approx(loss_sensitivity(slow, x, gradient=gradient), rel=1e-12)
    if gradient == "loss":                                               # y=None means the predictions
        assert value == pytest.approx(loss_sensitivity(clf, x, gradient="loss", y=pred), rel=1e-12)
