"""PGD against closed forms on a linear model, its random start and restarts, and its strength."""

import numpy as np
import pytest

import feint
from feint.rng import SampleRandom
from feint.testing import SoftmaxRegression, trained_reference
from feint_attack_pgd import ProjectedGradientDescent
from feint_attack_pgd._functional import objective, random_start


@pytest.fixture
def linear():
    clf = SoftmaxRegression((6,), 3, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(2)
    clf.W = rng.normal(size=(6, 3))
    clf.b = rng.normal(size=3)
    return clf, rng.uniform(-1, 1, (8, 6))


def fgsm_closed_form(clf, x, y, eps, norm):
    """x + eps * direction of grad L(x, y) = W (p - e_y) for a linear softmax model."""
    grad = (clf.predict(x) - np.eye(clf.nb_classes)[y]) @ clf.W.T
    d = np.sign(grad) if norm == np.inf else grad / np.linalg.norm(grad, ord=norm, axis=1, keepdims=True)
    return x + eps * d


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_one_step_without_random_start_is_fgsm(linear, norm):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    adv = ProjectedGradientDescent(clf, norm=norm, eps=0.4, eps_step=0.4, max_iter=1,
                                   num_random_init=0).generate(x)
    np.testing.assert_allclose(adv, fgsm_closed_form(clf, x, y, 0.4, norm), atol=1e-9)
    # a step smaller than the budget is FGSM with eps = eps_step
    small = ProjectedGradientDescent(clf, norm=norm, eps=0.4, eps_step=0.1, max_iter=1,
                                     num_random_init=0).generate(x)
    np.testing.assert_allclose(small, fgsm_closed_form(clf, x, y, 0.1, norm), atol=1e-9)


def test_one_step_equals_the_fgsm_plugin(linear):
    pytest.importorskip("feint_attack_fgsm")
    clf, x = linear
    t = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    for norm in (np.inf, 2, 1):
        pgd = ProjectedGradientDescent(clf, norm=norm, eps=0.3, eps_step=0.3, max_iter=1, num_random_init=0,
                                       targeted=True).generate(x, t)
        fgsm = feint.create("attack", "fgsm", clf, norm=norm, eps=0.3, targeted=True).generate(x, t)
        np.testing.assert_allclose(pgd, fgsm, atol=1e-9)


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_random_start_is_inside_the_ball_and_spread(norm):
    x = np.full((400, 5), 0.5)
    start = random_start(x, SampleRandom(0, np.arange(400)), 0.3, norm, (0.0, 1.0))
    n = np.linalg.norm(start - x, ord=norm, axis=1)
    assert n.max() <= 0.3 + 1e-9
    # uniform in a ball of dimension 5 (any norm): P(||u|| <= r) = (r/eps)^5, median 0.5^(1/5)
    assert abs(np.median(n / 0.3) - 0.5 ** (1 / 5)) < 0.03
    assert len(np.unique(start[:, 0])) > 300


def test_random_start_changes_the_result_and_seeds_fix_it(linear):
    clf, x = linear
    a = ProjectedGradientDescent(clf, eps=0.3, eps_step=0.01, max_iter=2, random_state=1).generate(x)
    b = ProjectedGradientDescent(clf, eps=0.3, eps_step=0.01, max_iter=2, random_state=2).generate(x)
    c = ProjectedGradientDescent(clf, eps=0.3, eps_step=0.01, max_iter=2, random_state=1).generate(x)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(a, c)


def test_restarts_keep_the_best_run_per_sample():
    clf, x, _ = trained_reference("mlp")
    x = x[:80]
    y = clf.predict(x).argmax(1)
    one = ProjectedGradientDescent(clf, eps=0.08, eps_step=0.02, max_iter=5, num_random_init=1, random_state=3)
    many = ProjectedGradientDescent(clf, eps=0.08, eps_step=0.02, max_iter=5, num_random_init=4, random_state=3)
    r1, rn = one.run(x, y), many.run(x, y)
    assert 0 < r1.success_rate < 1, "the budget should leave some samples unsolved"
    # run 1 of the restarted attack is the single run (same per-sample streams): never worse
    assert np.all(rn.success >= r1.success)
    # restarts find more over a few seeds (whether one seed's restarts help is luck of the draw)
    gained = sum(int(ProjectedGradientDescent(clf, eps=0.08, eps_step=0.02, max_iter=5, num_random_init=4,
                                              random_state=s).run(x, y).success.sum()) -
                 int(ProjectedGradientDescent(clf, eps=0.08, eps_step=0.02, max_iter=5, num_random_init=1,
                                              random_state=s).run(x, y).success.sum()) for s in range(3, 8))
    assert gained > 0
    _, s1 = objective(clf.predict(r1.x_adv, logits=True), y, False)
    _, sn = objective(clf.predict(rn.x_adv, logits=True), y, False)
    failed = ~rn.success
    assert np.all(sn[failed] >= s1[failed] - 1e-6)
    # solved samples are not attacked again: later runs cost passes for the unsolved only
    assert rn.passes["backward_samples"] < 4 * 5 * len(x)


def test_no_early_stop_within_a_run(linear):
    clf, x = linear
    y = clf.predict(x).argmax(1)
    clf.reset_counts()
    ProjectedGradientDescent(clf, eps=5.0, eps_step=1.0, max_iter=6, random_state=0).generate(x, y)
    assert clf.counts.backward_samples == 6 * len(x)
    assert clf.counts.forward_samples == 6 * len(x)      # one run: no ranking pass


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    res = ProjectedGradientDescent(clf, eps=0.2, random_state=0, verbose=False).run(x, y)
    assert res.success_rate >= 0.95, res.summary()
    assert res.norms["linf"].max() <= 0.2 + 1e-6
