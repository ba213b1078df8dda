import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_universal_perturbation import UniversalPerturbation

pytest.importorskip("feint_attack_deepfool")
pytest.importorskip("feint_attack_fgsm")


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [
    {"max_iter": 3},
    {"attacker": "fgsm(eps=0.1)", "eps": 0.3, "max_iter": 3},
    {"attacker": "deepfool", "attacker_params": {"max_iter": 10}, "norm": 2, "eps": 1.0, "delta": 0.1,
     "max_iter": 2},
    {"attacker": "fgsm", "attacker_params": {"norm": 1, "eps": 0.5}, "norm": 1, "eps": 0.8, "max_iter": 2},
])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(UniversalPerturbation(clf, **params), x[:24])
