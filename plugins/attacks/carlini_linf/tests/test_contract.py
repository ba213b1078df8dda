import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_carlini_linf import CarliniLInfMethod

FAST = {"max_iter": 20, "initial_const": 0.1, "learning_rate": 0.01}


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"box": "tanh", "target": "next"}, {"confidence": 0.5}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(CarliniLInfMethod(clf, **FAST, **params), x[:18], success_threshold=0.9)
