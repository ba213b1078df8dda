import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_carlini_l2 import CarliniL2Method

FAST = {"learning_rate": 0.05, "binary_search_steps": 3, "max_iter": 40, "initial_const": 1.0}


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{"targeted": False, "confidence": 0.0}, {"target": "next"},
                                    {"targeted": False, "decay": 0.1, "confidence": 1.0}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(CarliniL2Method(clf, **FAST, **params), x[:24])


def test_contract_paper_confidence_and_learning_rate(model):
    clf, x, _ = model
    # the paper's confidence, learning rate and initial constant, with fewer iterations; targets by rule
    check_attack(CarliniL2Method(clf, target="least_likely", learning_rate=1e-4, binary_search_steps=2, max_iter=20),
                 x[:6],
                 skip=["check_batch_invariance"])
