"""A table of bad inputs: each raises a FeintError subclass whose message names value and expectation."""

import numpy as np
import pytest

import feint
from feint.errors import (
    CapabilityError,
    FeintError,
    InvalidInputError,
    InvalidParameterError,
    SpecSyntaxError,
    UnknownComponentError,
)
from feint.testing import MLPClassifier, trained_reference


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp", nb_epochs=5)


def _noise_attack():
    from feint import Attack
    from feint._params import Real

    class Step(Attack):
        """Sign-gradient step (test double)."""

        name = "step"
        _parameter_constraints = {"eps": [Real(0, None, "neither")]}

        def __init__(self, classifier, eps=0.1, norm=np.inf, targeted=False, target=None, batch_size=16,
                     random_state=None, verbose=True):
            super().__init__(classifier)
            self._init_params(locals())

        def _generate_batch(self, x, y, rng):
            return x + self.eps * np.sign(self.classifier.loss_gradient(x, y))

    return Step


CASES = [
    # (description, callable(model), error type, message fragments)
    ("wrong input shape", lambda m: m[0].predict(m[1][:, :5]), InvalidInputError, ["(n, 8)", "(300, 5)"]),
    ("single sample without batch axis", lambda m: m[0].predict(m[1][0]), InvalidInputError, ["x[None]"]),
    ("NaN input", lambda m: m[0].predict(np.where(m[1] > 0.5, np.nan, m[1])), InvalidInputError, ["NaN"]),
    ("inf input", lambda m: m[0].loss_gradient(np.full_like(m[1], np.inf), m[2]), InvalidInputError, ["infinite"]),
    ("outside clip_values", lambda m: m[0].predict(m[1] + 2), InvalidInputError, ["outside clip_values", "(0.0, 1.0)"]),
    ("non-numeric input", lambda m: m[0].predict(np.array([["a"] * 8])), InvalidInputError, ["dtype"]),
    ("not an array", lambda m: m[0].predict("x"), InvalidInputError, ["numpy array", "str"]),
    ("label count", lambda m: m[0].loss_gradient(m[1], m[2][:-1]), InvalidInputError, ["300 labels", "299"]),
    ("label range", lambda m: m[0].loss_gradient(m[1], m[2] + 3), InvalidInputError, ["[0, 2]", "[3, 5]"]),
    ("non-integral labels", lambda m: m[0].loss_gradient(m[1], m[2] + 0.5), InvalidInputError, ["integer class"]),
    ("one-hot of wrong width", lambda m: m[0].loss_gradient(m[1], np.eye(4)[m[2]]), InvalidInputError, ["(300, 3)", "(300, 4)"]),
    ("rows not probabilities", lambda m: m[0].loss_gradient(m[1], np.ones((300, 3))), InvalidInputError, ["probability rows"]),
    ("soft labels for an attack", lambda m: _noise_attack()(m[0]).generate(m[1], np.full((300, 3), 1 / 3)),
     InvalidInputError, ["not one-hot"]),
    ("class_gradient label range", lambda m: m[0].class_gradient(m[1], label=7), InvalidInputError, ["[0, 2]", "7"]),
    ("batch_size 0", lambda m: m[0].predict(m[1], batch_size=0), InvalidParameterError, ["batch_size", "0"]),
    ("negative eps", lambda m: _noise_attack()(m[0], eps=-0.1), InvalidParameterError,
     ["The 'eps' parameter of Step must be a float > 0. Got -0.1 instead."]),
    ("eps of wrong type", lambda m: _noise_attack()(m[0], eps="big"), InvalidParameterError, ["'big'"]),
    ("bad target rule", lambda m: _noise_attack()(m[0], target="farthest"), InvalidParameterError,
     ["'least_likely'", "'farthest'"]),
    ("unknown parameter", lambda m: _noise_attack()(m[0]).set_params(epsilon=1), InvalidParameterError,
     ["epsilon", "eps"]),
    ("targeted without labels", lambda m: _noise_attack()(m[0], targeted=True).generate(m[1]), InvalidInputError,
     ["target classes", "least_likely"]),
    ("bad clip_values", lambda m: MLPClassifier((8,), 3, clip_values=(1, 0)), InvalidParameterError,
     ["clip_values", "(1, 0)"]),
    ("bad nb_classes", lambda m: MLPClassifier((8,), 1), InvalidParameterError, ["nb_classes", "1"]),
    ("bad eot_samples", lambda m: MLPClassifier((8,), 3, eot_samples=0), InvalidParameterError, ["eot_samples", "0"]),
    ("capability mismatch", lambda m: _noise_attack()(_predict_only(m[0])), CapabilityError,
     ["loss_gradient", "'predict'"]),
    ("unknown attack", lambda m: feint.create("attack", "fgsn_xyz", m[0]), UnknownComponentError, ["fgsn_xyz"]),
    ("unknown kind", lambda m: feint.create("gadget", "x"), InvalidParameterError, ["'gadget'", "attack"]),
    ("bad spec", lambda m: feint.create("attack", "pgd(eps=os.x)", m[0]), SpecSyntaxError, ["^"]),
    ("unknown defence string", lambda m: MLPClassifier((8,), 3, defences="featsqeeze_nonexistent5"),
     UnknownComponentError, ["featsqeeze_nonexistent5"]),
    ("defence of wrong type", lambda m: MLPClassifier((8,), 3, defences=3), InvalidParameterError, ["defences", "3"]),
]


def _predict_only(clf):
    import copy

    c = copy.copy(clf)
    c.provides = frozenset({"predict"})
    return c


@pytest.mark.parametrize("what, call, err, fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_table(model, what, call, err, fragments):
    with pytest.raises(err) as info:
        call(model)
    assert isinstance(info.value, FeintError)
    for frag in fragments:
        assert frag in str(info.value), f"{frag!r} not in {str(info.value)!r}"


def test_every_public_error_is_a_feint_error():
    import feint.errors as e

    for name in e.__all__:
        cls = getattr(e, name)
        if isinstance(cls, type) and issubclass(cls, Exception) and not issubclass(cls, Warning):
            assert issubclass(cls, FeintError), name


def test_parameters_set_after_a_run_are_checked_again(model):
    # generate keeps the last validated parameters: a new value, or a mutable one changed in
    # place, must still be validated and show in the spec
    clf, x, y = model
    atk = _noise_attack()(clf, eps=0.1, verbose=False)
    atk.generate(x[:4], y[:4])
    assert atk._checked_spec() == "step(verbose=False)"
    atk.eps = -0.5
    with pytest.raises(InvalidParameterError, match="-0.5"):
        atk.generate(x[:4], y[:4])
    atk.eps = 0.2
    atk.generate(x[:4], y[:4])
    assert atk._checked_spec() == "step(eps=0.2, verbose=False)"
    atk.eps = [0.1]                           # mutable: never kept, so always checked
    with pytest.raises(InvalidParameterError, match=r"\[0.1\]"):
        atk.generate(x[:4], y[:4])
