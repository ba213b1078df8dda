"""The feint.testing contract kit over TensorFlowClassifier and TFClassifier."""

from __future__ import annotations

import numpy as np
import pytest

from feint.testing import check_classifier


def test_contract(clf, weights):
    # ReLU/max-pool kinks: a float32 difference step of 1e-3 stays clear of them on these inputs,
    # where the kit's default 1e-2 can straddle one (exact agreement with PyTorch is tested in
    # test_equivalence.py).
    check_classifier(clf, weights["x"], fd_h=1e-3)


INFERENCE_CHECKS = ("check_predict", "check_counters", "check_class_gradient", "check_output_gradient", "check_loss_gradient",
                    "check_finite_differences", "check_bad_inputs")


def test_contract_training_tf2(weights, keras_tf):
    from feint_framework_tensorflow.classifier import TensorFlowClassifier
    from feint_framework_tensorflow.testing import Module, cnn

    clf = TensorFlowClassifier((0.0, 1.0), Module(cnn, {k: weights[k] for k in "kbwc"}),
                               optimizer=keras_tf.optimizers.SGD(0.1), input_shape=(8, 8, 1))
    assert "train_with_input_gradient" in clf.provides
    check_classifier(clf, weights["x"], training=True, skip=INFERENCE_CHECKS)
    _input_gradient_is_the_mean_loss_gradient(clf, weights)


def test_contract_training_tf_v1(weights):
    from feint_framework_tensorflow.session import TFClassifier
    from feint_framework_tensorflow.testing import cnn, graph_model

    x, logits, y, train, loss, _ = graph_model(cnn, {k: weights[k] for k in "kbwc"})
    clf = TFClassifier((0.0, 1.0), x, logits, y, train, loss)
    check_classifier(clf, weights["x"], training=True, skip=INFERENCE_CHECKS)
    _input_gradient_is_the_mean_loss_gradient(clf, weights)


def _input_gradient_is_the_mean_loss_gradient(clf, weights):
    x, y = weights["x"], weights["y"]
    ref = clf.loss_gradient(x, y)  # summed cross-entropy, before the step
    before = float(clf.loss(x, y).mean())
    loss, g = clf.train_on_batch(x, y, return_input_gradient=True)
    np.testing.assert_allclose(g * len(x), ref, rtol=0, atol=1e-5)  # the mean loss's gradient, same pass
    assert loss == pytest.approx(before, rel=1e-4)  # the loss of the weights before the step
