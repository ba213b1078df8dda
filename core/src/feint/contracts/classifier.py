"""The ``Classifier`` contract (paper 000 §4.1): predictions and gradients behind one API.

Framework adapters implement five protected methods on one preprocessed batch in float32:
``_predict``, ``_class_gradient``, ``_loss_gradient``, ``_train_on_batch`` (and optionally
``_fit``).  This base class does everything around them once: input and label validation,
batching, the defences chain (applied at fit and/or predict time, and its gradient rule applied
to every gradient, so attacks are adaptive by default), Expectation over Transformation for
randomised defences, and pass counting.
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import numpy as np

from feint._params import Boolean, Instance, Integer, NoneOk, Options, Satisfies
from feint.contracts.component import Component
from feint.contracts.counters import PassCounter
from feint.errors import InvalidInputError, InvalidParameterError
from feint.labels import to_indices, to_targets

__all__ = ["Classifier", "softmax", "log_softmax"]

ALL_CAPABILITIES = frozenset({"predict", "loss_gradient", "class_gradient", "fit", "train_on_batch"})
# An adapter may add the optional capability "train_with_input_gradient" to ``provides`` when it
# implements ``_train_on_batch_input_gradient`` (used by free adversarial training).


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def _is_clip(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2 and all(
        isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and math.isfinite(b) for b in v)
        and v[0] < v[1])


def _own(a, shape: tuple, dtype) -> np.ndarray:
    """``a`` as the caller's array: itself when it is a fresh result already, else a new copy.

    An adapter's result is handed back as is only when it is already the whole answer and a
    writeable, contiguous array of the right type (a fresh array from the framework); read-only
    or shared buffers, such as JAX's, are copied.
    """
    a = np.asarray(a)
    if a.shape == shape and a.dtype == dtype and a.flags.writeable and a.flags.c_contiguous:
        return a
    return np.array(a, dtype=dtype).reshape(shape)


def _joined(parts: list, shape: tuple, dtype) -> np.ndarray:
    """The batches' results as one new array (one batch's own array when :func:`_own` allows)."""
    shape = tuple(shape)
    if len(parts) == 1:
        return _own(parts[0], shape, dtype)
    out = np.empty(shape, dtype=dtype)
    start = 0
    for p in parts:
        out[start:start + len(p)] = p
        start += len(p)
    return out


class Classifier(Component):
    """Base class of every classifier adapter.

    Parameters
    ----------
    clip_values : tuple of (float, float) or None
        The data range ``(x_min, x_max)``; attacks keep their outputs inside it.
    channel_index : int or None
        Axis of the colour channel in a batch (1 channels-first, 3 channels-last).
    defences : str, list or Preprocessor, optional
        Preprocessing defences, by spec (``'featsqueeze5+smooth'``), a list (a chain, in order) or
        objects; resolved through the registry.
    input_shape : tuple of int, optional
        Shape of one input.
    nb_classes : int, optional
        Number of classes K.
    eot_samples : int, default 1
        Expectation over Transformation: number of draws of the randomised defences averaged in
        each gradient (papers 003 §4.1, issue "honest evaluation").
    """

    kind = "framework"
    provides: ClassVar[frozenset[str]] = ALL_CAPABILITIES
    _parameter_constraints: ClassVar[dict] = {
        "clip_values": [Satisfies(_is_clip, "a (min, max) pair of finite numbers with min < max"), NoneOk()],
        "channel_index": [Integer(), NoneOk()],
        "eot_samples": [Integer(1, None)],
        "nb_classes": [Integer(2, None), NoneOk()],
        "input_shape": [Satisfies(lambda s: isinstance(s, (tuple, list)) and all(
            isinstance(d, (int, np.integer)) and d > 0 for d in s), "a tuple of positive ints"), NoneOk()],
        "defences": [Instance(str, list, tuple, Component, description="a spec string, a list or a Preprocessor"),
                     NoneOk()],
        "deterministic": [Boolean()],
        "dtype": [Options(("float32", "float64"))],
    }

    def __init__(self, clip_values=None, channel_index=None, defences=None, *, input_shape=None,
                 nb_classes=None, eot_samples: int = 1, dtype: str = "float32") -> None:
        self.clip_values = tuple(clip_values) if isinstance(clip_values, list) else clip_values
        self.channel_index = channel_index
        self.defences = defences
        self.input_shape = tuple(int(d) for d in input_shape) if input_shape is not None else None
        self.nb_classes = nb_classes
        self.eot_samples = eot_samples
        self.dtype = dtype
        validate = {k: getattr(self, k) for k in ("clip_values", "channel_index", "defences", "input_shape",
                                                  "nb_classes", "eot_samples", "dtype")}
        from feint._params import validate_params

        validate_params(type(self).__name__, Classifier._parameter_constraints, validate)
        self.counts = PassCounter()
        self.preprocessors = self._resolve_defences(defences)

    # -- set-up -------------------------------------------------------------------------------
    def _resolve_defences(self, defences) -> list:
        from feint.contracts.preprocessor import Preprocessor, PreprocessorChain

        if defences is None or defences == [] or defences == "none":
            return []
        if isinstance(defences, (str, Component)):
            items = [defences]
        elif isinstance(defences, (list, tuple)):
            items = list(defences)
        else:
            raise InvalidParameterError(
                f"The 'defences' parameter of {type(self).__name__} must be a spec string, a list or "
                f"a Preprocessor. Got {defences!r} instead.")
        from feint.registry import default_registry

        steps = []
        for item in items:
            obj = default_registry().create("defence", item) if isinstance(item, str) else item
            parts = obj.steps if isinstance(obj, PreprocessorChain) else [obj]
            for p in parts:
                if not isinstance(p, Preprocessor):
                    raise InvalidParameterError(
                        f"The 'defences' of {type(self).__name__} must be preprocessors; {p!r} is a "
                        f"{type(p).__name__}. Trainers and detectors wrap a classifier instead.")
                steps.append(p.for_classifier(self))
        return steps

    @property
    def np_dtype(self) -> np.dtype:
        d = self.__dict__.get("_np_dtype")                 # read on every call: cached per dtype string
        if d is None or d[0] != self.dtype:
            d = self.__dict__["_np_dtype"] = (self.dtype, np.dtype(self.dtype))
        return d[1]

    def without_defences(self) -> Classifier:
        """A shallow copy sharing the model but with no defences (for non-adaptive attacks)."""
        clone = copy.copy(self)
        clone.preprocessors = []
        clone.defences = None
        clone.counts = self.counts
        return clone

    def with_defences(self, defences) -> Classifier:
        """A shallow copy sharing the model with other defences (a spec, list or objects)."""
        clone = copy.copy(self)
        clone.defences = defences
        clone.preprocessors = clone._resolve_defences(defences)
        clone.counts = self.counts
        return clone

    def reset_counts(self) -> None:
        """Zero the pass counters."""
        self.counts.reset()

    # -- validation ---------------------------------------------------------------------------
    def check_x(self, x, name: str = "x", check_range: bool = True) -> np.ndarray:
        """Validate an input batch and return it as a new array of the classifier's dtype."""
        if isinstance(x, (list, tuple)):
            x = np.asarray(x)
        if not isinstance(x, np.ndarray):
            raise InvalidInputError(f"{name} must be a numpy array. Got {type(x).__name__} instead.")
        if x.dtype.kind not in "fiu":
            raise InvalidInputError(f"{name} must hold numbers. Got dtype {x.dtype} instead.")
        shape = self.input_shape
        if shape is not None and tuple(x.shape[1:]) != shape:
            hint = ""
            if x.ndim == len(shape) + 1 and sorted(x.shape[1:]) == sorted(shape):
                hint = (" It looks like the channel layout is transposed: this classifier expects "
                        f"channel_index={self.channel_index}.")
            elif x.shape == shape:
                hint = " Add a batch axis (x[None]) for a single sample."
            raise InvalidInputError(
                f"{name} must have shape (n, {', '.join(map(str, shape))}) for this classifier. "
                f"Got {x.shape} instead.{hint}")
        if x.ndim < 2:
            raise InvalidInputError(f"{name} must be a batch of shape (n, ...). Got shape {x.shape} instead.")
        out = np.array(x, dtype=self.np_dtype, copy=True)
        if not out.size:
            return out
        vmin, vmax = float(out.min()), float(out.max())    # NaN or inf anywhere shows in one of the two
        if not (math.isfinite(vmin) and math.isfinite(vmax)):
            bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
            raise InvalidInputError(f"{name} contains {bad} NaN or infinite values; inputs must be finite.")
        if check_range and self.clip_values is not None:
            lo, hi = self.clip_values
            tol = 1e-5 * (hi - lo)
            if vmin < lo - tol or vmax > hi + tol:
                raise InvalidInputError(
                    f"{name} has values in [{vmin:.6g}, {vmax:.6g}], outside clip_values "
                    f"({lo}, {hi}). Scale the data to the classifier's range or change clip_values.")
        return out

    def _batches(self, n: int, batch_size: int):
        if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
            raise InvalidParameterError(f"The 'batch_size' parameter must be an int >= 1. Got {batch_size!r} instead.")
        for start in range(0, n, int(batch_size)):
            yield slice(start, min(n, start + int(batch_size)))

    def _one_batch(self, n: int, batch_size) -> bool:
        """Whether a call on ``n`` inputs is one adapter call with nothing around it.

        True when the inputs fit in one batch and no defence applies at predict time (so no
        trace to backpropagate and no EOT draws).  Every public method then calls the adapter
        once on the validated array itself, without the batching loop: the same arrays, passes
        and results, in fewer steps.  That matters because each step right after a model pass
        runs with cold CPU caches and costs several times what a microbenchmark says (``python
        -m benchmarks coldcache``); an attack's late iterations on a few samples are mostly such
        steps.  An invalid ``batch_size`` goes the general way, which reports it.
        """
        return (0 < n <= batch_size and not self.preprocessors and type(batch_size) is int)

    # -- defences -----------------------------------------------------------------------------
    def _preprocess(self, x: np.ndarray, y=None, *, fit: bool = False):
        if not self.preprocessors:
            return x, y, []
        steps = [p for p in self.preprocessors if (p.apply_fit if fit else p.apply_predict)]
        trace = []
        for p in steps:
            trace.append(x)
            x, y = p.transform(x, y)
            x = np.asarray(x, dtype=self.np_dtype)
        return x, y, list(zip(steps, trace))

    @staticmethod
    def _backprop(trace, grad: np.ndarray) -> np.ndarray:
        for p, x_in in reversed(trace):
            grad = p.estimate_gradient(x_in, grad)
        return grad

    def _eot_draws(self) -> int:
        randomised = any(p.randomised for p in self.preprocessors if p.apply_predict)
        return self.eot_samples if randomised else 1

    # -- public API ---------------------------------------------------------------------------
    def predict(self, x, logits: bool = False, batch_size: int = 128) -> np.ndarray:
        """Class probabilities F(x) (or logits Z(x) with ``logits=True``), shape ``(n, K)``."""
        x = self.check_x(x)
        if self._one_batch(x.shape[0], batch_size):
            out = np.asarray(self._predict(x, logits=logits))
            self.counts.add_forward(x.shape[0])
            return _own(out, (x.shape[0], *out.shape[1:]), self.np_dtype)
        out = []
        for sl in self._batches(x.shape[0], batch_size):
            xb, _, _ = self._preprocess(x[sl])
            out.append(np.asarray(self._predict(xb, logits=logits), dtype=self.np_dtype))
            self.counts.add_forward(xb.shape[0])
        return _joined(out, (x.shape[0], out[0].shape[1] if out else self.nb_classes or 0), self.np_dtype)

    def _labels_for_class_gradient(self, label, n: int) -> np.ndarray:
        k = self.nb_classes
        if label is None:
            return np.broadcast_to(np.arange(k), (n, k))
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
            if not 0 <= label < k:
                raise InvalidInputError(f"label must be a class index in [0, {k - 1}]. Got {label} instead.")
            return np.full((n, 1), int(label), dtype=np.int64)
        arr = np.asarray(label)
        if arr.ndim == 1:
            return to_indices(arr, n, k, name="label")[:, None]
        if arr.ndim == 2 and arr.shape[0] == n and np.issubdtype(arr.dtype, np.integer):
            if arr.size and (arr.min() < 0 or arr.max() >= k):
                raise InvalidInputError(f"label class indices must be in [0, {k - 1}].")
            return arr.astype(np.int64)
        raise InvalidInputError(
            "label must be None, an int, an array of n class indices, or an (n, m) array of class "
            f"indices. Got {type(label).__name__} of shape {getattr(arr, 'shape', None)} instead.")

    def class_gradient(self, x, label=None, logits: bool = False, batch_size: int = 128) -> np.ndarray:
        """Gradients of the requested class outputs, shape ``(n, m, *input_shape)``.

        ``label=None`` gives all K classes (m = K); an int gives that class for every sample
        (m = 1); an array of n indices gives one class per sample (m = 1); an ``(n, m)`` integer
        array gives m classes per sample.  Only the requested classes are computed.
        """
        x = self.check_x(x)
        labels = self._labels_for_class_gradient(label, x.shape[0])
        if self._one_batch(x.shape[0], batch_size):
            g = self._class_gradient(x, labels, logits=logits)
            self.counts.add_forward(x.shape[0])
            self.counts.add_backward(x.shape[0], labels.shape[1])
            return _own(g, (x.shape[0], labels.shape[1], *x.shape[1:]), self.np_dtype)
        parts = []
        draws = self._eot_draws()
        for sl in self._batches(x.shape[0], batch_size):
            acc = None
            for _ in range(draws):
                xb, _, trace = self._preprocess(x[sl])
                g = np.asarray(self._class_gradient(xb, labels[sl], logits=logits), dtype=self.np_dtype)
                self.counts.add_forward(xb.shape[0])
                self.counts.add_backward(xb.shape[0], labels.shape[1])
                if trace:
                    g = np.stack([self._backprop(trace, g[:, j]) for j in range(g.shape[1])], axis=1)
                acc = g if acc is None else acc + g
            parts.append(acc / draws if draws > 1 else acc)
        return _joined(parts, (x.shape[0], labels.shape[1], *x.shape[1:]), self.np_dtype)

    def output_gradient(self, x, weights, logits: bool = False, batch_size: int = 128):
        """The outputs and the gradient of weighted sums of them, sharing one forward pass.

        For outputs ``out = F(x)`` (or ``Z(x)`` with ``logits=True``), returns ``(out, grad)``
        with ``grad[i] = d/dx_i sum_k w[i, k] out[i, k]``: a vector-Jacobian product.  The
        weights may depend on the outputs themselves, as most objectives' do (C&W's hinge
        ``Z_t - max_{j != t} Z_j``, the cross-entropy's ``F - t``, DeepFool's differences to the
        nearest classes): pass a callable, called once per batch (and per EOT draw) as
        ``weights(out_batch, rows)`` with that batch's outputs and the indices of its rows in
        ``x``, returning the weights.  Attacks that would otherwise call ``predict`` and then
        ``class_gradient`` save the extra forward pass, and one weighted backward replaces one
        backward per class.

        Parameters
        ----------
        x : np.ndarray
            Inputs ``(n, *input_shape)``.
        weights : np.ndarray or callable
            ``(n, K)``: one weighted sum per sample; ``(n, m, K)``: m of them (m backward passes).
            Or a callable returning the same for a batch's ``(n_b, K)`` outputs.
        logits : bool, default False
            Weigh the logits ``Z`` instead of the probabilities ``F``.
        batch_size : int, default 128

        Returns
        -------
        out : np.ndarray
            ``(n, K)``, as ``predict(x, logits=logits)`` (averaged over EOT draws).
        grad : np.ndarray
            ``(n, *input_shape)`` for 2-D weights, ``(n, m, *input_shape)`` for 3-D ones.

        Notes
        -----
        Adapters that keep the graph of the forward pass implement ``_output_gradient`` (one
        forward, m backward passes per batch).  Otherwise it is computed from ``_predict`` and
        ``_class_gradient`` over the classes with non-zero weight: exact, but one extra forward
        pass and one backward per such class; the counters record what was actually run.
        """
        x = self.check_x(x)
        n, k = x.shape[0], self.nb_classes
        fixed = None if callable(weights) else np.asarray(weights)
        if fixed is not None:
            self._check_weights(fixed, n)
        single = fixed is None or fixed.ndim == 2          # a callable's first result decides
        sl = slice(0, n)                                    # the rows of the batch being run

        def weights_of(o):
            nonlocal single
            if fixed is not None:
                w = fixed[sl]
            else:
                w = np.asarray(weights(np.array(o, dtype=self.np_dtype), np.arange(sl.start, sl.stop)))
                self._check_weights(w, sl.stop - sl.start, "the weights callable's result")
                single = w.ndim == 2
            w = np.asarray(w, dtype=self.np_dtype)
            return w[:, None, :] if w.ndim == 2 else w

        if self._one_batch(n, batch_size):
            o, g, (forwards, backwards) = self._output_gradient(x, weights_of, logits=logits)
            for _ in range(forwards):
                self.counts.add_forward(n)
            self.counts.add_backward(n, backwards)
            out = _own(o, (n, k), self.np_dtype)
            grad = _own(g, (n, np.shape(g)[1], *x.shape[1:]), self.np_dtype)
            return out, (grad[:, 0] if single else grad)
        outs, grads = [], []
        draws = self._eot_draws()
        for sl in self._batches(n, batch_size):     # (weights_of reads the current batch's rows)
            acc_o = acc_g = None
            for _ in range(draws):
                xb, _, trace = self._preprocess(x[sl])
                o, g, (forwards, backwards) = self._output_gradient(xb, weights_of, logits=logits)
                g = np.asarray(g, dtype=self.np_dtype)
                for _ in range(forwards):
                    self.counts.add_forward(xb.shape[0])
                self.counts.add_backward(xb.shape[0], backwards)
                if trace:
                    g = np.stack([self._backprop(trace, g[:, j]) for j in range(g.shape[1])], axis=1)
                acc_o = o if acc_o is None else acc_o + o
                acc_g = g if acc_g is None else acc_g + g
            outs.append(acc_o / draws if draws > 1 else acc_o)
            grads.append(acc_g / draws if draws > 1 else acc_g)
        m = grads[0].shape[1] if grads else 1
        out = _joined(outs, (n, k), self.np_dtype)
        grad = _joined(grads, (n, m, *x.shape[1:]), self.np_dtype)
        return out, (grad[:, 0] if single else grad)

    @property
    def native_output_gradient(self) -> bool:
        """Whether :meth:`output_gradient` costs one forward pass (the adapter implements it).

        ``False`` means it falls back to ``predict`` plus ``class_gradient`` over the weighted
        classes: still exact, but an attack whose weights cover every class (the cross-entropy's
        ``F - t``) is then cheaper with ``predict`` and ``loss_gradient``.
        """
        return type(self)._output_gradient is not Classifier._output_gradient

    def _check_weights(self, w: np.ndarray, n: int, name: str = "weights") -> None:
        k = self.nb_classes
        if w.ndim not in (2, 3) or w.shape[0] != n or w.shape[-1] != k:
            raise InvalidInputError(
                f"{name} must have shape (n, K) = ({n}, {k}) or (n, m, K) = ({n}, m, {k}). Got "
                f"{getattr(w, 'shape', None)} instead.")
        # one pass over w: NaN or inf anywhere makes the float64 sum non-finite (float32 weights cannot
        # overflow it; float64 ones only beyond 1e300, which no objective's weights reach)
        if w.dtype.kind not in "fiu" or not math.isfinite(w.sum(dtype=np.float64)):
            raise InvalidInputError(f"{name} must be finite numbers. Got dtype {w.dtype} with non-finite values.")

    def loss_gradient(self, x, y, batch_size: int = 128) -> np.ndarray:
        """Gradient of the training loss (cross-entropy) w.r.t. ``x``; labels int, one-hot or soft."""
        x = self.check_x(x)
        t = to_targets(y, x.shape[0], self.nb_classes, dtype=self.np_dtype)
        if self._one_batch(x.shape[0], batch_size):
            g = self._loss_gradient(x, t)
            self.counts.add_forward(x.shape[0])
            self.counts.add_backward(x.shape[0])
            return _own(g, x.shape, self.np_dtype)
        parts = []
        draws = self._eot_draws()
        for sl in self._batches(x.shape[0], batch_size):
            acc = None
            for _ in range(draws):
                xb, _, trace = self._preprocess(x[sl])
                g = np.asarray(self._loss_gradient(xb, t[sl]), dtype=self.np_dtype)
                self.counts.add_forward(xb.shape[0])
                self.counts.add_backward(xb.shape[0])
                g = self._backprop(trace, g) if trace else g
                acc = g if acc is None else acc + g
            parts.append(acc / draws if draws > 1 else acc)
        return _joined(parts, x.shape, self.np_dtype)

    def loss(self, x, y, batch_size: int = 128) -> np.ndarray:
        """Per-sample cross-entropy of the predictions against ``y`` (int, one-hot or soft)."""
        z = self.predict(x, logits=True, batch_size=batch_size)
        t = to_targets(y, z.shape[0], self.nb_classes, dtype=np.float64)
        return -(t * log_softmax(z.astype(np.float64))).sum(axis=1).astype(self.np_dtype)

    def fit(self, x, y, batch_size: int = 128, nb_epochs: int = 20, **kwargs: Any) -> Classifier:
        """Train on ``(x, y)`` with the fit-time defences applied (paper 000 §4.1); returns self."""
        x = self.check_x(x)
        t = to_targets(y, x.shape[0], self.nb_classes, dtype=self.np_dtype)
        for name, v, lo in (("batch_size", batch_size, 1), ("nb_epochs", nb_epochs, 0)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise InvalidParameterError(f"The {name!r} parameter of fit must be an int >= {lo}. Got {v!r} instead.")
        x, t, _ = self._preprocess(x, t, fit=True)
        self._fit(x, np.asarray(t, dtype=self.np_dtype), int(batch_size), int(nb_epochs), **kwargs)
        return self

    def train_on_batch(self, x, y, return_input_gradient: bool = False):
        """One optimiser step on one batch (fit-time defences applied); returns the batch loss.

        With ``return_input_gradient=True`` returns ``(loss, grad)``: ``grad`` is the gradient of
        that batch loss (as the optimiser minimised it, so its scale follows the training loss's
        reduction: ``loss_gradient / n`` for the default mean cross-entropy) with respect to
        ``x``, taken from the same backward pass as the parameter update, before the step, in
        training mode (Shafahi et al. 2019, "Adversarial training for free!").  Needs the
        capability ``train_with_input_gradient``; fit-time defences that change the number of
        samples (Gaussian augmentation) cannot be combined with it.
        """
        x = self.check_x(x)
        t = to_targets(y, x.shape[0], self.nb_classes, dtype=self.np_dtype)
        if return_input_gradient:
            return self._train_with_input_gradient(x, t)
        x, t, _ = self._preprocess(x, t, fit=True)
        self.counts.add_forward(x.shape[0])
        self.counts.add_backward(x.shape[0])
        return float(self._train_on_batch(x, np.asarray(t, dtype=self.np_dtype)))

    def _train_with_input_gradient(self, x: np.ndarray, t: np.ndarray):
        if "train_with_input_gradient" not in self.provides:
            from feint.errors import CapabilityError

            raise CapabilityError("train_on_batch(return_input_gradient=True)", {"train_with_input_gradient"},
                                  self.provides, type(self).__name__)
        n = x.shape[0]
        xp, tp, trace = self._preprocess(x, t, fit=True)
        if xp.shape[0] != n:
            raise InvalidInputError(
                f"train_on_batch(return_input_gradient=True) needs one gradient row per input, but the "
                f"fit-time defences of {type(self).__name__} turned {n} inputs into {xp.shape[0]} "
                "(e.g. Gaussian augmentation); remove them for this training.")
        self.counts.add_forward(n)
        self.counts.add_backward(n)
        loss, grad = self._train_on_batch_input_gradient(xp, np.asarray(tp, dtype=self.np_dtype))
        grad = np.asarray(grad, dtype=self.np_dtype)
        return float(loss), (self._backprop(trace, grad) if trace else grad)

    # -- to implement -------------------------------------------------------------------------
    def _predict(self, x: np.ndarray, logits: bool) -> np.ndarray:
        raise NotImplementedError

    def _class_gradient(self, x: np.ndarray, labels: np.ndarray, logits: bool) -> np.ndarray:
        """Gradients for ``labels`` of shape (n, m): return (n, m, *input_shape)."""
        raise NotImplementedError

    def _loss_gradient(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Gradient of the cross-entropy with target rows ``targets`` (n, K)."""
        raise NotImplementedError

    def _output_gradient(self, x: np.ndarray, weights_of, logits: bool):
        """Outputs and vector-Jacobian products for one preprocessed batch.

        ``weights_of(out)`` maps the batch's outputs ``(n, K)`` to weights ``(n, m, K)``.  Return
        ``(out, grad, (forwards, backwards))``: ``grad`` of shape ``(n, m, *input_shape)`` and the
        passes made per sample.  Adapters that keep the forward graph override this with one
        forward and m backward passes; this default uses ``_predict`` and ``_class_gradient``
        over the classes with a non-zero weight in some row (1 + 1 forward, that many backward).
        """
        out = np.asarray(self._predict(x, logits=logits), dtype=self.np_dtype)
        w = weights_of(out)
        n, m, _ = w.shape
        used = (w != 0).any(axis=1)                                   # (n, K)
        c = max(1, int(used.sum(axis=1).max()) if n else 1)
        labels = np.argsort(~used, axis=1, kind="stable")[:, :c]      # used classes first
        cg = np.asarray(self._class_gradient(x, labels, logits=logits), dtype=self.np_dtype)
        coef = np.take_along_axis(w, labels[:, None, :], axis=2)      # (n, m, c); unused classes weigh 0
        g = np.einsum("nmc,ncd->nmd", coef, cg.reshape(n, c, -1)).reshape((n, m, *x.shape[1:]))
        return out, g, (2, c)

    def _train_on_batch(self, x: np.ndarray, targets: np.ndarray) -> float:
        raise NotImplementedError

    def _train_on_batch_input_gradient(self, x: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
        """One optimiser step that also returns the input gradient of the batch loss from the
        same backward pass (capability ``train_with_input_gradient``): ``(loss, grad)``."""
        raise NotImplementedError

    def _fit(self, x: np.ndarray, targets: np.ndarray, batch_size: int, nb_epochs: int,
             shuffle: bool = True, random_state=None, **kwargs: Any) -> None:
        """Default training loop: shuffled mini-batches through :meth:`_train_on_batch`."""
        if kwargs:
            raise InvalidParameterError(f"{type(self).__name__}.fit got unexpected arguments {sorted(kwargs)}.")
        rng = np.random.default_rng(random_state)
        n = x.shape[0]
        from feint.hooks import task

        with task("trainer", f"{type(self).__name__}.fit", total=nb_epochs, unit="epoch") as t:
            for _ in range(nb_epochs):
                order = rng.permutation(n) if shuffle else np.arange(n)
                for start in range(0, n, batch_size):
                    idx = order[start:start + batch_size]
                    self.counts.add_forward(len(idx))
                    self.counts.add_backward(len(idx))
                    self._train_on_batch(x[idx], targets[idx])
                t.advance()

    # -- spec -----------------------------------------------------------------------------------
    def spec(self) -> str:
        name = type(self).name or type(self).__name__
        parts = [f"clip_values={self.clip_values!r}"]
        if self.preprocessors:
            parts.append("defences=" + repr("+".join(str(p) for p in self.preprocessors)))
        return f"{name}({', '.join(parts)})"

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("clip_values", "channel_index", "defences", "input_shape",
                                              "nb_classes", "eot_samples")}

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__
