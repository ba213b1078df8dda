import numpy as np
import pytest

from feint.testing import MLPClassifier, check_trainer, toy_dataset
from feint_defence_fast_adversarial_trainer import FastAdversarialTrainer


@pytest.mark.parametrize("params", [{}, {"eps": 0.5, "alpha": 0.4, "norm": 2}, {"norm": 1, "eps": 1.0}])
def test_contract(params):
    x, y = toy_dataset(48)
    check_trainer(FastAdversarialTrainer(MLPClassifier((8,), 3), nb_epochs=2, batch_size=16, **params), x, y)


def test_contract_with_one_hot_labels():
    x, y = toy_dataset(32)
    check_trainer(FastAdversarialTrainer(MLPClassifier((8,), 3), nb_epochs=1, batch_size=16), x,
                  np.eye(3, dtype=np.float32)[y], skip=["check_trainer_invalid_params"])
