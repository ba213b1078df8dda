"""``TensorFlowClassifier``: the Classifier contract for TensorFlow 2 models (eager, ``tf.function``)."""

from __future__ import annotations

import inspect
from typing import ClassVar

import numpy as np
import tensorflow as tf

from feint import Classifier
from feint.contracts.classifier import ALL_CAPABILITIES
from feint.errors import InvalidParameterError

__all__ = ["TensorFlowClassifier"]


def _is_keras(model) -> bool:
    return any(cls.__module__.split(".")[0] == "keras" for cls in type(model).__mro__)


def _takes_training(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "training" or p.kind is p.VAR_KEYWORD for p in params)


def _default_loss(targets, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=targets, logits=logits))


class TensorFlowClassifier(Classifier):
    """Wrap a TensorFlow 2 model that returns logits as a feint classifier.

    The model is anything callable on a float32 ``tf.Tensor`` batch that returns logits of shape
    ``(n, nb_classes)``: a Keras 3 model on the tensorflow backend, a ``tf.Module``, or a plain
    function of ``tf`` ops.  Every call runs a ``tf.function`` traced once with a free batch axis:
    the loss gradient is one forward and one ``GradientTape`` backward; class gradients are one
    forward and one backward per requested class (a ``tf.map_fn`` over the requested classes'
    one-hot output gradients on a persistent tape; faster on CPU than ``batch_jacobian``).  A
    model whose call accepts ``training`` gets ``training=False`` for predictions and gradients
    and ``training=True`` in training.

    Parameters
    ----------
    clip_values : (float, float)
        Data range.
    model : callable
        Returns logits ``(n, nb_classes)`` for a float32 batch ``(n, *input_shape)``.
    loss : callable, optional
        Training loss ``loss(targets, logits)`` with label rows ``targets`` (one-hot or soft, as
        ``tf.float32``), returning a scalar or per-sample values (averaged); default the mean
        softmax cross-entropy.  ``loss_gradient`` always differentiates the cross-entropy.
    optimizer : optimizer, optional
        Anything with ``apply_gradients(grads_and_vars)`` (a Keras 3 optimizer); needed by
        ``fit``/``train_on_batch``, which update ``model.trainable_variables``.
    input_shape : tuple of int, optional
        Shape of one input; read from a built Keras model, otherwise required.
    nb_classes : int, optional
        Number of classes (``output_shape`` is accepted too); found by one forward pass on a
        zero input when not given.
    channel_index : int, default 3
    defences : str, list or Preprocessor, optional
    eot_samples : int, default 1

    References
    ----------
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §4.4 (TensorFlow support; this is
    its TF2 counterpart, the session API is :class:`~feint_framework_tensorflow.session.TFClassifier`).
    """

    name: ClassVar[str] = "tensorflow"
    provides: ClassVar[frozenset[str]] = ALL_CAPABILITIES | {"train_with_input_gradient"}

    def __init__(self, clip_values, model, loss=None, optimizer=None, input_shape=None, nb_classes=None,
                 channel_index: int = 3, defences=None, *, output_shape=None, eot_samples: int = 1) -> None:
        if not callable(model):
            raise InvalidParameterError(
                "The 'model' parameter of TensorFlowClassifier must be callable on a tf.Tensor batch and return "
                f"logits. Got {type(model).__name__} instead.")
        if _is_keras(model):
            import keras

            if keras.backend.backend() != "tensorflow":
                raise InvalidParameterError(
                    f"This Keras model runs on the {keras.backend.backend()!r} backend, not tensorflow; wrap it "
                    "with KerasClassifier (feint.classifier(model, ...) picks it).")
            if input_shape is None:
                try:
                    shape = model.input_shape
                    if isinstance(shape, tuple) and all(isinstance(d, int) for d in shape[1:]):
                        input_shape = shape[1:]
                except (AttributeError, ValueError, RuntimeError):
                    pass
        if input_shape is None:
            raise InvalidParameterError(
                "TensorFlowClassifier needs input_shape, the shape of one input (e.g. (28, 28, 1)). Got None.")
        if nb_classes is None and output_shape is not None:
            nb_classes = int(np.prod(output_shape)) if not isinstance(output_shape, int) else output_shape
        if loss is not None and not callable(loss):
            raise InvalidParameterError(
                f"The 'loss' parameter of TensorFlowClassifier must be callable loss(targets, logits). Got {loss!r}.")
        self.model = model
        self.loss_fn = loss if loss is not None else _default_loss
        self.optimizer = optimizer
        self._training_kw = _is_keras(model) or _takes_training(model)
        if nb_classes is None:
            probe = self._call(tf.zeros((1, *tuple(int(d) for d in input_shape)), tf.float32), False)
            nb_classes = self._check_logits(probe.numpy(), 1, None).shape[1]
        super().__init__(clip_values, channel_index, defences, input_shape=input_shape, nb_classes=int(nb_classes),
                         eot_samples=eot_samples)
        self._compile()

    # -- graph functions ----------------------------------------------------------------------
    def _call(self, x, training: bool):
        return self.model(x, training=training) if self._training_kw else self.model(x)

    def _compile(self) -> None:
        spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        rows = tf.TensorSpec((None, self.nb_classes), tf.float32)
        call = self._call

        @tf.function(input_signature=[spec])
        def forward(x):
            return call(x, False)

        @tf.function(input_signature=[spec, rows])
        def loss_gradient(x, t):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = -tf.reduce_sum(t * tf.nn.log_softmax(call(x, False), axis=1))
            return tape.gradient(loss, x)

        perm = [1, 0, *range(2, len(self.input_shape) + 2)]

        def make_class_gradient(logits: bool):
            @tf.function(input_signature=[spec, tf.TensorSpec((None, None), tf.int32)])
            def class_gradient(x, labels):
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x)
                    z = call(x, False)
                    f = z if logits else tf.nn.softmax(z, axis=1)
                cot = tf.one_hot(tf.transpose(labels), tf.shape(f)[1], dtype=f.dtype)  # (m, n, K)
                g = tf.map_fn(lambda c: tape.gradient(f, x, output_gradients=c), cot,
                              fn_output_signature=tf.float32)
                return tf.transpose(g, perm)

            return class_gradient

        self._forward = forward
        self._loss_gradient_fn = loss_gradient
        self._class_gradient_fn = {True: make_class_gradient(True), False: make_class_gradient(False)}
        self._train_steps = {}

    def _make_train_step(self, input_gradient: bool):
        if self.optimizer is None or not hasattr(self.optimizer, "apply_gradients"):
            raise InvalidParameterError(
                "TensorFlowClassifier needs an optimizer with apply_gradients (e.g. keras.optimizers.Adam()) to "
                f"train; got optimizer={self.optimizer!r}.")
        variables = list(getattr(self.model, "trainable_variables", None) or [])
        if not variables:
            raise InvalidParameterError(
                "TensorFlowClassifier cannot train this model: it has no trainable_variables (use a tf.Module or "
                "a Keras model to hold the weights).")
        spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
        rows = tf.TensorSpec((None, self.nb_classes), tf.float32)
        call, loss_fn, opt = self._call, self.loss_fn, self.optimizer
        if hasattr(opt, "build") and not getattr(opt, "built", True):
            opt.build(variables)

        @tf.function(input_signature=[spec, rows])
        def step(x, t):
            with tf.GradientTape() as tape:
                if input_gradient:
                    tape.watch(x)
                loss = tf.reduce_mean(loss_fn(t, call(x, True)))
            sources = variables + [x] if input_gradient else variables
            grads = tape.gradient(loss, sources)  # one backward: parameter (and input) gradients
            opt.apply_gradients([(g, v) for g, v in zip(grads, variables) if g is not None])
            return (loss, grads[-1]) if input_gradient else loss

        return step

    # -- contract -------------------------------------------------------------------------------
    def _check_logits(self, z: np.ndarray, n: int, k: int | None) -> np.ndarray:
        if z.ndim != 2 or z.shape[0] != n or (k is not None and z.shape[1] != k):
            raise InvalidParameterError(
                f"The model must return logits of shape (n, {k if k else 'nb_classes'}); for a batch of {n} it "
                f"returned shape {tuple(z.shape)}.")
        return z

    def _predict(self, x, logits):
        z = self._check_logits(self._forward(tf.constant(x)).numpy(), len(x), self.nb_classes)
        if logits:
            return z
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def _class_gradient(self, x, labels, logits):
        fn = self._class_gradient_fn[bool(logits)]
        return fn(tf.constant(x), tf.constant(labels, tf.int32)).numpy()

    def _loss_gradient(self, x, targets):
        return self._loss_gradient_fn(tf.constant(x), tf.constant(targets, tf.float32)).numpy()

    def _step(self, input_gradient: bool):
        if input_gradient not in self._train_steps:
            self._train_steps[input_gradient] = self._make_train_step(input_gradient)
        return self._train_steps[input_gradient]

    def _train_on_batch(self, x, targets):
        return float(self._step(False)(tf.constant(x), tf.constant(targets, tf.float32)).numpy())

    def _train_on_batch_input_gradient(self, x, targets):
        loss, grad = self._step(True)(tf.constant(x), tf.constant(targets, tf.float32))
        return float(loss.numpy()), grad.numpy()
