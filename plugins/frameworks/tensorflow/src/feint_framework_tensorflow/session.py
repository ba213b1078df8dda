"""``TFClassifier``: the paper's session-style TensorFlow classifier, through ``tf.compat.v1`` graphs."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import tensorflow as tf

from feint import Classifier
from feint.contracts.classifier import ALL_CAPABILITIES
from feint.errors import InvalidParameterError

__all__ = ["TFClassifier"]

v1 = tf.compat.v1


def _graph_tensor(value, what: str, required: bool = True):
    if value is None and not required:
        return None
    try:
        graph = value.graph
    except (AttributeError, RuntimeError):
        graph = None
    if graph is None or not isinstance(graph, tf.Graph):
        raise InvalidParameterError(
            f"The {what!r} parameter of TFClassifier must be a tensor of a tf.compat.v1 graph (build the model "
            f"inside `with tf.Graph().as_default():`). Got {type(value).__name__} instead.")
    return value


class TFClassifier(Classifier):
    """Wrap a TensorFlow graph (placeholders and a session) as a feint classifier.

    The paper's TensorFlow API, kept working on TensorFlow 2 through ``tf.compat.v1``: the
    model is a graph built with placeholders (inside ``with tf.Graph().as_default():`` so eager
    mode stays on for everything else), run in a ``tf.compat.v1.Session``.  The classifier adds
    its gradient ops to that graph once, when it is built: the cross-entropy gradient (one
    forward, one backward per ``session.run``) and, for class gradients, a ``tf.map_fn`` over the
    requested classes of ``tf.gradients`` with their one-hot output gradients (one forward, one
    backward per requested class, any number of classes, in one ``session.run``).

    Parameters
    ----------
    clip_values : (float, float)
        Data range.
    input_ph : tf.Tensor
        The input placeholder, shape ``(None, *input_shape)`` with the input shape fully known.
    logits : tf.Tensor
        The logits layer, shape ``(None, nb_classes)``.
    output_ph : tf.Tensor, optional
        The label placeholder used by ``loss``/``train``: integer class indices (rank 1, or an
        integer dtype) or float label rows ``(None, nb_classes)``.
    train : tf.Operation, optional
        The training op (e.g. ``optimizer.minimize(loss)``); needed by ``fit``/``train_on_batch``.
    loss : tf.Tensor, optional
        The symbolic training loss, reported by ``train_on_batch``.  ``loss_gradient`` always
        differentiates the cross-entropy of ``logits`` (the paper's L), like every adapter.
    learning : tf.Tensor, optional
        A boolean placeholder fed ``True`` while training and ``False`` otherwise (the
        graph's train/eval switch).
    sess : tf.compat.v1.Session, optional
        The session holding the variables; by default a new session on the graph of
        ``logits`` with all global variables initialised.
    channel_index : int, default 3
    defences : str, list or Preprocessor, optional
    eot_samples : int, default 1

    References
    ----------
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §4.4.
    """

    name: ClassVar[str] = "tf_v1"
    provides: ClassVar[frozenset[str]] = ALL_CAPABILITIES | {"train_with_input_gradient"}

    def __init__(self, clip_values, input_ph, logits, output_ph=None, train=None, loss=None, learning=None,
                 sess=None, channel_index: int = 3, defences=None, *, eot_samples: int = 1) -> None:
        _graph_tensor(input_ph, "input_ph")
        _graph_tensor(logits, "logits")
        for what, value in (("output_ph", output_ph), ("train", train), ("loss", loss), ("learning", learning)):
            _graph_tensor(value, what, required=False)
            if value is not None and value.graph is not logits.graph:
                raise InvalidParameterError(f"The {what!r} of TFClassifier belongs to another graph than 'logits'.")
        if input_ph.graph is not logits.graph:
            raise InvalidParameterError("The 'input_ph' and 'logits' of TFClassifier belong to different graphs.")
        shape = input_ph.shape
        if shape.rank is None or shape.rank < 2 or not shape[1:].is_fully_defined():
            raise InvalidParameterError(
                f"The 'input_ph' of TFClassifier must have shape (None, *input_shape) with a known input shape. "
                f"Got {shape} instead.")
        if logits.shape.rank != 2 or logits.shape[-1] is None:
            raise InvalidParameterError(
                f"The 'logits' of TFClassifier must have shape (None, nb_classes). Got {logits.shape} instead.")
        if train is not None and output_ph is None:
            raise InvalidParameterError("TFClassifier was given a train op but no output_ph (its label placeholder).")
        super().__init__(clip_values, channel_index, defences, input_shape=tuple(shape[1:].as_list()),
                         nb_classes=int(logits.shape[-1]), eot_samples=eot_samples)
        self.input_ph, self.logits, self.output_ph = input_ph, logits, output_ph
        self.train, self.loss_tensor, self.learning = train, loss, learning  # loss() is the base method
        self.graph = logits.graph
        if self.graph.finalized:
            raise InvalidParameterError(
                "TFClassifier adds its gradient ops to the graph of 'logits', but that graph is finalized; build "
                "the classifier before calling graph.finalize() (or before a MonitoredSession finalizes it).")
        with self.graph.as_default():
            self._probs = tf.nn.softmax(logits, axis=1)
            self._targets_ph = v1.placeholder(tf.float32, (None, self.nb_classes), name="feint_targets")
            self._ce = -tf.reduce_sum(self._targets_ph * tf.nn.log_softmax(logits, axis=1))
            (self._loss_grad,) = v1.gradients(self._ce, input_ph)
            if self._loss_grad is None:
                raise InvalidParameterError("The 'logits' of TFClassifier do not depend on 'input_ph'.")
            self._class_grads = {logit: self._build_class_gradient(logit) for logit in (True, False)}
            # the input gradient of the training loss, for train_on_batch(return_input_gradient=True)
            self._train_input_grad = v1.gradients(loss, input_ph)[0] if loss is not None else None
            if sess is None:
                sess = v1.Session(graph=self.graph)
                sess.run(v1.global_variables_initializer())
        if sess.graph is not self.graph:
            raise InvalidParameterError("The 'sess' of TFClassifier runs another graph than the one of 'logits'.")
        self.sess = sess

    # -- graph ops ------------------------------------------------------------------------------
    def _build_class_gradient(self, logits: bool):
        """Labels placeholder (None, m) and the op of shape (None, m, *input_shape), for any m.

        One forward, then one backward per requested class: ``tf.gradients`` with that class's
        one-hot rows as output gradients, in a ``tf.map_fn`` loop over the m requested classes.
        """
        labels = v1.placeholder(tf.int32, (None, None), name="feint_labels")
        f = self.logits if logits else self._probs
        cot = tf.one_hot(tf.transpose(labels), self.nb_classes, dtype=f.dtype)  # (m, n, K)
        grads = tf.map_fn(lambda c: v1.gradients(f, self.input_ph, grad_ys=c)[0], cot,
                          fn_output_signature=f.dtype)
        return labels, tf.transpose(grads, [1, 0, *range(2, len(self.input_shape) + 2)])

    def _feed(self, x, extra=None, training: bool = False):
        feed = {self.input_ph: x, **(extra or {})}
        if self.learning is not None:
            feed[self.learning] = training
        return feed

    # -- contract -------------------------------------------------------------------------------
    def _predict(self, x, logits):
        return self.sess.run(self.logits if logits else self._probs, self._feed(x))

    def _class_gradient(self, x, labels, logits):
        ph, op = self._class_grads[bool(logits)]
        return self.sess.run(op, self._feed(x, {ph: labels}))

    def _loss_gradient(self, x, targets):
        return self.sess.run(self._loss_grad, self._feed(x, {self._targets_ph: targets}))

    def _train_on_batch(self, x, targets):
        return self._train_step(x, targets, input_gradient=False)[0]

    def _train_on_batch_input_gradient(self, x, targets):
        if self._train_input_grad is None:
            raise InvalidParameterError(
                "TFClassifier needs a symbolic loss= that depends on input_ph to return the input gradient of the "
                "training loss.")
        return self._train_step(x, targets, input_gradient=True)

    def _train_step(self, x, targets, input_gradient: bool):
        if self.train is None:
            raise InvalidParameterError(
                "TFClassifier was built without a train op; pass train= (e.g. optimizer.minimize(loss)) and "
                "output_ph= to train.")
        ph = self.output_ph
        if ph.dtype.is_integer or ph.shape.rank == 1:
            if not np.all((targets == 0) | (targets == 1)):
                raise InvalidParameterError(
                    "The output_ph of this TFClassifier takes class indices, but the training labels are soft "
                    "(e.g. from label smoothing); use a float label placeholder of shape (None, nb_classes).")
            labels = targets.argmax(axis=1).astype(ph.dtype.as_numpy_dtype)
        else:
            labels = targets.astype(ph.dtype.as_numpy_dtype)
        loss = self.loss_tensor if self.loss_tensor is not None else self._ce
        feed = self._feed(x, {ph: labels}, training=True)
        if self.loss_tensor is None:
            feed[self._targets_ph] = targets
        fetches = [self.train, loss] + ([self._train_input_grad] if input_gradient else [])
        out = self.sess.run(fetches, feed)  # one run: one forward, the update and the input gradient
        value = float(np.mean(out[1]))
        value = value / len(x) if self.loss_tensor is None else value
        return value, (out[2] if input_gradient else None)
