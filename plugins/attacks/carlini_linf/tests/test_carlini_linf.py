"""Carlini & Wagner Linf: the hinge, the tau search, failure handling, and strength on digits."""

import copy

import numpy as np
import pytest

import feint
from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import trained_reference, without_native_output_gradient
from feint_attack_carlini_linf import CarliniLInfMethod
from feint_attack_carlini_linf._functional import box_map, hinge


def test_hinge_on_hand_computed_logits():
    z = np.array([[2.0, 1.0, -1.0], [0.0, 3.0, 1.0]])
    y = np.array([0, 0])
    f, other = hinge(z, y, targeted=False, confidence=0.0)
    np.testing.assert_allclose(f, [1.0, 0.0])           # z_y - max other, floored at 0
    np.testing.assert_array_equal(other, [1, 1])
    f, _ = hinge(z, y, targeted=True, confidence=0.5)
    np.testing.assert_allclose(f, [0.0, 3.5])            # max other - z_t + kappa


@pytest.mark.parametrize("box", ["clip", "tanh"])
def test_box_maps_stay_inside_and_round_trip(box):
    to_var, to_x, jac, project = box_map(box, -1.0, 2.0)
    x = np.array([[-1.0, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(to_x(to_var(x)), x, atol=1e-5)
    far = project(to_var(x) + np.array([[-50.0, 0.0, 0.0, 50.0]]))
    assert np.all((to_x(far) >= -1.0) & (to_x(far) <= 2.0))


def test_tau_search_shrinks_the_linf_norm():
    clf, x, _ = trained_reference("mlp")
    x = x[:20]
    # one accepted solution only: decrease_factor close to 0 ends the search at the first success
    first = CarliniLInfMethod(clf, max_iter=20, initial_const=0.1, learning_rate=0.05,
                              decrease_factor=1e-3).run(x)
    full = CarliniLInfMethod(clf, max_iter=20, initial_const=0.1, learning_rate=0.05).run(x)
    assert first.success.all() and full.success.all()
    # both runs share the path to the first solution; each accepted solution has a smaller tau
    assert np.all(full.norms["linf"] <= first.norms["linf"] + 1e-5)
    assert full.norms["linf"].mean() < 0.95 * first.norms["linf"].mean()


def test_no_solution_returns_the_input():
    clf, x, _ = trained_reference("mlp")
    atk = CarliniLInfMethod(clf, max_iter=1, initial_const=1e-5, largest_const=1.5e-5, learning_rate=1e-4)
    out = atk.generate(x[:8])
    np.testing.assert_array_equal(out, x[:8])


def test_targeted_reaches_the_targets():
    clf, x, _ = trained_reference("mlp")
    t = (clf.predict(x[:15]).argmax(1) + 2) % 3
    res = CarliniLInfMethod(clf, targeted=True, max_iter=20, initial_const=0.1, learning_rate=0.01).run(x[:15], t)
    assert res.success.all()
    np.testing.assert_array_equal(res.predictions.argmax(1), t)


@pytest.mark.parametrize("targeted", [False, True])
def test_one_pass_each_way_per_step_and_the_same_attack_without_output_gradient(targeted):
    clf, x, _ = trained_reference("mlp")
    x = x[:24]
    y = (clf.predict(x).argmax(1) + (1 if targeted else 0)) % 3          # labels given: no labels pass
    params = dict(targeted=targeted, max_iter=15, initial_const=0.1, learning_rate=0.02)
    slow = without_native_output_gradient(clf)                          # predict + class_gradient
    cost = {}
    for name, c in (("native", clf), ("fallback", slow)):
        c.reset_counts()
        CarliniLInfMethod(c, **params).generate(x, y)
        cost[name] = c.counts.copy()
    # with output_gradient: per step one forward and one backward call on the running samples
    assert cost["native"].forward == cost["native"].backward > 0
    assert cost["native"].forward_samples == cost["native"].backward_samples
    assert cost["fallback"].forward > cost["native"].forward                 # two calls per step there
    native = CarliniLInfMethod(clf, **params).run(x, y)
    fallback = CarliniLInfMethod(slow, **params).run(x, y)
    # the same algorithm both ways: the hinge's gradient differs by float rounding only
    np.testing.assert_array_equal(native.success, fallback.success)
    np.testing.assert_allclose(native.norms["linf"], fallback.norms["linf"], atol=2e-3)


def test_needs_clip_values_and_consistent_constants():
    clf, _, _ = trained_reference("mlp")
    unbounded = copy.copy(clf)
    unbounded.clip_values = None
    with pytest.raises(InvalidInputError, match="clip_values"):
        CarliniLInfMethod(unbounded)
    with pytest.raises(InvalidParameterError, match="initial_const.*largest_const"):
        CarliniLInfMethod(clf, initial_const=30.0)


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:50], y[:50]
    fgsm = feint.create("attack", "fgsm(minimal=True, eps_step=0.01, eps_max=1.0)", clf, verbose=False).run(x, y)
    cw = feint.create("attack", "carlini_linf(max_iter=30, initial_const=0.1, learning_rate=0.01)", clf,
                      verbose=False).run(x, y)
    assert cw.success_rate >= 0.95
    assert cw.mean_norm("linf") < fgsm.mean_norm("linf")
    assert np.all((cw.x_adv >= 0) & (cw.x_adv <= 1))
