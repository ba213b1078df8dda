"""Small TensorFlow models for tests and examples: one CNN in raw ops, as a TF2 module or a v1 graph.

``cnn`` is the network of the cross-framework equivalence tests (conv 3x3 valid -> relu ->
max-pool 2 -> dense); ``digits_cnn`` a slightly wider one (conv 3x3 same, 16 filters) that
learns scikit-learn's digits to > 90 % test accuracy in a few epochs.  Both take channels-last
float32 batches ``(n, 8, 8, 1)`` and their weights as keyword arrays ``k, b, w, c``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["Module", "cnn", "digits_cnn", "digits_weights", "graph_model"]


def cnn(x, k, b, w, c):
    """conv 3x3 (valid) -> relu -> max-pool 2 -> flatten -> dense, in raw TF ops (NHWC)."""
    h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, k, 1, "VALID") + b), 2, 2, "VALID")
    return tf.reshape(h, (-1, int(np.prod(h.shape[1:])))) @ w + c


def digits_cnn(x, k, b, w, c):
    """conv 3x3 (same) -> relu -> max-pool 2 -> flatten -> dense, in raw TF ops (NHWC)."""
    h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME") + b), 2, 2, "VALID")
    return tf.reshape(h, (-1, int(np.prod(h.shape[1:])))) @ w + c


def digits_weights(seed: int = 0, filters: int = 16) -> dict[str, np.ndarray]:
    """Seeded Glorot-uniform initial weights of :func:`digits_cnn` for 8x8 inputs."""
    rng = np.random.default_rng(seed)

    def glorot(shape, fan_in, fan_out):
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, shape).astype(np.float32)

    return {"k": glorot((3, 3, 1, filters), 9, 9 * filters), "b": np.zeros(filters, np.float32),
            "w": glorot((16 * filters, 10), 16 * filters, 10), "c": np.zeros(10, np.float32)}


class Module(tf.Module):
    """A ``tf.Module`` holding ``weights`` as variables and computing ``fn(x, **variables)``."""

    def __init__(self, fn, weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.fn = fn
        self.v = {n: tf.Variable(a, name=n) for n, a in weights.items()}

    def __call__(self, x):
        return self.fn(x, **self.v)


def graph_model(fn, weights: dict[str, np.ndarray], input_shape=(8, 8, 1), lr: float = 1e-2,
                dropout: float | None = None):
    """Build ``fn`` in a new ``tf.compat.v1`` graph, the paper's way (eager mode stays on outside).

    Returns ``(input_ph, logits, output_ph, train, loss, learning)``: integer label placeholder,
    an Adam training op, the mean cross-entropy, and (with ``dropout``) a boolean ``learning``
    placeholder that switches input dropout on.
    """
    v1 = tf.compat.v1
    with tf.Graph().as_default():
        x = v1.placeholder(tf.float32, (None, *input_shape), name="x")
        y = v1.placeholder(tf.int64, (None,), name="y")
        learning = None
        inp = x
        if dropout:
            learning = v1.placeholder_with_default(False, (), name="learning")
            inp = tf.cond(learning, lambda: tf.nn.dropout(x, rate=dropout), lambda: x)
        logits = fn(inp, **{n: v1.Variable(a, name=n) for n, a in weights.items()})
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = v1.train.AdamOptimizer(lr).minimize(loss)
    return x, logits, y, train, loss, learning
