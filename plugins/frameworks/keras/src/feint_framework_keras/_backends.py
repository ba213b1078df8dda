"""Gradient engines for the three Keras 3 backends: torch autograd, ``tf.GradientTape``, jax.

Keras 3 has no backend-neutral gradient API, so each engine differentiates the model with its
backend's own autodiff.  An engine works on one preprocessed float32 batch and returns numpy
arrays; ``KerasClassifier`` does validation, batching, defences and counting around it.

The model's raw output is ``out``.  With ``use_logits=True`` it is the logits ``Z`` and the
probabilities are ``softmax(Z)``; with ``use_logits=False`` it is the probabilities ``F`` and the
logits are taken to be the log-probabilities ``log F`` (clamped at the smallest normal float32,
so an underflowed probability gives a finite logit with zero gradient).  ``softmax(log F) = F``,
so both views agree, and the cross-entropy is the same function of either.
"""

from __future__ import annotations

import numpy as np

__all__ = ["make_engine"]

TINY = float(np.finfo(np.float32).tiny)


class _Engine:
    def __init__(self, model, use_logits: bool) -> None:
        self.model = model
        self.use_logits = bool(use_logits)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The model's raw output on ``x`` in inference mode."""
        raise NotImplementedError

    def class_gradient(self, x: np.ndarray, labels: np.ndarray, logits: bool) -> np.ndarray:
        """``(n, m, *input_shape)`` gradients of the outputs named by ``labels`` (n, m)."""
        raise NotImplementedError

    def loss_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Gradient of ``sum_i -<t_i, log_softmax(Z(x_i))>`` with respect to ``x``."""
        raise NotImplementedError


# -- torch -------------------------------------------------------------------------------------
class TorchEngine(_Engine):
    """Keras on torch: the model is a ``torch.nn.Module``; one forward, autograd backwards.

    Class gradients share one forward and take one backward per requested class (measured
    faster on CPU than ``is_grads_batched`` or ``torch.func.vmap`` over the vector-Jacobian
    product for the small models feint is tested with).
    """

    def __init__(self, model, use_logits: bool) -> None:
        super().__init__(model, use_logits)
        import keras
        import torch

        self.torch = torch
        self.keras = keras

    def _tensor(self, x: np.ndarray, grad: bool = False):
        t = self.keras.ops.convert_to_tensor(x, dtype="float32")
        return t.detach().requires_grad_(grad)

    def _head(self, out, logits: bool):
        torch = self.torch
        if self.use_logits:
            return out if logits else torch.softmax(out, dim=1)
        return torch.log(out.clamp_min(TINY)) if logits else out

    def forward(self, x):
        with self.torch.no_grad():
            return self.model(self._tensor(x), training=False).detach().cpu().numpy()

    def class_gradient(self, x, labels, logits):
        from feint.labels import to_categorical

        return self.output_gradient(x, lambda out: to_categorical(labels, out.shape[1]), logits)[1]

    def output_gradient(self, x, weights_of, logits):
        """Outputs and ``m`` weighted sums of them differentiated, from one forward pass."""
        torch = self.torch
        xt = self._tensor(x, grad=True)
        f = self._head(self.model(xt, training=False), logits)
        out = f.detach().cpu().numpy().astype(np.float32)
        w = torch.as_tensor(np.ascontiguousarray(weights_of(out)), dtype=f.dtype, device=f.device)
        n, m = w.shape[:2]
        g = np.empty((n, m, *x.shape[1:]), dtype=np.float32)
        for j in range(m):
            (gj,) = torch.autograd.grad(f, xt, grad_outputs=w[:, j], retain_graph=j < m - 1)
            g[:, j] = gj.detach().cpu().numpy()
        return out, g

    def loss_gradient(self, x, targets):
        torch = self.torch
        xt = self._tensor(x, grad=True)
        z = self._head(self.model(xt, training=False), logits=True)
        t = torch.as_tensor(targets, dtype=z.dtype, device=z.device)
        loss = -(t * torch.log_softmax(z, dim=1)).sum()
        (g,) = torch.autograd.grad(loss, xt)
        return g.detach().cpu().numpy()


# -- tensorflow --------------------------------------------------------------------------------
class TensorFlowEngine(_Engine):
    """Keras on tensorflow: ``tf.function``-compiled ``GradientTape`` steps.

    Class gradients: one forward on a persistent tape, then one backward per requested class
    (``output_gradients`` = that class's one-hot rows) in a ``tf.map_fn`` loop inside the graph.
    Measured on CPU against ``tape.batch_jacobian`` of the selected outputs: 3.5x faster for
    ten classes, equal for one, and quicker to trace (no ``pfor`` conversion).  Inputs are
    traced with a free batch axis, so batches of any size reuse one graph.
    """

    def __init__(self, model, use_logits: bool, input_shape) -> None:
        super().__init__(model, use_logits)
        import tensorflow as tf

        self.tf = tf
        spec = tf.TensorSpec((None, *input_shape), tf.float32)
        model_ = model

        @tf.function(input_signature=[spec], reduce_retracing=True)
        def forward(x):
            return model_(x, training=False)

        @tf.function(input_signature=[spec, tf.TensorSpec((None, None), tf.float32)])
        def loss_gradient(x, t):
            with tf.GradientTape() as tape:
                tape.watch(x)
                z = self._head(model_(x, training=False), True)
                loss = -tf.reduce_sum(t * tf.nn.log_softmax(z, axis=1))
            return tape.gradient(loss, x)

        perm = [1, 0, *range(2, len(input_shape) + 2)]

        def make_class_gradient(logits: bool):
            @tf.function(input_signature=[spec, tf.TensorSpec((None, None), tf.int32)])
            def class_gradient(x, labels):
                with tf.GradientTape(persistent=True) as tape:
                    tape.watch(x)
                    f = self._head(model_(x, training=False), logits)
                cot = tf.one_hot(tf.transpose(labels), tf.shape(f)[1], dtype=f.dtype)  # (m, n, K)
                g = tf.map_fn(lambda c: tape.gradient(f, x, output_gradients=c), cot,
                              fn_output_signature=tf.float32)
                return tf.transpose(g, perm)

            return class_gradient

        self._forward = forward
        self._loss_gradient = loss_gradient
        self._class_gradient = {True: make_class_gradient(True), False: make_class_gradient(False)}

    def _head(self, out, logits: bool):
        tf = self.tf
        if self.use_logits:
            return out if logits else tf.nn.softmax(out, axis=1)
        return tf.math.log(tf.maximum(out, TINY)) if logits else out

    def forward(self, x):
        return self._forward(self.tf.constant(x)).numpy()

    def class_gradient(self, x, labels, logits):
        tf = self.tf
        return self._class_gradient[bool(logits)](tf.constant(x), tf.constant(labels, tf.int32)).numpy()

    def loss_gradient(self, x, targets):
        tf = self.tf
        return self._loss_gradient(tf.constant(x), tf.constant(targets, tf.float32)).numpy()


# -- jax ---------------------------------------------------------------------------------------
class JaxEngine(_Engine):
    """Keras on jax: ``model.stateless_call`` as a pure function, ``jax.jit``-compiled.

    The loss gradient is ``jax.grad`` of the summed cross-entropy; class gradients are one
    ``jax.vjp`` (one forward) with its pullback ``vmap``-ed over the m requested one-hot
    cotangents.  The model's current variable values are passed in on every call, so training
    between calls is seen.

    XLA compiles one program per input shape (seconds each on a small CPU), so batches are
    zero-padded up to a bucket size (powers of two up to 128, then multiples of 128) and the
    padding is dropped from the results: an attack whose active set shrinks every iteration
    compiles a handful of programs, not one per size.  Padding cannot change the real rows'
    results, because inference (``training=False``) treats samples independently.
    """

    def __init__(self, model, use_logits: bool) -> None:
        super().__init__(model, use_logits)
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        model_ = model

        def raw(tv, ntv, x):
            return model_.stateless_call(tv, ntv, x, training=False)[0]

        def loss(tv, ntv, x, t):
            z = self._head(raw(tv, ntv, x), True)
            return -jnp.sum(t * jax.nn.log_softmax(z, axis=1))

        def class_gradient(tv, ntv, x, labels, logits):
            f, pullback = jax.vjp(lambda xx: self._head(raw(tv, ntv, xx), logits), x)
            cot = jax.nn.one_hot(labels.T, f.shape[1], dtype=f.dtype)  # (m, n, K)
            (g,) = jax.vmap(pullback)(cot)                              # (m, n, *input)
            return jnp.swapaxes(g, 0, 1)

        self._forward = jax.jit(raw)
        self._loss_gradient = jax.jit(jax.grad(loss, argnums=2))
        self._class_gradient = jax.jit(class_gradient, static_argnums=4)

    def _head(self, out, logits: bool):
        jax, jnp = self.jax, self.jnp
        if self.use_logits:
            return out if logits else jax.nn.softmax(out, axis=1)
        return jnp.log(jnp.maximum(out, TINY)) if logits else out

    def _state(self):
        m = self.model
        return [v.value for v in m.trainable_variables], [v.value for v in m.non_trainable_variables]

    @staticmethod
    def _pad(a: np.ndarray, dtype) -> np.ndarray:
        n = a.shape[0]
        size = 1 << max(0, n - 1).bit_length() if n <= 128 else -(-n // 128) * 128
        if size == n:
            return np.asarray(a, dtype)
        out = np.zeros((size, *a.shape[1:]), dtype)
        out[:n] = a
        return out

    def forward(self, x):
        return np.asarray(self._forward(*self._state(), self._pad(x, np.float32)))[:len(x)]

    def class_gradient(self, x, labels, logits):
        g = self._class_gradient(*self._state(), self._pad(x, np.float32), self._pad(labels, np.int32), bool(logits))
        return np.asarray(g)[:len(x)]

    def loss_gradient(self, x, targets):
        g = self._loss_gradient(*self._state(), self._pad(x, np.float32), self._pad(targets, np.float32))
        return np.asarray(g)[:len(x)]


def make_engine(backend: str, model, use_logits: bool, input_shape) -> _Engine:
    """The engine for Keras backend ``backend`` (``keras.backend.backend()``)."""
    if backend == "torch":
        return TorchEngine(model, use_logits)
    if backend == "tensorflow":
        return TensorFlowEngine(model, use_logits, input_shape)
    if backend == "jax":
        return JaxEngine(model, use_logits)
    from feint.errors import InvalidParameterError

    raise InvalidParameterError(
        f"KerasClassifier supports the tensorflow, torch and jax backends of Keras 3. The active backend is "
        f"{backend!r}; set KERAS_BACKEND to one of them before importing keras.")
