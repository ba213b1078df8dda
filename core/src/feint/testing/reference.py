"""Small numpy classifiers with analytic gradients, so core and attack tests need no framework.

``SoftmaxRegression`` (linear logits) and ``MLPClassifier`` (one tanh hidden layer).  Both
implement the whole :class:`~feint.Classifier` contract, train with plain mini-batch SGD with
momentum, and run in float32 (default) or float64 (for finite-difference checks).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from feint.contracts.classifier import ALL_CAPABILITIES, Classifier, log_softmax, softmax

__all__ = ["MLPClassifier", "SoftmaxRegression", "toy_dataset", "trained_reference"]


class _NumpyClassifier(Classifier):
    name: ClassVar[str] = "numpy_reference"
    provides: ClassVar[frozenset[str]] = ALL_CAPABILITIES | {"train_with_input_gradient"}

    def __init__(self, input_shape, nb_classes, clip_values=(0.0, 1.0), defences=None, *,
                 learning_rate: float = 0.1, momentum: float = 0.9, dtype: str = "float32",
                 eot_samples: int = 1, random_state: int = 0) -> None:
        super().__init__(clip_values, None, defences, input_shape=tuple(input_shape),
                         nb_classes=nb_classes, eot_samples=eot_samples, dtype=dtype)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.random_state = random_state
        self._velocity: dict[str, np.ndarray] = {}

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def _flat(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)

    def _step(self, grads: dict[str, np.ndarray]) -> None:
        for name, g in grads.items():
            v = self._velocity.get(name, np.zeros_like(g))
            v = self.momentum * v - self.learning_rate * g
            self._velocity[name] = v
            setattr(self, name, (getattr(self, name) + v).astype(self.np_dtype))

    def _predict(self, x, logits):
        z = self._logits(self._flat(x))
        return z if logits else softmax(z)

    def _class_gradient(self, x, labels, logits):
        jz = self._logit_jacobian(self._flat(x))          # (n, K, D)
        n = x.shape[0]
        if not logits:
            p = softmax(self._logits(self._flat(x)))      # dF_k = F_k (dZ_k - sum_j F_j dZ_j)
            mean = np.einsum("nk,nkd->nd", p, jz)
            jz = p[:, :, None] * (jz - mean[:, None, :])
        g = jz[np.arange(n)[:, None], labels]             # (n, m, D)
        return g.reshape((n, labels.shape[1], *self.input_shape))

    def _output_gradient(self, x, weights_of, logits):
        f = self._flat(x)
        z = self._logits(f)
        p = softmax(z)
        out = (z if logits else p).astype(self.np_dtype)
        w = weights_of(out).astype(np.float64)                # (n, m, K)
        if not logits:                                        # dF = diag(F) - F F^T applied to w
            w = p[:, None, :] * (w - (w * p[:, None, :]).sum(axis=2, keepdims=True))
        n, m, k = w.shape
        g = self._backward_input(np.repeat(f, m, axis=0), w.reshape(n * m, k))
        return out, g.reshape((n, m, *self.input_shape)).astype(self.np_dtype), (1, m)

    def _loss_gradient(self, x, targets):
        f = self._flat(x)
        dz = softmax(self._logits(f)) * targets.sum(axis=1, keepdims=True) - targets
        return self._backward_input(f, dz).reshape(x.shape)

    def _train_on_batch(self, x, targets):
        return self._train_on_batch_input_gradient(x, targets, input_gradient=False)[0]

    def _train_on_batch_input_gradient(self, x, targets, input_gradient: bool = True):
        f = self._flat(x)
        z = self._logits(f)
        loss = float(-(targets * log_softmax(z)).sum(axis=1).mean())
        dz = (softmax(z) - targets) / f.shape[0]          # d(mean loss)/dz
        grad = self._backward_input(f, dz).reshape(x.shape) if input_gradient else None
        self._step(self._param_grads(f, dz))
        return loss, grad


class SoftmaxRegression(_NumpyClassifier):
    """Multinomial logistic regression: ``Z(x) = x W + b`` (numpy, analytic gradients)."""

    name: ClassVar[str] = "softmax_regression"

    def __init__(self, input_shape, nb_classes, clip_values=(0.0, 1.0), defences=None, **kwargs) -> None:
        super().__init__(input_shape, nb_classes, clip_values, defences, **kwargs)
        rng = np.random.default_rng(self.random_state)
        self.W = (rng.normal(0, 0.01, (self.n_features, nb_classes))).astype(self.np_dtype)
        self.b = np.zeros(nb_classes, dtype=self.np_dtype)

    def _logits(self, f):
        return f @ self.W + self.b

    def _logit_jacobian(self, f):
        return np.broadcast_to(self.W.T[None], (f.shape[0], *self.W.T.shape)).copy()

    def _backward_input(self, f, dz):
        return dz @ self.W.T

    def _param_grads(self, f, dz):
        return {"W": f.T @ dz, "b": dz.sum(axis=0)}


class MLPClassifier(_NumpyClassifier):
    """One-hidden-layer tanh network: ``Z(x) = tanh(x W1 + b1) W2 + b2`` (numpy, analytic gradients)."""

    name: ClassVar[str] = "mlp_reference"

    def __init__(self, input_shape, nb_classes, clip_values=(0.0, 1.0), defences=None, *,
                 hidden: int = 32, **kwargs) -> None:
        super().__init__(input_shape, nb_classes, clip_values, defences, **kwargs)
        self.hidden = hidden
        rng = np.random.default_rng(self.random_state)
        d = self.n_features
        self.W1 = rng.normal(0, 1 / np.sqrt(d), (d, hidden)).astype(self.np_dtype)
        self.b1 = np.zeros(hidden, dtype=self.np_dtype)
        self.W2 = rng.normal(0, 1 / np.sqrt(hidden), (hidden, nb_classes)).astype(self.np_dtype)
        self.b2 = np.zeros(nb_classes, dtype=self.np_dtype)

    def _hidden(self, f):
        return np.tanh(f @ self.W1 + self.b1)

    def _logits(self, f):
        return self._hidden(f) @ self.W2 + self.b2

    def _logit_jacobian(self, f):
        d = 1 - self._hidden(f) ** 2                         # (n, H)
        return np.einsum("nh,hk,dh->nkd", d, self.W2, self.W1)

    def _backward_input(self, f, dz):
        d = 1 - self._hidden(f) ** 2
        return ((dz @ self.W2.T) * d) @ self.W1.T

    def _param_grads(self, f, dz):
        h = self._hidden(f)
        dh = (dz @ self.W2.T) * (1 - h**2)
        return {"W2": h.T @ dz, "b2": dz.sum(axis=0), "W1": f.T @ dh, "b1": dh.sum(axis=0)}


def toy_dataset(n: int = 300, n_features: int = 8, nb_classes: int = 3, *, spread: float = 0.08,
                random_state: int = 0, dtype=np.float32):
    """Gaussian blobs inside [0, 1]^d: returns ``(x, y)`` with integer labels."""
    rng = np.random.default_rng(random_state)
    centres = rng.uniform(0.25, 0.75, (nb_classes, n_features))
    y = rng.integers(0, nb_classes, n)
    x = np.clip(centres[y] + rng.normal(0, spread, (n, n_features)), 0, 1)
    return x.astype(dtype), y.astype(np.int64)


def trained_reference(kind: str = "mlp", *, n: int = 300, n_features: int = 8, nb_classes: int = 3,
                      nb_epochs: int = 60, dtype: str = "float32", random_state: int = 0, **kwargs):
    """A reference classifier trained on :func:`toy_dataset`; returns ``(classifier, x, y)``."""
    x, y = toy_dataset(n, n_features, nb_classes, random_state=random_state, dtype=np.dtype(dtype))
    cls = MLPClassifier if kind == "mlp" else SoftmaxRegression
    clf = cls((n_features,), nb_classes, dtype=dtype, random_state=random_state, **kwargs)
    clf.fit(x, y, batch_size=32, nb_epochs=nb_epochs, random_state=random_state)
    clf.reset_counts()
    return clf, x, y
