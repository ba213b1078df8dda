"""CLEVER against closed forms on a linear model, and its batching, seeding and fit reporting."""

import math
import warnings

import numpy as np
import pytest

from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import SoftmaxRegression, trained_reference
from feint_metric_clever import CleverFitWarning, clever_t, clever_u
from feint_metric_clever import clever as clever_module


@pytest.fixture
def linear():
    clf = SoftmaxRegression((6,), 4, clip_values=(-10.0, 10.0))
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(6, 4)).astype(np.float32)
    clf.b = rng.normal(size=4).astype(np.float32)
    x = rng.uniform(-1, 1, (5, 6)).astype(np.float32)
    return clf, x


def _exact(clf, x, q, targets=None):
    """margin / ||w_c - w_t||_q, minimised over t (or at the given targets)."""
    z = x.astype(np.float64) @ clf.W + clf.b
    c = z.argmax(1)
    out = []
    for i in range(len(x)):
        ts = [t for t in range(z.shape[1]) if t != c[i]] if targets is None else [targets[i]]
        out.append(min((z[i, c[i]] - z[i, t]) / np.linalg.norm(clf.W[:, c[i]] - clf.W[:, t], ord=q) for t in ts))
    return np.array(out)


@pytest.mark.parametrize("p, q", [(2, 2), (np.inf, 1), (1, np.inf)])
def test_linear_model_equals_margin_over_dual_norm(linear, p, q):
    clf, x = linear
    with pytest.warns(CleverFitWarning, match="degenerate"):   # constant gradients: no Weibull law to fit
        got = clever_u(clf, x, n_batch=10, n_sample=5, r=100.0, norm=p, random_state=0)
    np.testing.assert_allclose(got, _exact(clf, x, q), rtol=0.05)
    np.testing.assert_allclose(got, _exact(clf, x, q), rtol=1e-4)   # in fact exact


def test_targeted_linear_and_cap_by_r(linear):
    clf, x = linear
    z = x @ clf.W + clf.b
    t = (z.argmax(1) + 1) % 4
    with pytest.warns(CleverFitWarning):
        got = clever_t(clf, x, t, n_batch=10, n_sample=5, r=100.0, norm=2, random_state=0)
    np.testing.assert_allclose(got, _exact(clf, x, 2, t), rtol=1e-4)
    with pytest.warns(CleverFitWarning):
        capped = clever_t(clf, x, t, n_batch=10, n_sample=5, r=0.01, norm=2, random_state=0)
    np.testing.assert_allclose(capped, 0.01)
    with pytest.warns(CleverFitWarning):
        single = clever_t(clf, x[2], int(t[2]), n_batch=10, n_sample=5, r=100.0, random_state=0)
    assert isinstance(single, float) and math.isclose(single, got[2], rel_tol=1e-6)


def test_target_rules_and_bad_targets(linear):
    clf, x = linear
    z = x @ clf.W + clf.b
    with pytest.warns(CleverFitWarning):
        ll = clever_t(clf, x, "least_likely", n_batch=10, n_sample=5, r=100.0, random_state=0)
    np.testing.assert_allclose(ll, _exact(clf, x, 2, z.argmin(1)), rtol=1e-4)
    with pytest.raises(InvalidInputError, match="predicted class"):
        clever_t(clf, x, int(z.argmax(1)[0]), n_batch=10, n_sample=5)
    with pytest.raises(InvalidParameterError, match="n_batch"):
        clever_u(clf, x, n_batch=1)
    with pytest.raises(InvalidParameterError, match="target_class"):
        clever_t(clf, x, "farthest")


class _Recorder:
    """Wraps a classifier and records every public class_gradient call."""

    def __init__(self, clf):
        self.clf, self.calls = clf, []

    def __getattr__(self, name):
        return getattr(self.clf, name)

    def class_gradient(self, x, label=None, logits=False, batch_size=128):
        self.calls.append((len(x), np.asarray(label).shape))
        return self.clf.class_gradient(x, label=label, logits=logits, batch_size=batch_size)


def test_batched_gradient_calls():
    clf, x, _ = trained_reference("mlp")
    rec = _Recorder(clf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CleverFitWarning)
        clever_t(rec, x[:8], "next", n_batch=20, n_sample=4, pool_factor=5, random_state=0)
        clever_u(rec, x[:8], n_batch=20, n_sample=4, pool_factor=5, random_state=0)
    # every input's pool (5 * 4 points), both classes, in one call; then all 3 classes in one call
    assert rec.calls == [(8 * 20, (8 * 20, 2)), (8 * 20, (8 * 20, 3))]


def test_seed_and_chunking_do_not_change_scores(monkeypatch):
    clf, x, _ = trained_reference("mlp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CleverFitWarning)
        a = clever_u(clf, x[:6], n_batch=20, n_sample=5, random_state=3)
        b = clever_u(clf, x[:6], n_batch=20, n_sample=5, random_state=3)
        monkeypatch.setattr(clever_module, "_MEMORY_BUDGET", 1)     # one input per gradient call
        c = clever_u(clf, x[:6], n_batch=20, n_sample=5, random_state=3)
        d = clever_u(clf, x[:6], n_batch=20, n_sample=5, random_state=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, d)


def test_scores_below_distances_that_fool_the_model():
    """CLEVER estimates a lower bound: it should not exceed the L2 size of a successful attack."""
    from feint_attack_fgsm import FastGradientMethod

    clf, x, _ = trained_reference("mlp")
    x = x[:30]
    res = FastGradientMethod(clf, norm=2, minimal=True, eps_step=0.01, eps_max=3.0).run(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CleverFitWarning)
        d = clever_u(clf, x, r=3.0, random_state=0, return_details=True)
    s = d["scores"]
    assert np.all(s > 0) and np.all(np.isfinite(s))
    assert np.all(d["lipschitz"] >= d["max_observed"] * (1 - 1e-9))
    ok = res.success
    assert ok.sum() >= 25
    assert np.mean(s[ok] <= res.norms["l2"][ok] + 1e-6) >= 0.9
    assert (d["fit_status"] == "ok").mean() >= 0.5


def test_zero_gradients_are_reported_not_silent():
    clf = SoftmaxRegression((4,), 3)
    clf.W[:] = 0.0
    clf.b[:] = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    x = np.full((2, 4), 0.5, np.float32)
    with pytest.warns(CleverFitWarning, match="2 degenerate|degenerate"):
        s = clever_u(clf, x, n_batch=5, n_sample=3, r=0.7, random_state=0)
    np.testing.assert_allclose(s, 0.7)           # no gradient: nothing moves the margin within r


@pytest.mark.parametrize("p", [1, 2, np.inf])
def test_pool_is_uniform_in_the_ball(p):
    """The pool sampler: inside the ball, with the radial law of a uniform ball (P(|d| <= s r) = s^d)."""
    from scipy.stats import kstest

    from feint.norms import lp_norm, random_ball

    gen = clever_module._stream(0, 0)
    d = 5
    pts = random_ball(clever_module._PoolStream(gen, 4000), (d,), 0.5, p, dtype=np.float64)
    radius = lp_norm(pts, p) / 0.5
    assert radius.max() <= 1 + 1e-9
    assert kstest(radius ** d, "uniform").pvalue > 1e-3
