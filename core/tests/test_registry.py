"""The registry in isolation: in-process registration, aliases, compact forms, suggestions."""

import warnings

import numpy as np
import pytest

from feint import Attack, Preprocessor, PreprocessorChain
from feint._params import Integer, Real
from feint.errors import InvalidParameterError, SpecSyntaxError, UnknownComponentError
from feint.registry import Registry


class Squeeze(Preprocessor):
    """Round to bit depth (test double)."""

    name = "squeeze"
    _parameter_constraints = {"bit_depth": [Integer(1, 16)]}

    def __init__(self, bit_depth=8):
        self.bit_depth = bit_depth
        self._validate()

    def transform(self, x, y=None):
        m = 2**self.bit_depth - 1
        return np.round(x * m) / m, y


class Blur(Preprocessor):
    """Identity 'blur' (test double)."""

    name = "blur"
    _parameter_constraints = {"size": [Integer(1, None)]}

    def __init__(self, size=3):
        self.size = size
        self._validate()

    def transform(self, x, y=None):
        return x.copy(), y


class Noise(Attack):
    """Noise attack (test double)."""

    name = "noise"
    requires = frozenset({"predict"})
    _parameter_constraints = {"eps": [Real(0, None, "left")]}

    def __init__(self, classifier, eps=0.1, norm=np.inf, targeted=False, target=None, batch_size=128,
                 random_state=None, verbose=True):
        super().__init__(classifier)
        self._init_params(locals())

    def _generate_batch(self, x, y, rng):
        return x + rng.uniform(-self.eps, self.eps, x.shape[1:])


def metric_mean(classifier, x, scale=1.0):
    """Mean prediction (test double)."""
    return float(classifier.predict(x).mean() * scale)


@pytest.fixture
def reg():
    r = Registry()
    r.register("defence", "squeeze", Squeeze, suffix_param="bit_depth", aliases=("sq",))
    r.register("defence", "blur", Blur, aliases=("smooth",))
    r.register("attack", "noise", Noise)
    r.register("metric", "mean", metric_mean)
    return r


def test_isolated_registry_discovers_nothing():
    assert Registry().names() == []


def test_compact_forms_aliases_and_chains(reg):
    assert reg.create("defence", "squeeze5") == Squeeze(bit_depth=5)
    assert reg.create("defence", "squeeze") == Squeeze()
    assert reg.create("defence", "sq") == Squeeze()
    chain = reg.create("defence", "squeeze5+smooth(size=5)")
    assert isinstance(chain, PreprocessorChain) and chain.steps == [Squeeze(5), Blur(5)]
    assert str(chain) == "squeeze(bit_depth=5)+blur(size=5)"
    assert reg.create("defence", ["squeeze3", "blur"]).steps == [Squeeze(3), Blur()]
    assert reg.create("defence", str(chain)) == chain


def test_explicit_kwargs_override_spec(reg):
    assert reg.create("defence", "squeeze(bit_depth=2)", bit_depth=4) == Squeeze(4)


def test_unknown_names_suggest(reg):
    with pytest.raises(UnknownComponentError) as info:
        reg.create("defence", "squeez")
    assert "squeeze" in info.value.suggestions
    assert "did you mean 'squeeze'" in str(info.value)


def test_unknown_known_elsewhere_gives_install_hint():
    with pytest.raises(UnknownComponentError, match=r"feint-attack-deepfool \(pip install feint-attack-deepfool\)"):
        Registry().create("attack", "deepfool")


def test_unknown_parameter_suggests(reg):
    with pytest.raises(InvalidParameterError, match=r"no parameter 'bitdepth' \(did you mean 'bit_depth'\?\)"):
        reg.create("defence", "squeeze(bitdepth=3)")


def test_chain_only_for_defences(reg):
    with pytest.raises(SpecSyntaxError, match="only for defences"):
        reg.create("attack", "noise+noise")


def test_register_refuses_duplicates(reg):
    with pytest.raises(InvalidParameterError, match="already registered"):
        reg.register("defence", "squeeze", Blur)
    reg.register("defence", "squeeze", Blur, replace=True)
    assert reg.load("defence", "squeeze") is Blur


def test_register_rejects_bad_names(reg):
    with pytest.raises(InvalidParameterError, match="identifier"):
        reg.register("attack", "my-attack", Noise)
    with pytest.raises(InvalidParameterError, match="kind"):
        reg.register("gadget", "x", Noise)


def test_metric_is_bound_with_params(reg):
    from feint.testing import trained_reference

    clf, x, _ = trained_reference("softmax", nb_epochs=1)
    m = reg.create("metric", "mean(scale=2.0)")
    assert str(m) == "mean(scale=2.0)"
    assert m(clf, x) == pytest.approx(2 * metric_mean(clf, x))
    assert reg.create("metric", str(m)) == m
    with pytest.raises(InvalidParameterError, match="no parameter"):
        reg.create("metric", "mean(scael=2)")


def test_list_patterns_and_natural_sort():
    r = Registry()
    for n in ("a10", "a2", "b1"):
        r.register("defence", n, Blur)
    assert r.names("defence") == ["a2", "a10", "b1"]
    assert r.names("defence", "a*") == ["a2", "a10"]
    assert r.names("defence", ["b*", "a1*"]) == ["a10", "b1"]


def test_info_describes_parameters(reg):
    info = reg.info("squeeze5")
    assert info["name"] == "squeeze" and info["bound"] == {"bit_depth": 5}
    assert info["parameters"] == {"bit_depth": "8"}
    assert info["aliases"] == ["sq", "squeeze<n> (bit_depth=n)"]
    assert info["summary"] == "Round to bit depth (test double)."


def test_instances_and_classes_are_accepted(reg):
    s = Squeeze(3)
    assert reg.create("defence", s) is s
    assert reg.create("defence", Squeeze, bit_depth=2) == Squeeze(2)


def test_no_warning_for_clean_registry(reg):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.names()
