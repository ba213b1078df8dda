"""Algorithm 5: one perturbation for a whole set, any registered inner attack, its reports."""

import numpy as np
import pytest

import feint
from feint.errors import FeintError, InvalidParameterError
from feint.testing import trained_reference
from feint_attack_universal_perturbation import UniversalPerturbation

pytest.importorskip("feint_attack_deepfool")
pytest.importorskip("feint_attack_fgsm")


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


def test_one_perturbation_for_all_inputs(model):
    clf, x, _ = model
    atk = UniversalPerturbation(clf, attacker="fgsm(eps=0.2)", eps=0.3, max_iter=4, random_state=0)
    adv = atk.generate(x[:50])
    np.testing.assert_allclose(adv, np.clip(x[:50] + atk.noise, 0, 1), atol=1e-7)
    assert atk.noise.shape == x.shape[1:]
    assert np.abs(atk.noise).max() <= 0.3 + 1e-6


def test_reports_match_the_predictions(model):
    clf, x, _ = model
    x = x[:50]
    atk = UniversalPerturbation(clf, attacker="deepfool", delta=0.0, max_iter=2, eps=0.15, random_state=0)
    adv = atk.generate(x)
    rate = np.mean(clf.predict(adv).argmax(1) != clf.predict(x).argmax(1))
    assert atk.fooling_rate == pytest.approx(rate)
    assert atk.converged is False and atk.iterations == 2        # 1 - delta = 1 not reached in 2 passes
    assert 0 < rate < 1


def test_stops_when_the_fooling_rate_is_reached(model):
    clf, x, _ = model
    atk = UniversalPerturbation(clf, attacker="deepfool", delta=0.5, eps=10.0, max_iter=20, random_state=0)
    atk.generate(x[:50])
    assert atk.converged and atk.fooling_rate >= 0.5
    assert atk.iterations < 20


def test_delta_one_is_reached_without_iterating(model):
    clf, x, _ = model
    atk = UniversalPerturbation(clf, delta=1.0, random_state=0)
    np.testing.assert_array_equal(atk.generate(x[:10]), x[:10])
    assert atk.iterations == 0 and atk.converged


def test_attacker_is_any_registered_spec(model):
    clf, x, _ = model
    a = UniversalPerturbation(clf, attacker="fgsm(eps=0.1)", eps=0.3, max_iter=2, random_state=1).generate(x[:30])
    b = UniversalPerturbation(clf, attacker="fgsm", attacker_params={"eps": 0.1}, eps=0.3, max_iter=2,
                              random_state=1).generate(x[:30])
    fgsm_cls = feint.load("attack", "fgsm")
    c = UniversalPerturbation(clf, attacker=fgsm_cls(clf, eps=0.1), eps=0.3, max_iter=2,
                              random_state=1).generate(x[:30])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    spec = str(UniversalPerturbation(clf, attacker="fgsm(eps=0.1)", eps=0.3))
    assert spec == "universal_perturbation(attacker='fgsm(eps=0.1)', eps=0.3)"
    assert feint.create("attack", spec, clf) == UniversalPerturbation(clf, attacker="fgsm(eps=0.1)", eps=0.3)


def test_bad_attackers_are_rejected(model):
    clf, _, _ = model
    with pytest.raises(FeintError, match="nosuchattack"):
        UniversalPerturbation(clf, attacker="nosuchattack")
    with pytest.raises(InvalidParameterError, match="untargeted"):
        UniversalPerturbation(clf, attacker="fgsm(target='next')")
    with pytest.raises(InvalidParameterError, match="'eps' parameter of FastGradientMethod"):
        UniversalPerturbation(clf, attacker="fgsm", attacker_params={"eps": -1.0})
    with pytest.raises(InvalidParameterError, match="another attack"):
        UniversalPerturbation(clf, attacker="universal_perturbation")
    with pytest.raises(InvalidParameterError, match=r"'delta' parameter .* Got 1.5"):
        UniversalPerturbation(clf, delta=1.5)


def test_deepfool_attacker_on_digits_training_subset(digits):
    from feint.datasets import load_digits

    clf, _, _ = digits
    (x_train, _), _ = load_digits(channels_first=True)
    x = x_train[:60]
    atk = UniversalPerturbation(clf, attacker="deepfool", random_state=0, verbose=False)
    adv = atk.generate(x)
    rate = np.mean(clf.predict(adv).argmax(1) != clf.predict(x).argmax(1))
    assert atk.fooling_rate == pytest.approx(rate)
    assert atk.converged == (rate >= 1 - atk.delta)
    assert atk.converged, f"fooling rate {rate:.2f} after {atk.iterations} passes"
