import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_vat import VirtualAdversarialMethod


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"eps": 0.5, "max_iter": 3}, {"method": "finite_diff", "finite_diff": 1e-3},
                                    {"xi": 1e-3, "max_iter": 0}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(VirtualAdversarialMethod(clf, **params), x[:24])
