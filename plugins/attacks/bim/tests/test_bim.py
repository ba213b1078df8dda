"""BIM against closed forms on a linear model, its cost, and its strength on the digits CNN."""

import numpy as np
import pytest

import feint
from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_attack_bim import BasicIterativeMethod


@pytest.fixture
def linear():
    clf = SoftmaxRegression((6,), 3, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(1)
    clf.W = rng.normal(size=(6, 3))
    clf.b = rng.normal(size=3)
    return clf, rng.uniform(-1, 1, (8, 6))


def fgsm_closed_form(clf, x, y, eps, norm):
    """x + eps * direction of grad L(x, y) = W (p - e_y) for a linear softmax model."""
    grad = (clf.predict(x) - np.eye(clf.nb_classes)[y]) @ clf.W.T
    if norm == np.inf:
        d = np.sign(grad)
    else:
        d = grad / np.linalg.norm(grad, ord=norm, axis=1, keepdims=True)
    return x + eps * d


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_one_iteration_of_full_step_is_fgsm(linear, norm):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    adv = BasicIterativeMethod(clf, norm=norm, eps=0.3, eps_step=0.3, max_iter=1).generate(x)
    np.testing.assert_allclose(adv, fgsm_closed_form(clf, x, y, 0.3, norm), atol=1e-9)


def test_one_iteration_equals_the_fgsm_plugin(linear):
    pytest.importorskip("feint_attack_fgsm")
    clf, x = linear
    for norm in (np.inf, 2, 1):
        bim = BasicIterativeMethod(clf, norm=norm, eps=0.2, eps_step=0.2, max_iter=1).generate(x)
        fgsm = feint.create("attack", "fgsm", clf, norm=norm, eps=0.2).generate(x)
        np.testing.assert_allclose(bim, fgsm, atol=1e-9)


def test_iterations_are_projected_onto_the_ball(linear):
    clf, x = linear
    for norm in (np.inf, 2, 1):
        adv = BasicIterativeMethod(clf, norm=norm, eps=0.25, eps_step=0.1, max_iter=7).generate(x)
        n = np.linalg.norm(adv - x, ord=norm, axis=1)
        # 7 steps of 0.1 would reach 0.7: the budget binds exactly
        np.testing.assert_allclose(n, 0.25, rtol=1e-6)


def test_targeted_descends_the_target_loss(linear):
    clf, x = linear
    t = (clf.predict(x).argmax(1) + 1) % 3
    adv = BasicIterativeMethod(clf, eps=0.5, eps_step=0.05, max_iter=10, targeted=True).generate(x, t)
    assert np.all(clf.loss(adv, t) < clf.loss(x, t))


def test_no_early_stop_every_iteration_costs_one_gradient(linear):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    clf.reset_counts()
    BasicIterativeMethod(clf, eps=5.0, eps_step=1.0, max_iter=6).generate(x, y)
    # the attack succeeds after the first steps, yet all 6 iterations run for all 8 samples
    assert clf.counts.backward_samples == 6 * len(x)
    assert clf.counts.forward_samples == 6 * len(x)


def test_invalid_parameters_name_the_value(linear):
    clf, _ = linear
    with pytest.raises(InvalidParameterError, match=r"'max_iter' parameter of BasicIterativeMethod .* Got 0"):
        BasicIterativeMethod(clf, max_iter=0)
    with pytest.raises(InvalidParameterError, match=r"'eps_step'.*Got -1"):
        BasicIterativeMethod(clf, eps_step=-1)


def test_registry_and_facade():
    assert feint.load("attack", "bim") is BasicIterativeMethod
    from feint.attacks import BasicIterativeMethod as facade

    assert facade is BasicIterativeMethod


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    res = BasicIterativeMethod(clf, eps=0.2, verbose=False).run(x, y)
    assert res.success_rate >= 0.95, res.summary()
    assert res.norms["linf"].max() <= 0.2 + 1e-6
