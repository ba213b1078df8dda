import pytest

from feint.testing import check_trainer, trained_reference
from feint_defence_adversarial_trainer import AdversarialTrainer


@pytest.mark.parametrize("params", [{"attacks": "fgsm(eps=0.1)"},
                                    {"attacks": ["fgsm(eps=0.1)", "pgd(eps=0.1, max_iter=2)"], "ratio": 0.5,
                                     "labels": "true"}])
def test_contract(params):
    clf, x, y = trained_reference("mlp", n=48, nb_epochs=5)
    check_trainer(AdversarialTrainer(clf, **params), x, y,
                  fit_kwargs={"nb_epochs": 2, "batch_size": 16, "random_state": 0})
