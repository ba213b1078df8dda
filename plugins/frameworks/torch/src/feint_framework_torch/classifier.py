"""``PyTorchClassifier``: the Classifier contract for a ``torch.nn.Module`` (paper 000 §4.3)."""

from __future__ import annotations

import itertools
import operator
from typing import Any, ClassVar

import numpy as np
import torch

from feint import Classifier
from feint.contracts.classifier import ALL_CAPABILITIES
from feint.errors import InvalidParameterError
from feint.labels import to_categorical

__all__ = ["PyTorchClassifier"]


_training = operator.attrgetter("training")
_children = operator.attrgetter("_modules")


def _modules(root: torch.nn.Module) -> list:
    """The module and its submodules (a shared one may appear twice): ``Module.modules()`` without
    the generator chain, name prefixes and memo set, which cost more than the flags they read."""
    out, stack = [], [root]
    while stack:
        m = stack.pop()
        out.append(m)
        stack.extend(c for c in m._modules.values() if c is not None)
    return out


class _ModuleTree:
    """A model's modules, walked once and walked again only when a submodule slot changed.

    Every call switches the model to eval mode and back, which means reading every module's
    ``training`` flag.  Walking the tree in Python on every call is a visible share of a small
    model's pass on a few samples, most of all right after a pass, when the interpreter's code is
    no longer in the CPU caches (``python -m benchmarks coldcache``).  The walk is kept instead,
    with the contents of every module's submodule slots (``_modules``) at that time: a slot
    added, emptied or given another module anywhere in the tree changes those contents, and is
    found by comparing them, in C-level iteration, on every call.
    """

    def __init__(self, root: torch.nn.Module) -> None:
        self.root = root
        self._walk()

    def _slots(self) -> list:
        return list(itertools.chain.from_iterable(map(dict.values, map(_children, self.mods))))

    def _walk(self) -> None:
        self.mods = _modules(self.root)
        self.slots = self._slots()

    def current(self) -> list:
        """The modules now (walked again if the structure changed since the last walk)."""
        if self._slots() != self.slots:
            self._walk()
        return self.mods


class _eval_mode:
    """Put a model in eval (or train) mode and restore what it was (``tree``: its :class:`_ModuleTree`)."""

    def __init__(self, tree: _ModuleTree, train: bool = False) -> None:
        self.tree, self.train = tree, train

    def __enter__(self):
        # flip only the modules whose flag differs: most calls change nothing (one C-level scan);
        # the flag is a plain instance attribute, so setting it in __dict__ skips
        # Module.__setattr__'s parameter/buffer/submodule dispatch, which Module.train() pays per module
        mods = self.tree.current()
        differs = not all(map(_training, mods)) if self.train else any(map(_training, mods))
        self.changed = [m for m in mods if m.training != self.train] if differs else ()
        for m in self.changed:
            m.__dict__["training"] = self.train

    def __exit__(self, *exc):
        for m in self.changed:
            m.__dict__["training"] = not self.train


class PyTorchClassifier(Classifier):
    """Wrap a ``torch.nn.Module`` that returns logits as a feint classifier.

    All work of a call happens in torch: one forward and one backward per batch for the loss
    gradient, one backward per requested class for class gradients (sharing one forward; for
    small batches, at most ``batched_vjp_max`` samples x classes, the backward passes go as one
    vmapped call), float32 kept, and the module's train/eval mode restored after every call.
    Predictions and gradients run in eval mode; ``fit``/``train_on_batch`` in train mode.

    Parameters
    ----------
    clip_values : (float, float)
        Data range.
    model : torch.nn.Module
        Returns logits of shape ``(n, nb_classes)``.
    loss : callable, optional
        Training loss ``loss(logits, target)``; default ``torch.nn.CrossEntropyLoss()`` (which
        takes class indices or probability rows).  ``loss_gradient`` always differentiates the
        per-sample cross-entropy (the paper's L), whatever this loss's reduction.
    optimizer : torch.optim.Optimizer, optional
        Needed by ``fit``/``train_on_batch``.
    input_shape : tuple of int
        Shape of one input (channels first by default).
    nb_classes : int
        Number of classes (the paper's ``output_shape``; that name is accepted too).
    channel_index : int, default 1
    defences : str, list or Preprocessor, optional
    device : str or torch.device, optional
        ``"cuda"`` to run on the GPU when available; CPU by default.
    memory_format : {"auto", "contiguous", "channels_last"}, default "auto"
        Layout of 4-D (NCHW) input tensors handed to the model.  ``"auto"``: channels-last
        strides when there is one channel (the same bytes, so no copy; PyTorch's CPU convolution
        and max-pooling kernels are faster in it: forward+backward of the digits CNN on 256
        images 6.1 -> 4.5 ms), NCHW otherwise.  ``"channels_last"``: also converts inputs with
        several channels (a copy), for a model put in that format
        (``model.to(memory_format=torch.channels_last)``).  ``"contiguous"``: always NCHW.
        Results are the same up to float rounding; gradients come back as NCHW arrays.
    dtype : {"float32", "float64"}, default "float32"
        Precision of inputs, outputs and gradients; ``"float64"`` needs a model in double
        precision (``model.double()``), e.g. for tight finite-difference checks.

    References
    ----------
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §4.3.
    """

    name: ClassVar[str] = "torch"
    provides: ClassVar[frozenset[str]] = ALL_CAPABILITIES | {"train_with_input_gradient"}
    #: at most this many vector-Jacobian products (samples x weighted sums, m > 1) go in one
    #: vmapped backward call; it holds their graphs' gradients at once, like a backward pass of
    #: that many samples, so the bound also bounds memory
    batched_vjp_max: ClassVar[int] = 160
    _batched_vjp: bool | None = None           # None: not tried yet; False: the model cannot (or gains nothing)

    def __init__(self, clip_values, model, loss=None, optimizer=None, input_shape=None, nb_classes=None,
                 channel_index: int = 1, defences=None, device=None, *, output_shape=None,
                 eot_samples: int = 1, dtype: str = "float32", memory_format: str = "auto") -> None:
        if not isinstance(model, torch.nn.Module):
            raise InvalidParameterError(
                f"The 'model' parameter of PyTorchClassifier must be a torch.nn.Module. Got {type(model).__name__} instead.")
        if nb_classes is None and output_shape is not None:
            nb_classes = int(np.prod(output_shape)) if not isinstance(output_shape, int) else output_shape
        if input_shape is None or nb_classes is None:
            raise InvalidParameterError(
                "PyTorchClassifier needs input_shape (shape of one input) and nb_classes (or output_shape). "
                f"Got input_shape={input_shape!r}, nb_classes={nb_classes!r}.")
        super().__init__(clip_values, channel_index, defences, input_shape=input_shape, nb_classes=int(nb_classes),
                         eot_samples=eot_samples, dtype=dtype)
        if memory_format not in ("auto", "contiguous", "channels_last"):
            raise InvalidParameterError(
                "The 'memory_format' parameter of PyTorchClassifier must be 'auto', 'contiguous' or "
                f"'channels_last'. Got {memory_format!r} instead.")
        self.memory_format = memory_format
        self.model = model
        self.loss_fn = loss if loss is not None else torch.nn.CrossEntropyLoss()
        self.optimizer = optimizer
        if device is None:
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
        elif str(device).startswith("cuda") and not torch.cuda.is_available():
            raise InvalidParameterError(f"device={device!r} was asked for but CUDA is not available.")
        self.device = torch.device(device)
        self.model.to(self.device)

    def _modules_tree(self) -> _ModuleTree:
        tree = self.__dict__.get("_tree")
        if tree is None or tree.root is not self.model:        # (a model assigned after construction)
            tree = self.__dict__["_tree"] = _ModuleTree(self.model)
        return tree

    def _from_numpy(self, a: np.ndarray) -> torch.Tensor:
        """A tensor on ``device`` sharing ``a``'s memory where the device is the CPU (no ``.to`` call there)."""
        t = torch.from_numpy(a)
        return t if self.device.type == "cpu" else t.to(self.device)

    # -- helpers --------------------------------------------------------------------------------
    def _tensor(self, x: np.ndarray, grad: bool = False) -> torch.Tensor:
        t = self._from_numpy(np.ascontiguousarray(x, dtype=self.np_dtype))
        if t.ndim == 4 and self.channel_index == 1 and self.memory_format != "contiguous":
            n, c, h, w = t.shape
            if c == 1:       # the same bytes either way: only the strides tell torch which kernels to use
                t = t.as_strided(t.shape, (h * w, 1, w, 1))
            elif self.memory_format == "channels_last":
                t = t.contiguous(memory_format=torch.channels_last)
        return t.requires_grad_(grad)

    @staticmethod
    def _numpy(t: torch.Tensor) -> np.ndarray:
        t = t.detach()
        if t.device.type != "cpu":
            t = t.cpu()
        return (t if t.is_contiguous() else t.contiguous()).numpy()

    def _check_logits(self, z: torch.Tensor, n: int) -> torch.Tensor:
        if z.ndim != 2 or z.size(0) != n or z.size(1) != self.nb_classes:    # ints: no torch.Size comparison
            raise InvalidParameterError(
                f"The model must return logits of shape (n, {self.nb_classes}); it returned {tuple(z.shape)}.")
        return z

    # -- contract -------------------------------------------------------------------------------
    def _predict(self, x, logits):
        with _eval_mode(self._modules_tree()), torch.no_grad():
            z = self._check_logits(self.model(self._tensor(x)), len(x))
            out = z if logits else torch.softmax(z, dim=1)
        return self._numpy(out)

    def _class_gradient(self, x, labels, logits):
        # one-hot grad_outputs through the same forward/backward loop as output_gradient
        w = to_categorical(labels, self.nb_classes, dtype=self.np_dtype)        # (n, m, K)
        # this class's own loop, not self._output_gradient: a subclass may swap that for the base
        # class's predict + class_gradient fallback (feint.testing.without_native_output_gradient)
        return PyTorchClassifier._output_gradient(self, x, lambda out: w, logits)[1]

    def _output_gradient(self, x, weights_of, logits):
        with _eval_mode(self._modules_tree()):
            xt = self._tensor(x, grad=True)
            z = self._check_logits(self.model(xt), len(x))
            f = z if logits else torch.softmax(z, dim=1)
            # the outputs share f's memory: the caller's weights callable gets its own copy (the
            # base class makes it) and this array is handed out only after the backward passes
            out = self._numpy(f)
            wn = np.ascontiguousarray(weights_of(out))
            n, m = wn.shape[:2]
            if m == 1:
                (g1,) = torch.autograd.grad(f, xt, grad_outputs=self._from_numpy(wn.reshape(n, -1)))
                return out, self._numpy(g1)[:, None], (1, 1)
            w = self._from_numpy(wn)
            if n * m <= self.batched_vjp_max and self._batched_vjp is not False:
                g = self._batched_backward(f, xt, w)
                if g is not None:
                    return out, g, (1, m)
            g = np.empty((n, m, *x.shape[1:]), dtype=self.np_dtype)
            for j in range(m):                     # one backward per weighted sum, sharing the forward
                (gj,) = torch.autograd.grad(f, xt, grad_outputs=w[:, j], retain_graph=j < m - 1)
                g[:, j] = self._numpy(gj)
        return out, g, (1, m)

    def _batched_backward(self, f: torch.Tensor, xt: torch.Tensor, w: torch.Tensor):
        """The m backward passes of a small batch as one vectorised call (``is_grads_batched``).

        For a few samples each backward call is mostly fixed cost, and PyTorch's vmapped
        backward does the m of them at once (digits CNN, 10 classes: one image 3.9 -> 2.0 ms,
        16 images 7.7 -> 5.3 ms; at 256 images it is slower and would hold 2560 samples' worth
        of gradients, hence ``batched_vjp_max`` on ``n * m``).  The graph is kept, so when the
        model has an operation vmap cannot batch (an error, or PyTorch's warning that it falls
        back to a loop) the caller's loop takes over and this classifier does not try again.
        Results agree with the loop to float rounding.  Other warnings are passed on.
        """
        import warnings

        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                (gb,) = torch.autograd.grad(f, xt, grad_outputs=w.transpose(0, 1).contiguous(),
                                            retain_graph=True, is_grads_batched=True)
        except RuntimeError:
            self._batched_vjp = False
            return None
        looped = [c for c in caught if "performance drop" in str(c.message) or "fall back" in str(c.message).lower()]
        for c in caught:
            if c not in looped:
                warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
        if looped:
            self._batched_vjp = False          # correct, but a loop inside vmap: the plain loop is faster
        elif self._batched_vjp is None:
            self._batched_vjp = True
        return np.ascontiguousarray(self._numpy(gb.transpose(0, 1)))

    def _loss_gradient(self, x, targets):
        with _eval_mode(self._modules_tree()):
            xt = self._tensor(x, grad=True)
            z = self._check_logits(self.model(xt), len(x))
            t = self._from_numpy(np.asarray(targets, dtype=self.np_dtype))
            # torch's own cross-entropy with probability rows: the same operations (log_softmax, product,
            # sum) and bit-identical gradients as writing them out, in one call from Python
            loss = torch.nn.functional.cross_entropy(z, t, reduction="sum")
            (g,) = torch.autograd.grad(loss, xt)
        return self._numpy(g)

    def _train_on_batch(self, x, targets):
        return self._train_on_batch_input_gradient(x, targets, input_gradient=False)[0]

    def _train_on_batch_input_gradient(self, x, targets, input_gradient: bool = True):
        if self.optimizer is None:
            raise InvalidParameterError("PyTorchClassifier was built without an optimizer; pass optimizer= to train.")
        with _eval_mode(self._modules_tree(), train=True):
            xt = self._tensor(x, grad=input_gradient)
            t = torch.from_numpy(targets).to(self.device)
            hard = bool(np.all((targets == 0) | (targets == 1)))
            self.optimizer.zero_grad(set_to_none=True)
            z = self.model(xt)
            loss = self.loss_fn(z, t.argmax(dim=1) if hard else t)
            loss.backward()                       # one backward: parameter and input gradients
            self.optimizer.step()
        grad = self._numpy(xt.grad) if input_gradient else None
        return float(loss.detach().cpu()), grad

    def spec(self) -> str:
        return super().spec()

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "device": str(self.device), "dtype": self.dtype,
                "memory_format": self.memory_format}
