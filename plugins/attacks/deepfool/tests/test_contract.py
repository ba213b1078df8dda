import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_deepfool import DeepFool


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"max_iter": 5, "overshoot": 0.1}, {"nb_grads": 2}, {"overshoot": 0.0}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(DeepFool(clf, **params), x[:24])


def test_success_on_reference(model):
    clf, x, _ = model
    assert DeepFool(clf).run(x[:60]).success_rate >= 0.95
