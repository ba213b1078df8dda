import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_apgd import AutoProjectedGradientDescent


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.fixture(scope="module")
def model5():
    return trained_reference("mlp", nb_classes=5)


@pytest.mark.parametrize("params", [
    {"eps": 0.2, "max_iter": 20, "nb_random_init": 2},
    {"norm": 2, "eps": 0.5, "max_iter": 20, "loss_type": "dlr"},
    {"eps": 0.3, "max_iter": 20, "target": "least_likely"},
])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(AutoProjectedGradientDescent(clf, **params), x[:24])


def test_contract_targeted_dlr(model5):
    clf, x, _ = model5
    atk = AutoProjectedGradientDescent(clf, eps=0.3, max_iter=20, loss_type="dlr", targeted=True, target="next")
    check_attack(atk, x[:24], success_threshold=0.9)


def test_success_on_reference(model):
    clf, x, _ = model
    res = AutoProjectedGradientDescent(clf, eps=0.3, max_iter=30, nb_random_init=1, random_state=0).run(x[:60])
    assert res.success_rate > 0.9
