"""Empirical robustness against the closed form of minimal FGSM on a linear model."""

import math

import numpy as np
import pytest

import feint
from feint.errors import UnknownComponentError
from feint.testing import SoftmaxRegression
from feint_metric_empirical_robustness import empirical_robustness
from feint_metric_empirical_robustness.metric import attack_norm


@pytest.fixture
def linear():
    clf = SoftmaxRegression((5,), 3, clip_values=(-50.0, 50.0), dtype="float64")
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(5, 3))
    clf.b = rng.normal(size=3)
    x = rng.uniform(-1, 1, (12, 5))
    return clf, x


def _minimal_fgsm_closed_form(clf, x, norm, step):
    """Smallest k*step along the FGM direction of the loss at x that changes the linear model's class."""
    z = x @ clf.W + clf.b
    y = z.argmax(1)
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = (p - np.eye(3)[y]) @ clf.W.T                       # dL/dx of the cross-entropy
    d = np.sign(g) if norm == np.inf else g / np.linalg.norm(g, axis=1, keepdims=True)
    slope = d @ clf.W                                       # dz/dt along x + t d
    eps = np.empty(len(x))
    for i in range(len(x)):
        ts = [(z[i, y[i]] - z[i, k]) / (slope[i, k] - slope[i, y[i]])
              for k in range(3) if k != y[i] and slope[i, k] > slope[i, y[i]]]
        eps[i] = math.ceil(min(ts) / step) * step
    return eps


@pytest.mark.parametrize("norm", [np.inf, 2])
def test_minimal_fgsm_matches_closed_form(linear, norm):
    clf, x = linear
    step = 0.001
    eps = _minimal_fgsm_closed_form(clf, x, norm, step)
    scale = np.abs(x).max(1) if norm == np.inf else np.linalg.norm(x, axis=1)
    expected = np.mean(eps / scale)
    got = empirical_robustness(clf, x, "fgsm", {"minimal": True, "eps_step": step, "eps_max": 20.0, "norm": norm})
    assert got == pytest.approx(expected, rel=1e-6)


def test_spec_params_and_overrides(linear):
    clf, x = linear
    a = empirical_robustness(clf, x, "fgsm(minimal=True, eps_step=0.01, eps_max=20.0)")
    b = empirical_robustness(clf, x, "fgsm(minimal=True, eps_step=0.5, eps_max=20.0)", {"eps_step": 0.01})
    assert a == b


def test_no_success_is_nan_with_a_warning(linear):
    clf, x = linear
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert math.isnan(empirical_robustness(clf, x, "fgsm", {"eps": 0.0}))


def test_norm_comes_from_the_attack_else_two(linear):
    clf, _ = linear
    assert attack_norm(feint.create("attack", "fgsm(norm=1)", clf)) == 1

    class NoNorm:
        norm_param = None
    assert attack_norm(NoNorm()) == 2


def test_unknown_attack_is_a_clear_error(linear):
    clf, x = linear
    with pytest.raises(UnknownComponentError, match="did you mean 'fgsm'"):
        empirical_robustness(clf, x, "fgsmm")
