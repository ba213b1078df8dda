"""check_trainer fails on faulty trainers; train_on_batch(return_input_gradient=True) on the reference models."""

import numpy as np
import pytest

from feint import Preprocessor, Trainer
from feint._params import Instance, Integer, NoneOk
from feint.errors import CapabilityError, InvalidInputError
from feint.testing import MLPClassifier, SoftmaxRegression, check_trainer, toy_dataset


class Honest(Trainer):
    name = None
    _parameter_constraints = {"nb_epochs": [Integer(1, None)],
                              "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()]}

    def __init__(self, classifier, nb_epochs=2, random_state=None):
        super().__init__(classifier)
        self.nb_epochs = nb_epochs
        self.random_state = random_state
        self._validate()

    def _noise(self, x):
        return np.random.default_rng(self.random_state).uniform(0, 0.05, x.shape).astype(x.dtype)

    def fit(self, x, y, **kwargs):
        from feint.hooks import task

        with task("trainer", "honest", total=self.nb_epochs):
            for _ in range(self.nb_epochs):
                self.classifier.train_on_batch(np.clip(x + self._noise(x), 0, 1), y)
        return self


class Silent(Honest):
    def fit(self, x, y, **kwargs):
        for _ in range(self.nb_epochs):
            self.classifier.train_on_batch(x, y)
        return self


class Mutates(Honest):
    def fit(self, x, y, **kwargs):
        super().fit(x, y)
        x += 0.01
        return self


class Unseeded(Honest):
    def _noise(self, x):
        return np.random.default_rng().uniform(0, 0.05, x.shape).astype(x.dtype)   # ignores random_state


class Lazy(Honest):
    def fit(self, x, y, **kwargs):
        from feint.hooks import task

        with task("trainer", "lazy"):
            pass
        return self


@pytest.fixture
def data():
    return toy_dataset(40)


def test_honest_trainer_passes(data):
    check_trainer(Honest(MLPClassifier((8,), 3)), *data)


@pytest.mark.parametrize("cls, message", [(Silent, "announced no task"), (Mutates, "modified its input"),
                                          (Unseeded, "same random_state"), (Lazy, "did not change")])
def test_faulty_trainers_fail(data, cls, message):
    with pytest.raises(AssertionError, match=message):
        check_trainer(cls(MLPClassifier((8,), 3)), *data)


def test_capability_check_runs(data):
    class NoCheck(Honest):
        def __init__(self, classifier, nb_epochs=2, random_state=None):
            self.classifier = classifier
            self.nb_epochs = nb_epochs
            self.random_state = random_state

    with pytest.raises(AssertionError, match="predict-only"):
        check_trainer(NoCheck(MLPClassifier((8,), 3)), *data, skip=["check_trainer_invalid_params"])


@pytest.mark.parametrize("cls", [SoftmaxRegression, MLPClassifier])
def test_input_gradient_of_training_step(cls):
    x, y = toy_dataset(24)
    clf = cls((8,), 3, dtype="float64")
    ref = clf.loss_gradient(x, y)
    before = clf.predict(x)
    mean_loss = float(clf.loss(x, y).mean())
    loss, g = clf.train_on_batch(x, y, return_input_gradient=True)
    np.testing.assert_allclose(g * len(x), ref, rtol=1e-10, atol=1e-12)   # gradient of the mean loss
    assert loss == pytest.approx(mean_loss, rel=1e-10)                       # taken before the step
    assert not np.allclose(clf.predict(x), before)                         # and the step was taken
    assert clf.counts.backward_samples == 2 * len(x)


def test_input_gradient_needs_the_capability():
    x, y = toy_dataset(8)
    clf = MLPClassifier((8,), 3)
    clf.provides = frozenset({"predict", "train_on_batch"})
    with pytest.raises(CapabilityError, match="train_with_input_gradient"):
        clf.train_on_batch(x, y, return_input_gradient=True)


def test_input_gradient_refuses_augmenting_defences():
    class Doubler(Preprocessor):
        name = None
        apply_predict = False
        changes_count = True

        def transform(self, x, y=None):
            return np.concatenate([x, x]), (None if y is None else np.concatenate([y, y]))

    x, y = toy_dataset(8)
    clf = MLPClassifier((8,), 3, defences=[Doubler()])
    with pytest.raises(InvalidInputError, match="8 inputs into 16"):
        clf.train_on_batch(x, y, return_input_gradient=True)
