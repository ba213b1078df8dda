"""VAT: the gradient and finite-difference forms agree, logits or probabilities, norms, strength."""

import copy

import numpy as np
import pytest

from feint.contracts.classifier import softmax
from feint.errors import CapabilityError
from feint.testing import MLPClassifier, trained_reference
from feint_attack_vat import VirtualAdversarialMethod
from feint_attack_vat._functional import as_probabilities, feasible, kl_divergence, kl_gradient_fd, step_to_norm


@pytest.fixture(scope="module")
def model64():
    return trained_reference("mlp", dtype="float64")


def _predict_only(clf):
    reduced = copy.copy(clf)
    reduced.provides = frozenset({"predict"})
    return reduced


def test_kl_gradient_is_the_soft_label_loss_gradient(model64):
    clf, x, _ = model64
    x = x[:10]
    p = clf.predict(x)
    x_eval = np.clip(x + 0.3 * np.random.default_rng(0).normal(size=x.shape), 0, 1)
    # grad KL(p || F(.)) = grad of the cross-entropy with soft labels p (they differ by a constant)
    fd = kl_gradient_fd(clf.predict, x_eval, p, 1e-6, clf.clip_values)
    np.testing.assert_allclose(clf.loss_gradient(x_eval, p), fd, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("max_iter", [1, 3])
def test_gradient_and_finite_difference_forms_agree(model64, max_iter):
    clf, x, _ = model64
    params = {"eps": 0.3, "max_iter": max_iter, "finite_diff": 1e-6, "random_state": 3}
    grad = VirtualAdversarialMethod(clf, method="gradient", **params).generate(x[:30])
    fd = VirtualAdversarialMethod(clf, method="finite_diff", **params).generate(x[:30])
    np.testing.assert_allclose(grad, fd, atol=1e-5)             # FD truncation error ~ finite_diff
    assert not np.allclose(grad, VirtualAdversarialMethod(clf, max_iter=0, eps=0.3, random_state=3).generate(x[:30]))


def test_finite_differences_are_used_without_gradients(model64):
    clf, x, _ = model64
    blind = _predict_only(clf)
    auto = VirtualAdversarialMethod(blind, eps=0.3, finite_diff=1e-6, random_state=1)
    assert not auto.uses_gradients
    clf.reset_counts()
    adv = auto.generate(x[:5])
    assert clf.counts.backward == 0
    assert clf.counts.forward_samples == 5 + 5 * (1 + 8)        # p, then kappa_1 and one pass per component
    ref = VirtualAdversarialMethod(clf, eps=0.3, method="gradient", random_state=1).generate(x[:5])
    np.testing.assert_allclose(adv, ref, atol=1e-5)
    with pytest.raises(CapabilityError, match="loss_gradient"):
        VirtualAdversarialMethod(blind, method="gradient")


class _LogitOutputs(MLPClassifier):
    """A classifier whose outputs are logits even when probabilities are asked for."""

    def _predict(self, x, logits):
        return super()._predict(x, logits=True)


def test_accepts_classifiers_returning_logits(model64):
    clf, x, y = model64
    raw = _LogitOutputs((8,), 3, dtype="float64")
    for name in ("W1", "b1", "W2", "b2"):
        setattr(raw, name, getattr(clf, name))
    assert np.any(raw.predict(x[:5]) < 0)                         # really logits
    np.testing.assert_allclose(as_probabilities(raw.predict(x[:5])), clf.predict(x[:5]), atol=1e-12)
    params = {"eps": 0.3, "finite_diff": 1e-5, "method": "finite_diff", "random_state": 0}
    np.testing.assert_allclose(VirtualAdversarialMethod(_predict_only(raw), **params).generate(x[:10]),
                               VirtualAdversarialMethod(clf, **params).generate(x[:10]), atol=1e-6)


def test_kl_divergence_values():
    p = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.25, 0.75, 0.0], [0.5, 0.25, 0.25]])
    np.testing.assert_allclose(kl_divergence(p, q), [0.5 * np.log(2) + 0.5 * np.log(2 / 3), np.log(2)])
    np.testing.assert_allclose(as_probabilities(np.log(q[1:])), q[1:])
    np.testing.assert_allclose(as_probabilities(softmax(np.array([[1.0, 2.0]]))), softmax(np.array([[1.0, 2.0]])))


def test_perturbations_have_l2_norm_eps_on_digits(digits_correct):
    clf, x, _ = digits_correct
    res = VirtualAdversarialMethod(clf, eps=0.1, random_state=0, verbose=False).run(x)
    np.testing.assert_allclose(res.norms["l2"], 0.1, rtol=1e-4)
    big = VirtualAdversarialMethod(clf, eps=1.0, random_state=0, verbose=False).run(x)
    np.testing.assert_allclose(big.norms["l2"], 1.0, rtol=1e-5)  # clipping's loss is put back elsewhere
    assert big.x_adv.min() >= 0.0 and big.x_adv.max() <= 1.0


def test_direction_raises_the_kl_far_above_a_random_one_on_digits(digits_correct):
    clf, x, _ = digits_correct
    p = clf.predict(x)
    kl = {}
    for max_iter in (0, 1):
        adv = VirtualAdversarialMethod(clf, eps=0.5, max_iter=max_iter, random_state=0, verbose=False).generate(x)
        kl[max_iter] = kl_divergence(p, clf.predict(adv)).mean()
    assert kl[1] > 20 * kl[0]


def _bisect_step(x, d, eps, lo, hi):
    """Reference for step_to_norm: bisection on t of ||clip(x + t d) - x|| = eps, row by row."""
    def length(xi, di, t):
        return np.linalg.norm(np.clip(xi + t * di, lo, hi) - xi)

    out = np.empty_like(x, dtype=np.float64)
    for i in range(len(x)):
        xi, di = x[i].astype(np.float64).ravel(), d[i].astype(np.float64).ravel()
        a, b = 0.0, 1.0
        while length(xi, di, b) < eps and b < 1e12:
            b *= 2
        for _ in range(200):
            m = 0.5 * (a + b)
            a, b = (m, b) if length(xi, di, m) < eps else (a, m)
        out[i] = np.clip(xi + b * di, lo, hi).reshape(x.shape[1:])
    return out


def test_step_to_norm_solves_the_clipped_length_exactly():
    rng = np.random.default_rng(0)
    x = rng.random((40, 3, 5)).astype(np.float32)
    x[x < 0.3], x[x > 0.85] = 0.0, 1.0                          # many components on a bound
    d = rng.normal(size=x.shape).astype(np.float32)
    d[1] = 0.0                                                   # no direction: no step
    d[2] = np.where(x[2] > 0.5, 1.0, 0.0)                        # little room: every moving part on its bound
    for eps in (0.2, 1.0, 2.5):
        got = step_to_norm(x, d, eps, (0.0, 1.0))
        assert got.dtype == np.float32 and got.min() >= 0.0 and got.max() <= 1.0
        np.testing.assert_allclose(got, _bisect_step(x, d, eps, 0.0, 1.0), atol=2e-6)
        norms = np.linalg.norm((got - x).reshape(40, -1).astype(np.float64), axis=1)
        room = np.linalg.norm(_bisect_step(x, d, 1e9, 0.0, 1.0).reshape(40, -1) - x.reshape(40, -1), axis=1)
        np.testing.assert_allclose(norms, np.minimum(eps, room), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(step_to_norm(x, d, 1.0, (0.0, 1.0))[1], x[1])
    free = step_to_norm(x, d, 0.7, None)                         # no box: eps along d
    np.testing.assert_allclose(np.linalg.norm((free - x).reshape(40, -1), axis=1)[d.reshape(40, -1).any(1)], 0.7,
                               rtol=1e-5)


def test_step_to_norm_needs_no_feasible_direction():
    """Components pointing out of the box where x is on its bound add no length and do not move."""
    rng = np.random.default_rng(1)
    x = rng.random((30, 20)).astype(np.float32)
    x[x < 0.3], x[x > 0.8] = 0.0, 1.0
    d = rng.normal(size=x.shape).astype(np.float32)
    for eps in (0.3, 1.0, 3.0):
        np.testing.assert_allclose(step_to_norm(x, d, eps, (0.0, 1.0)),
                                   step_to_norm(x, feasible(d, x, (0.0, 1.0)), eps, (0.0, 1.0)), atol=1e-6)
    g = rng.normal(size=x.shape).astype(np.float32)
    f = feasible(g, x, (0.0, 1.0))
    out = (x == 0) & (g < 0) | (x == 1) & (g > 0)
    assert np.all(f[out] == 0) and np.array_equal(f[~out], g[~out]) and f.dtype == np.float32


def test_step_to_norm_lets_a_slow_component_carry_the_rest():
    """A component with a tiny d but a lot of room moves far once the others are on their bounds
    (its share of ||d||^2 is 1e-8: the step must not stop at the others' breakpoints), and the
    direction's length does not matter."""
    x = np.array([[0.9, 0.9, 0.0, 0.2]], dtype=np.float32)
    d = np.array([[1.0, 1.0, -1.0, 1e-4]], dtype=np.float32)    # the third points out of the box
    got = step_to_norm(x, d, 0.5, (0.0, 1.0))
    np.testing.assert_allclose(got, _bisect_step(x, d, 0.5, 0.0, 1.0), atol=2e-6)
    np.testing.assert_allclose(got[0, :3], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(got - x), 0.5, rtol=1e-5)
    np.testing.assert_allclose(step_to_norm(x, 37.0 * d, 0.5, (0.0, 1.0)), got, atol=1e-6)
    no_room = np.array([[1.0, 1.0, 0.0, 1.0]], dtype=np.float32)   # every moving component already on its bound
    np.testing.assert_array_equal(step_to_norm(no_room, d, 0.5, (0.0, 1.0)), no_room)
