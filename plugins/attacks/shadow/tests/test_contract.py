import pytest

from feint.testing import check_attack
from feint_attack_shadow import ShadowAttack


@pytest.mark.parametrize("params", [
    {"sigma": 0.0, "nb_steps": 20},
    {"sigma": 0.2, "sample_size": 3, "nb_steps": 10, "targeted": True, "target": "next"},
])
def test_contract(colour_model, params):
    clf, x, _ = colour_model
    check_attack(ShadowAttack(clf, **params), x[:12])
