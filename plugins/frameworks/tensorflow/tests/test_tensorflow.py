"""Behaviour of TensorFlowClassifier and TFClassifier beyond the contract kit."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tensorflow as tf

import feint
from feint.errors import FeintError, InvalidInputError, InvalidParameterError, UnknownComponentError
from feint_framework_tensorflow.classifier import TensorFlowClassifier
from feint_framework_tensorflow.session import TFClassifier
from feint_framework_tensorflow.testing import Module, cnn, digits_cnn, digits_weights, graph_model

v1 = tf.compat.v1


@pytest.fixture(scope="module")
def digits():
    from feint.datasets import load_digits

    return load_digits(channels_first=False)


def _digits_classifier(kind, keras=None):
    if kind == "tensorflow":
        return TensorFlowClassifier((0.0, 1.0), Module(digits_cnn, digits_weights(0)),
                                    optimizer=keras.optimizers.Adam(1e-2), input_shape=(8, 8, 1))
    x, logits, y, train, loss, _ = graph_model(digits_cnn, digits_weights(0), lr=1e-2)
    return TFClassifier((0.0, 1.0), x, logits, y, train, loss)


@pytest.mark.parametrize("kind", ["tensorflow", "tf_v1"])
def test_fit_on_digits(kind, digits, request):
    keras = request.getfixturevalue("keras_tf") if kind == "tensorflow" else None
    (x_tr, y_tr), (x_te, y_te) = digits
    clf = _digits_classifier(kind, keras)
    before = clf.loss(x_tr[:64], y_tr[:64]).mean()
    losses = [clf.train_on_batch(x_tr[:64], y_tr[:64]) for _ in range(5)]
    assert losses[-1] < losses[0] and clf.loss(x_tr[:64], y_tr[:64]).mean() < before
    t0 = time.perf_counter()
    clf.fit(x_tr, y_tr, batch_size=64, nb_epochs=8, random_state=0)
    seconds = time.perf_counter() - t0
    acc = (clf.predict(x_te).argmax(axis=1) == y_te).mean()
    print(f"{kind}: digits test accuracy {acc:.3f} after fit in {seconds:.1f} s")
    assert acc > 0.9


def test_defences_through_strings(clf, weights, test_defences):
    squeeze, affine = test_defences
    x, y = weights["x"], weights["y"]
    sq, aff = squeeze(bit_depth=2).transform(x)[0], affine().transform(x)[0]
    d = clf.with_defences("testsqueeze2")
    np.testing.assert_allclose(d.predict(x), clf.predict(sq), atol=1e-6)
    # straight-through: the gradient at the squeezed input, passed through unchanged
    np.testing.assert_allclose(d.loss_gradient(x, y), clf.loss_gradient(sq, y), atol=1e-6)
    np.testing.assert_allclose(d.class_gradient(x, label=y), clf.class_gradient(sq, label=y), atol=1e-6)
    # exact: the chain rule through the affine map
    a = clf.with_defences("testaffine")
    np.testing.assert_allclose(a.loss_gradient(x, y), affine.scale * clf.loss_gradient(aff, y), atol=1e-6)
    chain = clf.with_defences("testaffine+testsqueeze2")
    both = squeeze(bit_depth=2).transform(aff)[0]
    np.testing.assert_allclose(chain.predict(x), clf.predict(both), atol=1e-6)
    np.testing.assert_allclose(chain.loss_gradient(x, y), affine.scale * clf.loss_gradient(both, y), atol=1e-6)
    with pytest.raises(UnknownComponentError) as info:
        clf.with_defences("testsqeeze2")
    assert "testsqueeze" in info.value.suggestions


def test_paper_defence_strings(clf, weights):
    """'featsqueeze5+smooth' through the real defence plugins: applied in order, gradients straight through."""
    pytest.importorskip("feint_defence_featsqueeze")
    pytest.importorskip("feint_defence_spatial_smoothing")
    x, y = weights["x"], weights["y"]
    d = clf.with_defences("featsqueeze5+smooth")
    assert d.preprocessors[1].channel_index == 3  # filled in from the classifier
    xp = d.preprocessors[1].transform(d.preprocessors[0].transform(x)[0])[0]
    np.testing.assert_allclose(d.predict(x), clf.predict(xp), atol=1e-6)
    np.testing.assert_allclose(d.loss_gradient(x, y), clf.loss_gradient(xp, y), atol=1e-6)


def test_defence_string_in_constructor(weights, test_defences):
    x, logits, *_ = graph_model(cnn, {k: weights[k] for k in "kbwc"})
    clf = TFClassifier((0.0, 1.0), x, logits, defences="testsqueeze3")
    assert [p.bit_depth for p in clf.preprocessors] == [3]
    with pytest.raises(UnknownComponentError, match="testsqueeze"):
        TensorFlowClassifier((0.0, 1.0), Module(cnn, {k: weights[k] for k in "kbwc"}), input_shape=(8, 8, 1),
                             defences="testsqeeze")


def test_bad_inputs_name_the_shapes(clf, weights):
    x, y = weights["x"], weights["y"]
    with pytest.raises(InvalidInputError, match=r"\(n, 8, 8, 1\).*\(12, 8, 8\)"):
        clf.predict(x[..., 0])
    with pytest.raises(InvalidInputError, match=r"\(12, 1, 8, 8\).*channel_index=3"):
        clf.loss_gradient(x.transpose(0, 3, 1, 2), y)
    nan = x.copy()
    nan[1, 2, 3, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        clf.class_gradient(nan)
    with pytest.raises(FeintError, match="12 labels.*Got 11"):
        clf.loss_gradient(x, y[:-1])
    with pytest.raises(FeintError, match=r"\(12, 10\).*\(12, 3\)"):
        clf.loss_gradient(x, np.ones((12, 3)))
    assert clf.predict(x.astype(np.float64)).dtype == np.float32
    assert clf.class_gradient(x.astype(np.float64), label=0).dtype == np.float32


def test_v1_graph_mode_stays_inside_its_graph(v1_clf, weights):
    assert tf.executing_eagerly()
    v1_clf.class_gradient(weights["x"], label=np.zeros((12, 3), dtype=int))
    assert tf.executing_eagerly()


def test_v1_learning_placeholder_switches_train_mode(weights):
    x, logits, y, train, loss, learning = graph_model(cnn, {k: weights[k] for k in "kbwc"}, dropout=0.5)
    clf = TFClassifier((0.0, 1.0), x, logits, y, train, loss, learning)
    xs, ys = weights["x"], weights["y"]
    p = clf.predict(xs)
    assert np.array_equal(p, clf.predict(xs)) and np.array_equal(clf.loss_gradient(xs, ys), clf.loss_gradient(xs, ys))
    # in training the dropout is on: the same step twice on the same weights gives different losses
    feed = {x: xs, y: ys, learning: True}
    assert clf.sess.run(loss, feed) != clf.sess.run(loss, feed)
    clf.train_on_batch(xs, ys)
    assert not np.array_equal(p, clf.predict(xs))


def test_v1_parameter_errors(weights):
    w = {k: weights[k] for k in "kbwc"}
    with pytest.raises(InvalidParameterError, match="tf.Graph"):
        TFClassifier((0.0, 1.0), tf.zeros((1, 8, 8, 1)), tf.zeros((1, 10)))
    with tf.Graph().as_default():
        free = v1.placeholder(tf.float32, (None, None, None, 1))
        with pytest.raises(InvalidParameterError, match="known input shape"):
            TFClassifier((0.0, 1.0), free, tf.reduce_sum(free, axis=(1, 2)) * tf.ones((1, 10)))
    x, logits, y, train, loss, _ = graph_model(cnn, w)
    with pytest.raises(InvalidParameterError, match="output_ph"):
        TFClassifier((0.0, 1.0), x, logits, train=train)
    with pytest.raises(InvalidParameterError, match="train op"):
        TFClassifier((0.0, 1.0), x, logits).train_on_batch(weights["x"], weights["y"])


def test_v1_float_label_placeholder_and_soft_labels(weights):
    """An output_ph of label rows takes soft labels; the reported loss is the graph's loss."""
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, (None, 8, 8, 1))
        t = v1.placeholder(tf.float32, (None, 10))
        logits = cnn(x, **{n: v1.Variable(weights[n]) for n in "kbwc"})
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=logits))
        train = v1.train.GradientDescentOptimizer(0.5).minimize(loss)
    clf = TFClassifier((0.0, 1.0), x, logits, t, train, loss)
    soft = np.full((12, 10), 0.02, np.float32)
    soft[np.arange(12), weights["y"]] = 0.82
    expected = float(-(soft * np.log(clf.predict(weights["x"]))).sum(axis=1).mean())
    assert clf.train_on_batch(weights["x"], soft) == pytest.approx(expected, rel=1e-4)


def test_tf2_plain_function_model(weights):
    """A function of tf ops (no variables): predictions and gradients work, training explains itself."""
    w = {k: tf.constant(weights[k]) for k in "kbwc"}
    clf = TensorFlowClassifier((0.0, 1.0), lambda x: cnn(x, **w), input_shape=(8, 8, 1))
    assert clf.nb_classes == 10  # found by one forward pass
    g = clf.class_gradient(weights["x"], label=weights["labels"])
    assert g.shape == (12, 2, 8, 8, 1) and g.dtype == np.float32
    with pytest.raises(InvalidParameterError, match="optimizer"):
        clf.train_on_batch(weights["x"], weights["y"])


def test_tf2_training_flag_and_mode(weights, keras_tf):
    """A model taking ``training`` gets False for inference and True in training."""
    seen = []

    class Dropping(tf.Module):
        def __init__(self):
            super().__init__()
            self.inner = Module(cnn, {k: weights[k] for k in "kbwc"})

        def __call__(self, x, training=False):
            seen.append(training)
            return self.inner(tf.nn.dropout(x, rate=0.5) if training else x)

    clf = TensorFlowClassifier((0.0, 1.0), Dropping(), optimizer=keras_tf.optimizers.SGD(0.1),
                               input_shape=(8, 8, 1))
    xs, ys = weights["x"], weights["y"]
    p = clf.predict(xs)
    assert np.array_equal(p, clf.predict(xs))
    assert np.array_equal(clf.loss_gradient(xs, ys), clf.loss_gradient(xs, ys))
    clf.train_on_batch(xs, ys)
    assert set(seen) == {False, True}  # traced once per mode
    assert not np.array_equal(p, clf.predict(xs))


def test_tf2_parameter_errors(weights):
    with pytest.raises(InvalidParameterError, match="input_shape"):
        TensorFlowClassifier((0.0, 1.0), Module(cnn, {k: weights[k] for k in "kbwc"}))
    with pytest.raises(InvalidParameterError, match="callable"):
        TensorFlowClassifier((0.0, 1.0), 42, input_shape=(8, 8, 1))
    with pytest.raises(InvalidParameterError, match=r"logits of shape \(n, nb_classes\)"):
        TensorFlowClassifier((0.0, 1.0), lambda x: tf.reshape(x, (-1,)), input_shape=(8, 8, 1))


def test_adapt_tf_module(weights):
    model = Module(cnn, {k: weights[k] for k in "kbwc"})
    clf = feint.classifier(model, clip_values=(0.0, 1.0), input_shape=(8, 8, 1))
    assert isinstance(clf, TensorFlowClassifier) and clf.nb_classes == 10


def test_registered_and_available():
    from feint.registry import default_registry

    entries = {e.name: e for e in default_registry().entries("framework")}
    assert entries["tensorflow"].status == "ok" and entries["tf_v1"].status == "ok"
    assert feint.load("framework", "tf_v1") is TFClassifier
    from feint.classifiers import TensorFlowClassifier as facade_tf2
    from feint.classifiers import TFClassifier as facade_v1

    assert facade_v1 is TFClassifier and facade_tf2 is TensorFlowClassifier
    assert feint.load("framework", "tf2") is TensorFlowClassifier
