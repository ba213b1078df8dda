"""FGSM against closed forms on a linear model, and the minimal search."""

import numpy as np
import pytest

from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_attack_fgsm import FastGradientMethod


@pytest.fixture
def linear():
    clf = SoftmaxRegression((4,), 3, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(4, 3))
    clf.b = rng.normal(size=3)
    x = rng.uniform(-1, 1, (5, 4))
    return clf, x


def test_linf_step_is_sign_of_loss_gradient(linear):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    p = clf.predict(x)
    # dL/dx = W (p - e_y): the closed form of the cross-entropy gradient of a linear model
    grad = (p - np.eye(3)[y]) @ clf.W.T
    adv = FastGradientMethod(clf, eps=0.1).generate(x)
    np.testing.assert_allclose(adv - x, 0.1 * np.sign(grad), atol=1e-12)


def test_targeted_descends_target_loss(linear):
    clf, x = linear
    t = np.array([0, 1, 2, 0, 1])
    adv = FastGradientMethod(clf, eps=0.05, norm=2, targeted=True).generate(x, t)
    assert np.all(clf.loss(adv, t) < clf.loss(x, t))
    np.testing.assert_allclose(np.linalg.norm(adv - x, axis=1), 0.05, rtol=1e-9)


def test_minimal_finds_smallest_grid_eps(linear):
    clf, x = linear
    atk = FastGradientMethod(clf, minimal=True, eps_step=0.01, eps_max=5.0)
    res = atk.run(x)
    assert res.success.all()
    y0 = clf.predict(x).argmax(1)
    for i in range(len(x)):
        e = res.norms["linf"][i]
        # one grid step less does not fool the model
        smaller = FastGradientMethod(clf, eps=max(e - 0.01, 0.0)).generate(x[i:i + 1], y0[i:i + 1])
        assert clf.predict(smaller).argmax(1)[0] == y0[i]


def test_eps_step_above_eps_max_is_rejected(linear):
    clf, _ = linear
    with pytest.raises(InvalidParameterError, match="eps_step"):
        FastGradientMethod(clf, minimal=True, eps_step=2.0, eps_max=1.0)


def test_negative_eps_message(linear):
    clf, _ = linear
    msg = r"The 'eps' parameter of FastGradientMethod must be a float >= 0\. Got -0\.1 instead\."
    with pytest.raises(InvalidParameterError, match=msg):
        FastGradientMethod(clf, eps=-0.1)
