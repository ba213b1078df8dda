"""Auto-PGD: the checkpoint schedule, the DLR gradient, the best-point rule, and strength on digits."""

import numpy as np
import pytest

import feint
from feint.errors import CapabilityError, InvalidParameterError
from feint.testing import trained_reference
from feint_attack_apgd import AutoProjectedGradientDescent
from feint_attack_apgd._functional import ce_loss, checkpoints, dlr_gradient_terms, dlr_loss


def test_checkpoints_follow_the_paper():
    # p = 0, .22, .41, .57, .70, .80, .87, .93, .99 (p_j+1 = p_j + max(p_j - p_j-1 - .03, .06))
    assert checkpoints(100) == [0, 22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(50) == [0, 11, 21, 29, 35, 40, 44, 47, 50]
    assert checkpoints(1) == [0, 1]


@pytest.mark.parametrize("targeted", [False, True])
def test_dlr_gradient_terms_match_finite_differences(targeted):
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (20, 7))
    y = rng.integers(0, 7, 20)
    t = (y + rng.integers(1, 7, 20)) % 7 if targeted else None
    loss, classes, coef = dlr_gradient_terms(z, y, t)
    np.testing.assert_allclose(loss, dlr_loss(z, y, t))
    analytic = np.zeros_like(z)
    np.add.at(analytic, (np.arange(20)[:, None], classes), coef)
    numeric = np.zeros_like(z)
    h = 1e-6
    for k in range(7):
        e = np.zeros(7)
        e[k] = h
        numeric[:, k] = (dlr_loss(z + e, y, t) - dlr_loss(z - e, y, t)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)


def test_dlr_is_scale_invariant_and_signed():
    z = np.array([[3.0, 1.0, 0.5, -1.0], [0.0, 2.0, 1.0, -1.0]])
    y = np.array([0, 0])
    a, b = dlr_loss(z, y), dlr_loss(5 * z, y)
    np.testing.assert_allclose(a, b)
    assert a[0] < 0 < a[1]  # correctly classified -> negative, misclassified -> positive
    np.testing.assert_allclose(ce_loss(z, y, True), -ce_loss(z, y, False))


@pytest.mark.parametrize("targeted", [False, True])
def test_input_gradient_of_dlr_through_class_gradient(targeted):
    clf, x, _ = trained_reference("mlp", nb_classes=5, dtype="float64")
    x = x[:6]
    z = clf.predict(x, logits=True)
    y_true = z.argmax(1)
    y = (y_true + 1) % 5 if targeted else y_true
    atk = AutoProjectedGradientDescent(clf, loss_type="dlr", targeted=targeted)
    g = atk._gradient(x, z, y, y_true)
    h = 1e-6
    numeric = np.zeros_like(x)
    for d in range(x.shape[1]):
        e = np.zeros_like(x)
        e[:, d] = h
        up = atk._loss(clf.predict(x + e, logits=True), y, y_true)
        down = atk._loss(clf.predict(x - e, logits=True), y, y_true)
        numeric[:, d] = (up - down) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-4, atol=1e-8)


def test_failed_samples_return_their_best_point():
    clf, x, _ = trained_reference("mlp")
    x = x[:40]
    y = clf.predict(x).argmax(1)
    atk = AutoProjectedGradientDescent(clf, eps=0.02, max_iter=30, nb_random_init=2, random_state=0)
    res = atk.run(x, y)
    failed = ~res.success
    assert failed.sum() >= 10
    # the output is the highest-loss iterate: above the clean loss, and on the ball's surface
    assert np.all(clf.loss(res.x_adv[failed], y[failed]) > clf.loss(x[failed], y[failed]))
    assert np.all(res.norms["linf"][failed] <= 0.02 + 1e-6)


def test_already_adversarial_inputs_are_returned_unchanged():
    clf, x, _ = trained_reference("mlp")
    wrong = (clf.predict(x[:10]).argmax(1) + 1) % 3
    out = AutoProjectedGradientDescent(clf, eps=0.3, max_iter=5).generate(x[:10], wrong)
    np.testing.assert_array_equal(out, x[:10])


def test_dlr_needs_enough_classes():
    clf, _, _ = trained_reference("mlp")  # 3 classes: untargeted DLR ok, targeted not
    AutoProjectedGradientDescent(clf, loss_type="dlr")
    with pytest.raises(InvalidParameterError, match="loss_type.*at least 4"):
        AutoProjectedGradientDescent(clf, loss_type="dlr", targeted=True)


def test_dlr_needs_class_gradient():
    import copy

    clf, _, _ = trained_reference("mlp")
    reduced = copy.copy(clf)
    reduced.provides = frozenset({"predict", "loss_gradient"})
    AutoProjectedGradientDescent(reduced)
    with pytest.raises(CapabilityError, match="class_gradient"):
        AutoProjectedGradientDescent(reduced, loss_type="dlr")


def test_spec_and_registry(digits_correct):
    clf, _, _ = digits_correct
    atk = feint.create("attack", "apgd(eps=0.1, loss_type='dlr', max_iter=10)", clf)
    assert isinstance(atk, AutoProjectedGradientDescent)
    assert str(atk) == "apgd(eps=0.1, max_iter=10, loss_type='dlr')"


# -- strength on the digits CNN ------------------------------------------------------------------
def test_apgd_ce_at_least_as_strong_as_pgd20(digits_correct):
    pytest.importorskip("feint_attack_pgd")
    clf, x, y = digits_correct
    apgd = feint.create("attack", "apgd(eps=0.2, max_iter=50, nb_random_init=1)", clf, random_state=0,
                        verbose=False).run(x, y)
    pgd = feint.create("attack", "pgd(eps=0.2, eps_step=0.05, max_iter=20)", clf, random_state=0,
                       verbose=False).run(x, y)
    assert apgd.success_rate >= pgd.success_rate
    assert apgd.success_rate >= 0.97
    assert np.all(apgd.norms["linf"] <= 0.2 + 1e-6)


def test_apgd_on_digits_stops_early_and_dlr_is_strong(digits_correct):
    clf, x, y = digits_correct
    clf.reset_counts()
    ce = AutoProjectedGradientDescent(clf, eps=0.2, max_iter=50, nb_random_init=1, random_state=0,
                                      verbose=False).run(x, y)
    assert ce.success_rate >= 0.97
    # early stop per sample: far fewer gradient samples than 50 iterations for every input
    assert ce.passes["backward_samples"] < 0.2 * 50 * len(x)
    dlr = AutoProjectedGradientDescent(clf, eps=0.2, max_iter=50, nb_random_init=1, loss_type="dlr",
                                       random_state=0, verbose=False).run(x, y)
    assert dlr.success_rate >= 0.95
    l2 = AutoProjectedGradientDescent(clf, norm=2, eps=1.0, max_iter=50, nb_random_init=1, random_state=0,
                                      verbose=False).run(x, y)
    assert l2.success_rate >= 0.9 and np.all(l2.norms["l2"] <= 1.0 + 1e-5)
