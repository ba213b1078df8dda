import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_newtonfool import NewtonFool


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"eta": 0.05, "max_iter": 10}, {"max_iter": 1}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(NewtonFool(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    assert NewtonFool(clf, eta=0.05).run(x[:60]).success_rate >= 0.9
