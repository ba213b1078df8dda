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


@pytest.fixture
def test_defences():
    from feint.testing.preprocessors import registered

    with registered() as classes:
        yield classes
