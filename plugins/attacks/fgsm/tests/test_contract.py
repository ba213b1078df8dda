import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_fgsm import FastGradientMethod


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"norm": 2, "eps": 0.5}, {"norm": 1, "eps": 1.0},
                                    {"minimal": True, "eps_step": 0.05, "eps_max": 0.6},
                                    {"targeted": True, "target": "next", "eps": 0.2}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(FastGradientMethod(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    check_attack(FastGradientMethod(clf, eps=0.4), x[:60], success_threshold=0.7, skip=[c for c in (
        "check_invalid_params", "check_seed", "check_batch_invariance", "check_capabilities")])
    assert FastGradientMethod(clf, eps=0.4).run(x[:60]).success_rate > 0.7
