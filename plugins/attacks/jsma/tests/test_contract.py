import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_jsma import SaliencyMapMethod


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"theta": 1.0, "gamma": 0.5}, {"theta": -0.2},
                                    {"logits": True, "theta": 0.3}, {"target": "next", "gamma": 0.25}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(SaliencyMapMethod(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    assert SaliencyMapMethod(clf, theta=0.2, random_state=0).run(x[:60]).success_rate > 0.9
