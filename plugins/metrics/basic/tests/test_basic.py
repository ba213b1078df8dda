"""Light metrics on hand-computable cases."""

import math

import numpy as np
import pytest

from feint.testing import SoftmaxRegression
from feint_metric_basic import perturbation_norm, perturbation_norm_stats, rho2, robust_accuracy, success_rate


@pytest.fixture
def argmax_model():
    """A linear model whose class is the largest input coordinate."""
    clf = SoftmaxRegression((2,), 2, clip_values=(0.0, 1.0), dtype="float64")
    clf.W = np.eye(2)
    clf.b = np.zeros(2)
    return clf


def test_success_rate_counts_correct_inputs_only(argmax_model):
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1])                       # the third input is already misclassified
    adv = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert success_rate(argmax_model, x, adv, y=y) == 0.5
    assert success_rate(argmax_model, x, adv, y=y, correct_only=False) == pytest.approx(1 / 3)
    assert success_rate(argmax_model, x, adv, y=y, targets=np.array([1, 0, 0])) == 0.5
    with pytest.warns(RuntimeWarning, match="no input"):
        assert math.isnan(success_rate(argmax_model, x[2:], adv[2:], y=y[2:]))


def test_robust_accuracy(argmax_model):
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1])
    adv = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert robust_accuracy(argmax_model, x, y, x_adv=adv) == pytest.approx(1 / 3)
    # FGSM with eps=0.4 (Linf) moves each coordinate 0.4 towards the other class:
    # [0.9, 0.2] -> [0.5, 0.6] flips; [0.9, 0.0] -> [0.5, 0.4] and [0.1, 0.95] -> [0.5, 0.55] do not
    x2 = np.array([[0.9, 0.2], [0.9, 0.0], [0.1, 0.95]])
    acc = robust_accuracy(argmax_model, x2, np.array([0, 0, 1]), attack="fgsm(eps=0.4)")
    assert acc == pytest.approx(2 / 3)
    with pytest.raises(Exception, match="exactly one"):
        robust_accuracy(argmax_model, x, y)


def test_perturbation_norms(argmax_model):
    x = np.array([[0.5, 0.5], [0.2, 0.2]])
    adv = np.array([[0.8, 0.1], [0.2, 0.2]])      # delta (0.3, -0.4) and 0
    assert perturbation_norm(argmax_model, x, adv, norm=2) == pytest.approx(0.25)
    assert perturbation_norm(argmax_model, x, adv, norm=np.inf, statistic="max") == pytest.approx(0.4)
    assert perturbation_norm(argmax_model, x, adv, norm=1, statistic="min") == 0.0
    assert perturbation_norm(argmax_model, x, adv, norm=0, statistic="max") == 2
    # against labels (1, 0) only the first example is misclassified after the attack
    assert perturbation_norm(argmax_model, x, adv, successful_only=True, y=np.array([1, 0])) == pytest.approx(0.5)
    assert math.isnan(perturbation_norm(argmax_model, x[1:], adv[1:], successful_only=True))
    stats = perturbation_norm_stats(argmax_model, x, adv)
    assert stats["l2"]["mean"] == pytest.approx(0.25) and stats["linf"]["n"] == 2


def test_rho2_is_the_distance_to_the_runner_up_boundary_on_a_linear_model():
    clf = SoftmaxRegression((4,), 3, dtype="float64")
    rng = np.random.default_rng(0)
    clf.W, clf.b = rng.normal(size=(4, 3)), rng.normal(size=3)
    x = rng.uniform(0, 1, (10, 4))
    z = x @ clf.W + clf.b
    o = np.argsort(z, 1)
    top, run = o[:, -1], o[:, -2]
    rows = np.arange(10)
    for p, q in ((2, 2), (np.inf, 1), (1, np.inf)):
        gap = np.linalg.norm((clf.W[:, top] - clf.W[:, run]).T, ord=q, axis=1)
        expected = np.mean((z[rows, top] - z[rows, run]) / gap)
        assert rho2(clf, x, norm=p) == pytest.approx(expected, rel=1e-10)
    rel = np.mean((z[rows, top] - z[rows, run]) / np.linalg.norm((clf.W[:, top] - clf.W[:, run]).T, axis=1)
                  / np.linalg.norm(x, axis=1))
    assert rho2(clf, x, relative=True) == pytest.approx(rel, rel=1e-10)
