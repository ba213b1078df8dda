import numpy as np
import pytest

from feint.testing import MLPClassifier, check_classifier, check_trainer, trained_reference
from feint_defence_defensive_distillation import DefensiveDistillation, DistilledClassifier


@pytest.mark.parametrize("temperature", [100.0, 2.0])
def test_contract(temperature):
    teacher, x, y = trained_reference("mlp", n=60, nb_epochs=20)
    check_trainer(DefensiveDistillation(teacher, temperature=temperature, nb_epochs=3, batch_size=16), x, y,
                  fit_kwargs={"student": MLPClassifier((8,), 3, random_state=3), "random_state": 0})


@pytest.mark.parametrize("temperature", [0.5, 3.0])
def test_distilled_classifier_contract(temperature):
    """Predictions and exact gradients of softmax(T * Z) against finite differences (float64)."""
    student, x, _ = trained_reference("mlp", n=60, nb_epochs=20, dtype="float64")
    check_classifier(DistilledClassifier(student, temperature), x[:12])


def test_distilled_classifier_contract_float32():
    student, x, _ = trained_reference("mlp", n=60, nb_epochs=20)
    check_classifier(DistilledClassifier(student, 2.0), x[:12].astype(np.float32))
