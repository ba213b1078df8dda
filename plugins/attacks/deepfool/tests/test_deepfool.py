"""DeepFool against closed forms on linear models, its termination, cost and strength."""

import numpy as np
import pytest

from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_attack_deepfool import DeepFool


def linear_model(k, d=6, seed=0):
    clf = SoftmaxRegression((d,), k, clip_values=(-100.0, 100.0), dtype="float64")
    rng = np.random.default_rng(seed)
    clf.W = rng.normal(size=(d, k))
    clf.b = rng.normal(size=k)
    return clf, rng.uniform(-1, 1, (40, d))


def one_step(clf, x, y):
    """Algorithm 4's first step on a linear model: exact, in closed form."""
    z = clf.predict(x, logits=True)
    best = np.full(len(x), np.inf)
    r = np.zeros_like(x)
    for k in range(clf.nb_classes):
        w = clf.W[:, k][None] - clf.W.T[y]                      # grad Z_k - grad Z_y, per sample
        f = z[:, k] - z[np.arange(len(x)), y]
        wn = np.where(k == y, 1.0, np.linalg.norm(w, axis=1))
        dist = np.where(k == y, np.inf, np.abs(f) / wn)
        take = dist < best
        best = np.where(take, dist, best)
        r[take] = (np.abs(f) / wn**2)[take, None] * w[take]
    return r, best


@pytest.mark.parametrize("overshoot", [0.02, 0.5])
def test_binary_linear_model_exact_boundary_distance_in_one_step(overshoot):
    clf, x = linear_model(2)
    y = clf.predict(x).argmax(1)
    clf.reset_counts()
    adv = DeepFool(clf, overshoot=overshoot, step_margin=0.0).generate(x, y)
    cost = clf.counts.copy()
    # the distance to the hyperplane Z_0 = Z_1 is |f| / ||w||, reached in one step, times (1 + overshoot)
    w = clf.W[:, 1] - clf.W[:, 0]
    f = clf.predict(x, logits=True) @ np.array([-1.0, 1.0])
    dist = np.abs(f) / np.linalg.norm(w)
    np.testing.assert_allclose(np.linalg.norm(adv - x, axis=1), (1 + overshoot) * dist, rtol=1e-9)
    r, _ = one_step(clf, x, y)
    np.testing.assert_allclose(adv, x + (1 + overshoot) * r, atol=1e-12)
    assert np.all(clf.predict(adv).argmax(1) != y)
    # one iteration per sample: a forward (the test of line 3) and a class gradient of the 2
    # classes (which runs its own forward), then the forward that finds every sample fooled
    assert cost.backward_samples == 2 * len(x)
    assert cost.forward_samples == 3 * len(x)
    # the default step margin (the original code's 1e-4) lengthens that one step by exactly 1e-4
    margin = DeepFool(clf, overshoot=overshoot).generate(x, y)
    np.testing.assert_allclose(np.linalg.norm(margin - x, axis=1), (1 + overshoot) * (dist + 1e-4), rtol=1e-9)


def test_multiclass_linear_model_one_step_to_the_nearest_boundary():
    clf, x = linear_model(4)
    y = clf.predict(x).argmax(1)
    r, dist = one_step(clf, x, y)
    expected = x + 1.02 * r
    fooled_in_one = clf.predict(expected).argmax(1) != y
    assert fooled_in_one.mean() > 0.8       # most samples: the nearest pairwise boundary is the decision boundary
    adv = DeepFool(clf, step_margin=0.0).generate(x, y)
    np.testing.assert_allclose(adv[fooled_in_one], expected[fooled_in_one], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(adv - x, axis=1)[fooled_in_one], 1.02 * dist[fooled_in_one],
                               rtol=1e-9)
    # the others needed more steps, each one at least as far: never closer than the first boundary
    assert np.all(np.linalg.norm(adv - x, axis=1) >= 1.02 * dist - 1e-9)
    assert np.all(clf.predict(adv).argmax(1) != y)


def test_nb_grads_limits_the_class_gradients():
    clf, x = linear_model(5)
    y = clf.predict(x).argmax(1)
    clf.reset_counts()
    DeepFool(clf, nb_grads=2, max_iter=1).generate(x, y)
    assert clf.counts.backward_samples == 2 * len(x)         # the label and the top other class only
    clf.reset_counts()
    DeepFool(clf, max_iter=1).generate(x, y)
    assert clf.counts.backward_samples == 5 * len(x)         # nb_grads=10 >= K: every class


def test_candidate_classes_follow_the_logits():
    from feint_attack_deepfool._functional import candidate_classes

    z = np.array([[0.0, 3.0, 1.0, 2.0], [5.0, 1.0, 4.0, 0.0]])
    np.testing.assert_array_equal(candidate_classes(z, np.array([1, 3]), 3), [[1, 3, 2], [3, 0, 2]])


def test_already_misclassified_inputs_cost_nothing_and_stay():
    clf, x = linear_model(3)
    y = clf.predict(x).argmax(1)
    wrong = (y + 1) % 3
    clf.reset_counts()
    adv = DeepFool(clf).generate(x, wrong)
    np.testing.assert_array_equal(adv, x)
    assert clf.counts.backward_samples == 0


def test_box_constraint_does_not_stall():
    """Steps whose components are clipped away still cross the boundary (the step margin), where
    exact steps (step_margin=0) only approach it geometrically."""
    clf = SoftmaxRegression((2,), 2, clip_values=(0.0, 1.0), dtype="float64")
    clf.W = np.array([[1.0, -1.0], [0.0, 1.0]])            # Z_1 - Z_0 = -2 x_0 + x_1
    clf.b = np.array([0.0, -0.5])
    x = np.array([[0.0, 0.2]])                              # x_0 sits on its lower bound
    adv = DeepFool(clf, overshoot=0.02).generate(x, np.array([0]))
    assert clf.predict(adv).argmax(1)[0] == 1
    assert adv[0, 0] == 0.0 and 0.5 < adv[0, 1] < 0.52      # x_0 stays on its bound: 0.3 * 1.02 past 0.2
    stalled = DeepFool(clf, overshoot=0.0, step_margin=0.0, max_iter=30).generate(x, np.array([0]))
    assert clf.predict(stalled).argmax(1)[0] == 0 and 0.499 < stalled[0, 1] < 0.5   # close, never across


def test_max_iter_terminates(digits_correct):
    clf, x, y = digits_correct
    clf.reset_counts()
    short = DeepFool(clf, max_iter=1, verbose=False).run(x, y)
    assert short.passes["backward_samples"] == 10 * len(x)  # exactly one iteration on every sample
    assert short.passes["forward_samples"] == 2 * len(x)     # the test of line 3 + the gradient's forward
    full = DeepFool(clf, verbose=False).run(x, y)
    assert short.success_rate < full.success_rate
    # active masks: finished samples stop costing passes
    assert full.passes["forward_samples"] < 10 * len(x)


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    res = DeepFool(clf, verbose=False).run(x, y)
    assert res.success_rate >= 0.99, res.summary()
    # minimal perturbations: far below the eps = 0.2 Linf budget the gradient attacks need
    assert res.mean_norm("l2") < 1.0


def test_invalid_parameters():
    clf, _ = linear_model(3)
    with pytest.raises(InvalidParameterError, match=r"'nb_grads'.*>= 2.*Got 1"):
        DeepFool(clf, nb_grads=1)
    with pytest.raises(InvalidParameterError, match="untargeted only"):
        DeepFool(clf, targeted=True)
