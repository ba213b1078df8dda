"""The contract kits fail on faulty implementations (a kit that cannot fail proves nothing)."""

import numpy as np
import pytest

from feint import Attack, Preprocessor
from feint._params import Real
from feint.testing import SoftmaxRegression, check_attack, check_classifier, check_preprocessor, trained_reference


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp", nb_epochs=10)


class _Base(Attack):
    name = None
    _parameter_constraints = {"eps": [Real(0, None, "left")]}

    def __init__(self, classifier, eps=0.1, norm=np.inf, targeted=False, target=None, batch_size=128,
                 random_state=None, verbose=True):
        super().__init__(classifier)
        self._init_params(locals())


class Honest(_Base):
    def _generate_batch(self, x, y, rng):
        g = self.classifier.loss_gradient(x, y)
        return x + self.eps * np.sign(g) if self.eps else x


class Mutates(Honest):
    def generate(self, x, y=None, **params):
        out = super().generate(x, y, **params)
        x[...] = out  # writes into the caller's array
        return out


class LeavesBall(_Base):
    def _generate_batch(self, x, y, rng):
        return x + 3 * self.eps * np.sign(self.classifier.loss_gradient(x, y))


class Unseeded(_Base):
    def _generate_batch(self, x, y, rng):
        return x + np.random.uniform(-self.eps, self.eps, x.shape).astype(x.dtype)  # noqa: NPY002 - the fault


class BatchDependent(_Base):
    def _generate_batch(self, x, y, rng):
        return x + self.eps * min(len(x), 5) / 5 * np.ones_like(x)


class Prints(Honest):
    def _generate_batch(self, x, y, rng):
        print("attacking!")
        return super()._generate_batch(x, y, rng)


def test_honest_attack_passes(model):
    check_attack(Honest(model[0]), model[1][:12])


@pytest.mark.parametrize("cls, fragment", [
    (Mutates, "modified its input"), (LeavesBall, "exceed"), (Unseeded, "same random_state"),
    (BatchDependent, "batch_size"), (Prints, "printed"),
])
def test_faulty_attacks_fail(model, cls, fragment):
    with pytest.raises(AssertionError, match=fragment):
        check_attack(cls(model[0], eps=0.05), model[1][:12])


class WrongGradient(SoftmaxRegression):
    def _loss_gradient(self, x, targets):
        return 2 * super()._loss_gradient(x, targets)


class InPlacePredict(SoftmaxRegression):
    def _predict(self, x, logits):
        out = super()._predict(x, logits)
        x *= 0  # mutates the batch it was handed (a copy: the base class protects the caller)
        return out


def test_wrong_gradient_is_caught():
    clf = WrongGradient((8,), 3, dtype="float64", random_state=0)
    with pytest.raises(AssertionError, match="loss_gradient"):
        check_classifier(clf)


def test_base_class_protects_caller_arrays():
    clf = InPlacePredict((8,), 3)
    check_classifier(clf, skip=("check_finite_differences", "check_loss_gradient"))


class MutatingPrep(Preprocessor):
    name = "mutating"

    def __init__(self):
        pass

    def transform(self, x, y=None):
        x += 0.1
        return x, y


class GoodPrep(Preprocessor):
    name = "goodprep"
    gradient_rule = "straight-through"

    def __init__(self):
        pass

    def transform(self, x, y=None):
        return np.clip(x, 0.2, 0.8), y


def test_preprocessor_kit():
    check_preprocessor(GoodPrep(), idempotent=True)
    with pytest.raises(AssertionError, match="in place"):
        check_preprocessor(MutatingPrep())
