import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_pgd import ProjectedGradientDescent


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [
    {},
    {"num_random_init": 0, "eps": 0.2, "eps_step": 0.05},
    {"norm": 2, "eps": 0.5, "eps_step": 0.2, "max_iter": 5, "num_random_init": 3},
    {"norm": 1, "eps": 1.0, "eps_step": 0.3, "max_iter": 5, "num_random_init": 2},
    {"target": "random", "eps": 0.3, "eps_step": 0.05, "max_iter": 10, "num_random_init": 2},
])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(ProjectedGradientDescent(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    res = ProjectedGradientDescent(clf, eps=0.3, eps_step=0.05, max_iter=10, random_state=0).run(x[:60])
    assert res.success_rate >= 0.9
