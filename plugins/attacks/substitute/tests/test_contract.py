import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_substitute import SubstituteBlackBox

SMALL = {"nb_rounds": 3, "nb_epochs": 10}


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"attack": "fgsm(eps=0.6, norm=2)", "lmbda": 0.2},
                                    {"target": "next", "attack": "fgsm(eps=0.4)"}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(SubstituteBlackBox(clf, **{**SMALL, **params}, verbose=False), x[:24], success_threshold=0.5)
