"""Fixtures of the TensorFlow adapter tests: the shared small CNN in TF2 and in a v1 graph."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from feint_framework_tensorflow.testing import Module, cnn, graph_model  # noqa: E402


def make_weights() -> dict[str, np.ndarray]:
    """The small CNN's weights and inputs, channels last (the same arrays as the Keras tests)."""
    rng = np.random.default_rng(1234)
    arrays = {
        "k": rng.normal(0.0, 0.6, (3, 3, 1, 4)), "b": rng.normal(0.0, 0.1, 4),
        "w": rng.normal(0.0, 0.5, (36, 10)), "c": rng.normal(0.0, 0.1, 10),
        "x": rng.uniform(0.05, 0.95, (12, 8, 8, 1)),
    }
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    return {"y": np.arange(12) % 10, "labels": rng.integers(0, 10, (12, 2)), **arrays}


@pytest.fixture(scope="session")
def weights():
    return make_weights()


@pytest.fixture(scope="session")
def keras_tf():
    """Keras on the tensorflow backend (for its optimizers), or skip."""
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip(f"Keras runs on {keras.backend.backend()} in this process")
    return keras


@pytest.fixture(scope="session")
def tf2_clf(weights):
    from feint_framework_tensorflow.classifier import TensorFlowClassifier

    w = {k: weights[k] for k in "kbwc"}
    return TensorFlowClassifier((0.0, 1.0), Module(cnn, w), input_shape=(8, 8, 1))


@pytest.fixture(scope="session")
def v1_clf(weights):
    from feint_framework_tensorflow.session import TFClassifier

    x, logits, y, train, loss, _ = graph_model(cnn, {k: weights[k] for k in "kbwc"})
    return TFClassifier((0.0, 1.0), x, logits, y, train, loss)


@pytest.fixture(params=["tensorflow", "tf_v1"])
def clf(request):
    return request.getfixturevalue({"tensorflow": "tf2_clf", "tf_v1": "v1_clf"}[request.param])


def fixture_preprocessors():
    """A straight-through squeeze and an exact affine map, registered under test names."""
    from feint import Preprocessor

    class TestSqueeze(Preprocessor):
        """Round to 2**bit_depth - 1 levels (a feature-squeezing stand-in, straight-through)."""

        name = "testsqueeze"
        gradient_rule = "straight-through"

        def __init__(self, bit_depth: int = 4) -> None:
            self.bit_depth = bit_depth

        def transform(self, x, y=None):
            levels = 2 ** self.bit_depth - 1
            return (np.round(x * levels) / levels).astype(x.dtype), y

    class TestAffine(Preprocessor):
        """x -> 0.5 + s (x - 0.5), with its exact gradient."""

        name = "testaffine"
        gradient_rule = "exact"
        apply_fit = False
        scale = 0.5

        def transform(self, x, y=None):
            return (0.5 + self.scale * (x - 0.5)).astype(x.dtype), y

        def estimate_gradient(self, x, grad):
            return self.scale * grad

    return TestSqueeze, TestAffine


@pytest.fixture
def test_defences():
    from feint.registry import default_registry

    squeeze, affine = fixture_preprocessors()
    reg = default_registry()
    reg.register("defence", "testsqueeze", squeeze, suffix_param="bit_depth", replace=True)
    reg.register("defence", "testaffine", affine, replace=True)
    yield squeeze, affine
    reg.unregister("defence", "testsqueeze")
    reg.unregister("defence", "testaffine")
