"""C&W L2: the change of variables, the hinge, the binary search and its c_upper stop, strength."""

import numpy as np
import pytest

from feint.errors import InvalidParameterError
from feint.testing import SoftmaxRegression, trained_reference
from feint_attack_carlini_l2 import CarliniL2Method
from feint_attack_carlini_l2._functional import from_tanh_space, margin_loss, tanh_space_derivative, to_tanh_space

FAST = {"learning_rate": 0.05, "max_iter": 60, "initial_const": 0.5}


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


def test_tanh_change_of_variables():
    x = np.linspace(-2.0, 3.0, 11, dtype=np.float64)[None]
    w = to_tanh_space(x, -2.0, 3.0)
    assert np.all(np.isfinite(w))                               # the bounds map to finite values (gamma)
    np.testing.assert_allclose(from_tanh_space(w, -2.0, 3.0), x, atol=1e-6)
    h = 1e-6
    numeric = (from_tanh_space(w + h, -2.0, 3.0) - from_tanh_space(w - h, -2.0, 3.0)) / (2 * h)
    inner = (x > -2.0) & (x < 3.0)
    np.testing.assert_allclose(tanh_space_derivative(w, -2.0, 3.0)[inner], numeric[inner], rtol=1e-4)


def test_margin_loss_equations_3_and_4():
    z = np.array([[1.0, 4.0, 2.0], [3.0, 0.0, 2.5]])
    y = np.array([0, 0])
    loss, rival = margin_loss(z, y, targeted=True, confidence=1.0)     # max(max_other - Z_y + k, 0)
    np.testing.assert_allclose(loss, [4.0, 0.5])
    np.testing.assert_array_equal(rival, [1, 2])
    loss, _ = margin_loss(z, y, targeted=False, confidence=1.0)        # max(Z_y - max_other + k, 0)
    np.testing.assert_allclose(loss, [0.0, 1.5])


def test_targeted_outputs_reach_the_confidence_margin(model):
    clf, x, _ = model
    kappa = 2.0
    res = CarliniL2Method(clf, confidence=kappa, target="next", binary_search_steps=6, **FAST).run(x[:40])
    assert res.success_rate >= 0.95
    z = clf.predict(res.x_adv[res.success], logits=True).astype(np.float64)
    t = res.y[res.success]
    others = z.copy()
    others[np.arange(len(t)), t] = -np.inf
    assert np.all(z[np.arange(len(t)), t] - others.max(axis=1) >= kappa - 1e-4)
    # failures are returned unchanged (Algorithm 3 line 3)
    np.testing.assert_array_equal(res.x_adv[~res.success], x[:40][~res.success])


def test_more_binary_search_steps_never_increase_the_distance(model):
    clf, x, _ = model
    short = CarliniL2Method(clf, targeted=False, confidence=0.0, binary_search_steps=2, **FAST).run(x[:30])
    long = CarliniL2Method(clf, targeted=False, confidence=0.0, binary_search_steps=5, **FAST).run(x[:30])
    # the first two steps are identical, and the best result over all steps is kept
    assert np.all(long.success[short.success])
    assert np.all(long.norms["l2"][short.success] <= short.norms["l2"][short.success] + 1e-6)
    assert long.mean_norm("l2") < short.mean_norm("l2")


def test_c_upper_at_or_below_initial_const_skips_the_search(model):
    clf, x, _ = model
    clf.reset_counts()
    adv = CarliniL2Method(clf, targeted=False, initial_const=1.0, c_upper=1.0).generate(x[:10])
    np.testing.assert_array_equal(adv, x[:10])
    assert clf.counts.backward == 0                               # line 6: c < c_upper fails at once


def test_c_upper_stops_the_doubling(model):
    clf, x, _ = model
    x = x[:8]
    # an unreachable margin: every step fails, c doubles 1e-4, 2e-4, 4e-4, 8e-4, then 1.6e-3 >= c_upper
    common = {"targeted": False, "confidence": 1e4, "learning_rate": 0.01, "max_iter": 20, "initial_const": 1e-4}

    def cost(**kw):
        clf.reset_counts()
        adv = CarliniL2Method(clf, **common, **kw).generate(x)
        return clf.counts.as_dict(), adv

    capped, adv_capped = cost(binary_search_steps=25, c_upper=1e-3)
    four, adv_four = cost(binary_search_steps=4, c_upper=1e30)
    more, _ = cost(binary_search_steps=6, c_upper=1e30)
    assert capped == four                                         # stopped after exactly four steps
    assert more["backward"] > four["backward"]
    np.testing.assert_array_equal(adv_capped, x)                  # nothing succeeded: inputs returned


def test_already_adversarial_samples_stop_at_once():
    # a linear model whose logits favour class 1 for every input: untargeted from label 0 the hinge
    # is already zero at distance zero, so each binary-search step stops after its first iteration
    clf = SoftmaxRegression((3,), 2)
    clf.W = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], dtype=np.float32)
    clf.b = np.array([0.0, 1.0], dtype=np.float32)
    x0 = np.full((4, 3), 0.5, dtype=np.float32)
    clf.reset_counts()
    adv = CarliniL2Method(clf, targeted=False, confidence=0.0, binary_search_steps=3, max_iter=10).generate(
        x0, np.zeros(4, dtype=int))
    np.testing.assert_array_equal(adv, x0)
    # one forward + one (zero-weighted) backward pass per step: output_gradient's single pass
    assert clf.counts.as_dict() == {"forward": 3, "backward": 3, "forward_samples": 12, "backward_samples": 12}


def test_needs_clip_values_and_valid_parameters():
    with pytest.raises(InvalidParameterError, match="clip_values"):
        CarliniL2Method(SoftmaxRegression((4,), 3, clip_values=None))
    clf = SoftmaxRegression((4,), 3)
    with pytest.raises(InvalidParameterError, match="confidence"):
        CarliniL2Method(clf, confidence=-1.0)
    with pytest.raises(InvalidParameterError, match="c_upper"):
        CarliniL2Method(clf, c_upper=0.0)


# -- strength on the digits CNN ---------------------------------------------------------------------
STRONG = {"targeted": False, "confidence": 0.0, "learning_rate": 0.2, "decay": 0.05, "binary_search_steps": 2,
          "max_iter": 150, "initial_const": 0.1}


@pytest.fixture(scope="module")
def digits_cw(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:50], y[:50]
    return clf, x, y, CarliniL2Method(clf, verbose=False, **STRONG).run(x, y)


def test_untargeted_strength_and_l2_below_minimal_fgsm(digits_cw):
    from feint_attack_fgsm import FastGradientMethod

    clf, x, y, res = digits_cw
    assert res.success_rate == 1.0                                 # 100 % measured
    fgsm = FastGradientMethod(clf, norm=2, minimal=True, eps_step=0.02, eps_max=5.0, verbose=False).run(x, y)
    assert fgsm.success_rate == 1.0
    assert res.mean_norm("l2") < 0.9 * fgsm.mean_norm("l2")         # 0.518 vs 0.608 measured


def test_l2_below_deepfool(digits_cw):
    pytest.importorskip("feint_attack_deepfool")
    from feint_attack_deepfool import DeepFool

    clf, x, y, res = digits_cw
    df = DeepFool(clf, verbose=False).run(x, y)
    assert df.success_rate >= 0.99
    assert res.mean_norm("l2") < df.mean_norm("l2")                  # 0.518 vs 0.575 measured
