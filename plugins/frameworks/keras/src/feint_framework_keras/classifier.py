"""``KerasClassifier``: the Classifier contract for Keras 3 models on every backend (paper 000 §4.2)."""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np

from feint import Classifier
from feint.errors import InvalidParameterError

__all__ = ["KerasClassifier"]


def _known_shape(shape) -> tuple[int, ...] | None:
    """``shape[1:]`` of a Keras ``(None, ...)`` shape if every dimension is known."""
    if shape is None or isinstance(shape, list) or not isinstance(shape, tuple) or len(shape) < 2:
        return None
    rest = shape[1:]
    return tuple(int(d) for d in rest) if all(isinstance(d, (int, np.integer)) for d in rest) else None


class _TorchModes:
    """Save and restore ``training`` of every torch submodule (Keras on torch is a torch module).

    On the other backends there is no such state: Keras passes ``training`` per call.
    """

    def __init__(self, model) -> None:
        self.model = model
        torch = sys.modules.get("torch")
        is_module = torch is not None and isinstance(model, torch.nn.Module)
        self.saved = [(m, m.training) for m in model.modules()] if is_module else []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for m, mode in self.saved:
            m.training = mode


class KerasClassifier(Classifier):
    """Wrap a Keras 3 model (tensorflow, torch or jax backend) as a feint classifier.

    Predictions and gradients are computed with the active backend's own autodiff: autograd on
    the torch backend (the model is a ``torch.nn.Module``), ``tf.GradientTape`` in
    ``tf.function``-compiled steps on tensorflow, ``model.stateless_call`` under ``jax.jit`` /
    ``jax.grad`` / ``jax.vjp`` on jax.  One forward and one backward per batch for the loss
    gradient; class gradients compute only the requested classes.  Inference calls use
    ``training=False``; training uses Keras's own ``train_on_batch``/``fit`` step, so dropout and
    batch-norm behave as Keras intends, and the train/eval flags of a torch-backend model are
    restored after every call.  float32 in, float32 out.

    Parameters
    ----------
    clip_values : (float, float)
        Data range ``(x_min, x_max)``.
    model : keras.Model
        A Keras 3 model (or layer) with one input and one output of shape ``(n, nb_classes)``;
        compiled if it is to be trained (or give ``optimizer``).
    use_logits : bool, default False
        True if the model outputs logits; False if it outputs probabilities (the paper's
        default).  With probabilities, ``predict(x, logits=True)`` and ``class_gradient(...,
        logits=True)`` use the log-probabilities ``log F(x)`` as the logits: softmax of them is
        ``F(x)`` again, so they are logits up to a per-sample constant, which no attack or loss
        can tell apart.  (The pre-softmax tensor of an arbitrary Keras 3 model is not reachable
        on every backend, so feint does not try to dig it out.)
    channel_index : int, default 3
        Axis of the colour channel (3 for Keras's default ``channels_last``).
    defences : str, list or Preprocessor, optional
        Preprocessing defences by spec (``'featsqueeze5'``), list (a chain) or objects.
    input_shape : tuple of int, optional
        Shape of one input; read from the model when it is built.
    nb_classes : int, optional
        Number of classes; read from the model's output shape when it is built.
    optimizer : keras.optimizers.Optimizer or str, optional
        Used to compile an uncompiled model (with the cross-entropy loss matching
        ``use_logits``) on the first ``fit``/``train_on_batch``.  A compiled model keeps its own
        optimizer and loss.
    eot_samples : int, default 1
        Expectation over Transformation draws for randomised defences.

    Notes
    -----
    Keras fixes its backend at import (``KERAS_BACKEND``); the classifier uses whichever is
    active.  ``loss_gradient`` is always the gradient of the cross-entropy (the paper's loss),
    whatever loss the model was compiled with; training uses the compiled loss.  A model
    compiled with a sparse loss receives integer labels in training, otherwise label rows.

    References
    ----------
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §4.2.
    """

    name: ClassVar[str] = "keras"

    def __init__(self, clip_values, model, use_logits: bool = False, channel_index: int = 3, defences=None, *,
                 input_shape=None, nb_classes=None, optimizer=None, eot_samples: int = 1) -> None:
        import keras

        if not isinstance(model, keras.Layer):
            raise InvalidParameterError(
                "The 'model' parameter of KerasClassifier must be a Keras 3 model or layer. Got "
                f"{type(model).__module__}.{type(model).__name__} instead. (tf_keras/Keras 2 models are not "
                "supported; wrap TensorFlow models with TensorFlowClassifier.)")
        if not isinstance(use_logits, (bool, np.bool_)):
            raise InvalidParameterError(
                f"The 'use_logits' parameter of KerasClassifier must be a bool. Got {use_logits!r} instead.")
        if input_shape is None:
            input_shape = _known_shape(getattr(model, "input_shape", None) if _has_shape(model, "input") else None)
        if input_shape is None:
            raise InvalidParameterError(
                "KerasClassifier could not read the input shape of this model (it is not built or has several "
                "inputs); pass input_shape=, the shape of one input, e.g. (28, 28, 1).")
        if nb_classes is None:
            out = _known_shape(getattr(model, "output_shape", None) if _has_shape(model, "output") else None)
            nb_classes = out[-1] if out is not None and len(out) == 1 else None
        self.backend = keras.backend.backend()
        self.model = model
        self.use_logits = bool(use_logits)
        self.optimizer = optimizer
        if nb_classes is None:
            probe = np.zeros((1, *tuple(input_shape)), np.float32)
            nb_classes = self._check_output(np.asarray(keras.ops.convert_to_numpy(model(probe, training=False))), 1,
                                            None).shape[1]
        super().__init__(clip_values, channel_index, defences, input_shape=input_shape, nb_classes=int(nb_classes),
                         eot_samples=eot_samples)
        from feint_framework_keras._backends import make_engine

        self._engine = make_engine(self.backend, model, self.use_logits, self.input_shape)

    # -- helpers --------------------------------------------------------------------------------
    def _check_output(self, out: np.ndarray, n: int, k: int | None) -> np.ndarray:
        if out.ndim != 2 or out.shape[0] != n or (k is not None and out.shape[1] != k):
            raise InvalidParameterError(
                f"The Keras model must return one array of shape (n, {k if k else 'nb_classes'}); for a batch of "
                f"{n} it returned shape {tuple(out.shape)}.")
        if not self.use_logits and out.size:
            sums = out.sum(axis=1, dtype=np.float64)
            if out.min() < -1e-6 or np.abs(sums - 1).max() > 1e-3:
                raise InvalidParameterError(
                    "KerasClassifier was built with use_logits=False, so the model must output probabilities, "
                    f"but its outputs range over [{out.min():.4g}, {out.max():.4g}] with row sums up to "
                    f"{sums.max():.4g}. Pass use_logits=True for a model that outputs logits.")
        return out

    # -- contract -------------------------------------------------------------------------------
    def _predict(self, x, logits):
        with _TorchModes(self.model):
            out = self._check_output(np.asarray(self._engine.forward(x)), len(x), self.nb_classes)
        out = out.astype(np.float32, copy=False)
        if self.use_logits:
            if logits:
                return out
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=1, keepdims=True)
        from feint_framework_keras._backends import TINY

        return np.log(np.maximum(out, TINY)) if logits else out

    def _class_gradient(self, x, labels, logits):
        with _TorchModes(self.model):
            return self._engine.class_gradient(x, labels, logits)

    def _loss_gradient(self, x, targets):
        with _TorchModes(self.model):
            return self._engine.loss_gradient(x, targets)

    def _output_gradient(self, x, weights_of, logits):
        native = getattr(self._engine, "output_gradient", None)
        if native is None:                  # tensorflow and jax engines: the base class's exact fallback
            return super()._output_gradient(x, weights_of, logits)
        with _TorchModes(self.model):
            out, g = native(x, weights_of, logits)
        return out, g, (1, g.shape[1])

    @property
    def native_output_gradient(self) -> bool:
        """True on the torch backend (one forward pass); the other backends use the fallback."""
        return hasattr(self._engine, "output_gradient")

    # -- training -------------------------------------------------------------------------------
    def _compiled(self):
        model = self.model
        if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
            if self.optimizer is None:
                raise InvalidParameterError(
                    "KerasClassifier cannot train an uncompiled model: compile it (model.compile(optimizer, loss)) "
                    "or pass optimizer= to KerasClassifier.")
            import keras

            model.compile(optimizer=self.optimizer,
                          loss=keras.losses.CategoricalCrossentropy(from_logits=self.use_logits))
        return model

    def _labels_for_keras(self, targets: np.ndarray) -> np.ndarray:
        loss = getattr(self.model, "loss", None)
        name = loss if isinstance(loss, str) else getattr(loss, "name", None) or getattr(
            getattr(loss, "fn", None), "__name__", "") or type(loss).__name__
        if "sparse" in str(name).lower():
            if not np.all((targets == 0) | (targets == 1)):
                raise InvalidParameterError(
                    f"The model is compiled with a sparse loss ({name}), which takes class indices, but the training "
                    "labels are soft (e.g. from label smoothing). Compile with categorical_crossentropy instead.")
            return targets.argmax(axis=1).astype(np.int64)
        return targets

    def _train_on_batch(self, x, targets):
        model = self._compiled()
        with _TorchModes(model):
            out = model.train_on_batch(x, self._labels_for_keras(targets))
        return float(np.ravel(np.asarray(out, dtype=np.float64))[0])

    def _fit(self, x, targets, batch_size, nb_epochs, shuffle: bool = True, random_state=None, **kwargs: Any):
        """Keras's own ``model.fit``, one call per epoch on a permutation drawn from ``random_state``."""
        model = self._compiled()
        labels = self._labels_for_keras(targets)
        rng = np.random.default_rng(random_state)
        from feint.hooks import task

        with _TorchModes(model), task("trainer", "KerasClassifier.fit", total=nb_epochs, unit="epoch") as t:
            for _ in range(nb_epochs):
                order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
                model.fit(x[order], labels[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0,
                          **kwargs)
                self.counts.add_forward(len(x))
                self.counts.add_backward(len(x))
                t.advance()

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "use_logits": self.use_logits}


def _has_shape(model, which: str) -> bool:
    """Whether reading ``model.input_shape``/``output_shape`` is safe (built, single tensor)."""
    try:
        getattr(model, f"{which}_shape")
    except (AttributeError, ValueError, RuntimeError):
        return False
    return True
