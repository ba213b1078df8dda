"""NewtonFool against its closed-form step on a linear model, its termination, cost and strength."""

import numpy as np
import pytest

from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_attack_newtonfool import NewtonFool


@pytest.fixture
def linear():
    clf = SoftmaxRegression((6,), 4, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(3)
    clf.W = rng.normal(size=(6, 4))
    clf.b = rng.normal(size=4)
    return clf, rng.uniform(-1, 1, (30, 6))


def newton_step(clf, x, x0, y, eta):
    """Equation (7) by hand: grad F_y = F_y (w_y - sum_j F_j w_j) for a linear softmax model."""
    p = clf.predict(x)
    py = p[np.arange(len(x)), y]
    grad = py[:, None] * (clf.W.T[y] - p @ clf.W.T)
    gn = np.linalg.norm(grad, axis=1)
    delta = np.minimum(eta * np.linalg.norm(x0, axis=1) * gn, py - 1 / clf.nb_classes)
    return x - (delta / gn**2)[:, None] * grad


@pytest.mark.parametrize("eta", [0.01, 0.3])
def test_one_iteration_is_equation_7(linear, eta):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    adv = NewtonFool(clf, max_iter=1, eta=eta).generate(x, y)
    np.testing.assert_allclose(adv, newton_step(clf, x, x, y, eta), atol=1e-12)


def test_iterations_follow_equation_7_until_misclassified(linear):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    expected, active = x.copy(), np.ones(len(x), bool)
    for _ in range(3):
        active &= clf.predict(expected).argmax(1) == y
        expected[active] = newton_step(clf, expected[active], x[active], y[active], 0.1)
    np.testing.assert_allclose(NewtonFool(clf, max_iter=3, eta=0.1).generate(x, y), expected, atol=1e-12)


def test_step_is_capped_by_eta(linear):
    clf, x = linear
    adv = NewtonFool(clf, max_iter=1, eta=0.01).generate(x)
    assert np.all(np.linalg.norm(adv - x, axis=1) <= 0.01 * np.linalg.norm(x, axis=1) * (1 + 1e-9))


def test_max_iter_and_active_masks(linear):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    clf.reset_counts()
    NewtonFool(clf, max_iter=2, eta=0.001).generate(x, y)
    # tiny steps: nobody is fooled, so both iterations run on every sample, and a third pass
    # (the probabilities after the last step, with the gradient of the same forward) is not made
    assert clf.counts.backward_samples == 2 * len(x) and clf.counts.forward_samples == 2 * len(x)
    wrong = (y + 1) % 4
    clf.reset_counts()
    adv = NewtonFool(clf).generate(x, wrong)
    np.testing.assert_array_equal(adv, x)                  # already misclassified: untouched after one pass
    assert clf.counts.as_dict() == {"forward": 1, "backward": 1, "forward_samples": len(x), "backward_samples": len(x)}


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    res = NewtonFool(clf, verbose=False).run(x, y)
    assert res.success_rate >= 0.95, res.summary()
    assert res.passes["backward_samples"] < 100 * len(x)   # samples stop once fooled


def test_invalid_parameters(linear):
    clf, _ = linear
    with pytest.raises(InvalidParameterError, match=r"'eta' parameter of NewtonFool must be a float > 0. Got 0"):
        NewtonFool(clf, eta=0)
    with pytest.raises(InvalidParameterError, match="untargeted only"):
        NewtonFool(clf, target="next")
