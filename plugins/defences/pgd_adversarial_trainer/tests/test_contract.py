import pytest

from feint.testing import MLPClassifier, check_trainer, toy_dataset
from feint_defence_pgd_adversarial_trainer import PGDAdversarialTrainer


@pytest.mark.parametrize("params", [{}, {"ratio": 0.5, "norm": 2, "eps": 0.5, "eps_step": 0.2},
                                    {"attack": "pgd(eps=0.1, eps_step=0.05, max_iter=2)"}])
def test_contract(params):
    x, y = toy_dataset(48)
    params = {"max_iter": 2, "eps_step": 0.1, "nb_epochs": 2, "batch_size": 16, **params}
    if "attack" in params:
        del params["max_iter"], params["eps_step"]
    check_trainer(PGDAdversarialTrainer(MLPClassifier((8,), 3), **params), x, y)
