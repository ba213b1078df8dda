import pytest

from feint.testing import MLPClassifier, SoftmaxRegression, check_trainer, toy_dataset
from feint_defence_free_adversarial_trainer import FreeAdversarialTrainer


@pytest.mark.parametrize("cls, params", [(MLPClassifier, {}), (SoftmaxRegression, {"norm": 2, "eps": 0.5}),
                                         (MLPClassifier, {"norm": 1, "eps": 1.0, "replays": 2})])
def test_contract(cls, params):
    x, y = toy_dataset(48)
    params = {"replays": 3, **params}
    check_trainer(FreeAdversarialTrainer(cls((8,), 3), nb_epochs=2, batch_size=16, **params), x, y)
