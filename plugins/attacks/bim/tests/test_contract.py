import numpy as np
import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_bim import BasicIterativeMethod


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [
    {},
    {"norm": 2, "eps": 0.5, "eps_step": 0.1, "max_iter": 5},
    {"norm": 1, "eps": 1.0, "eps_step": 0.3, "max_iter": 5},
    {"eps": 0.1, "eps_step": 0.5, "max_iter": 3},                    # eps_step > eps: projection bounds it
    {"target": "least_likely", "eps": 0.3, "eps_step": 0.05, "max_iter": 10},
])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(BasicIterativeMethod(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    res = BasicIterativeMethod(clf, eps=0.3, eps_step=0.05, max_iter=10).run(x[:60])
    assert res.success_rate >= 0.9
    assert np.all(res.norms["linf"] <= 0.3 + 1e-6)
