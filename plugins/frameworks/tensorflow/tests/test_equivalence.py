"""TensorFlowClassifier and TFClassifier give PyTorch's outputs on the same CNN (atol 1e-5).

The CNN and its weights are those of the Keras equivalence test (``plugins/frameworks/keras``):
conv 3x3 -> relu -> max-pool 2 -> dense 10, channels last here, channels first in PyTorch, with
the kernels and the dense matrix re-ordered for PyTorch's layout.
"""

from __future__ import annotations

import numpy as np
import pytest

ATOL = 1e-5
KEYS = ("probs", "logits", "loss_grad", "cg_logits", "cg_probs", "cg_select")


def outputs(clf, x, y, labels):
    return {"probs": clf.predict(x), "logits": clf.predict(x, logits=True), "loss_grad": clf.loss_gradient(x, y),
            "cg_logits": clf.class_gradient(x, logits=True), "cg_probs": clf.class_gradient(x),
            "cg_select": clf.class_gradient(x, label=labels)}


@pytest.fixture(scope="module")
def reference(weights):
    torch = pytest.importorskip("torch")
    from feint_framework_torch.classifier import PyTorchClassifier

    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(36, 10))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(weights["k"].transpose(3, 2, 0, 1)))
        model[0].bias.copy_(torch.from_numpy(weights["b"]))
        model[4].weight.copy_(torch.from_numpy(
            weights["w"].reshape(3, 3, 4, 10).transpose(3, 2, 0, 1).reshape(10, 36)))  # (h,w,c) -> (c,h,w) order
        model[4].bias.copy_(torch.from_numpy(weights["c"]))
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(1, 8, 8), nb_classes=10)
    out = outputs(clf, weights["x"].transpose(0, 3, 1, 2), weights["y"], weights["labels"])
    return {k: (v if v.ndim == 2 else np.moveaxis(v, -3, -1)) for k, v in out.items()}


def _check(got, reference, name):
    for key in KEYS:
        assert got[key].dtype == np.float32, key
        np.testing.assert_allclose(got[key], reference[key], rtol=0, atol=ATOL, err_msg=f"{key} ({name})")


def test_tf2_equals_pytorch(tf2_clf, weights, reference):
    _check(outputs(tf2_clf, weights["x"], weights["y"], weights["labels"]), reference, "TensorFlowClassifier")


def test_tf_v1_equals_pytorch(v1_clf, weights, reference):
    _check(outputs(v1_clf, weights["x"], weights["y"], weights["labels"]), reference, "TFClassifier")


def test_tf2_on_a_keras_model_equals_pytorch(keras_tf, weights, reference):
    from keras import layers

    from feint_framework_tensorflow.classifier import TensorFlowClassifier

    keras = keras_tf
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2),
                              layers.Flatten(), layers.Dense(10)])
    model.set_weights([weights[k] for k in "kbwc"])
    clf = TensorFlowClassifier((0.0, 1.0), model)
    assert clf.input_shape == (8, 8, 1) and clf.nb_classes == 10
    _check(outputs(clf, weights["x"], weights["y"], weights["labels"]), reference, "TensorFlowClassifier(keras)")
