"""The fixed model and batch, pass counting at the torch level, and the floor: what the model's own passes cost.

The floor is measured in the benchmark's process, on the same model and thread count, with
plain torch (no feint, no peer library): a forward pass without gradients, and a forward pass
plus a backward pass to the input.  Both are timed at several batch sizes and fitted as
``per_call + per_sample * n``, so the floor cost of any mix of passes follows from the counters
``(calls, samples)`` alone: an attack that sends its active samples in small batches is charged
the framework's own per-call overhead, not the per-sample cost of a full batch.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = ["Batch", "CountingModule", "Floor", "Passes", "Replayer", "limit_threads", "load_batch", "local_scale",
           "measure_floor", "replay_calls"]

BATCH = 256


@dataclass
class Batch:
    """The benchmark batch: the first ``n`` correctly classified digits test images and their labels."""

    model: torch.nn.Module
    x: np.ndarray
    y: np.ndarray
    targets: np.ndarray
    test_accuracy: float
    indices: np.ndarray


def limit_threads(threads: int = 1) -> None:
    """Run torch and the BLAS libraries numpy uses on ``threads`` threads (the benchmarks' default: 1)."""
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass


def _channels_last_strides(x: np.ndarray) -> np.ndarray:
    """The same bytes with the strides PyTorch reads as channels-last (one channel: no copy).

    ``torch.from_numpy`` keeps numpy's strides, and PyTorch's CPU convolution and max-pooling
    kernels pick their layout from them: with the NCHW strides a fresh array gets, this CNN's
    forward+backward is ~1.3x slower than with channels-last ones.  The floor, feint (whose
    torch adapter presents one-channel inputs this way) and the peers that keep the caller's
    array all get the faster layout this way.
    """
    if x.ndim != 4 or x.shape[1] != 1:
        return x
    n, c, h, w = x.shape
    item = x.itemsize
    return np.lib.stride_tricks.as_strided(x, x.shape, (h * w * item, item, w * item, item))


def load_batch(n: int = BATCH, seed: int = 0) -> Batch:
    """The seeded digits CNN (feint's test fixture, cached on disk) and a fixed batch of ``n`` test images.

    The batch is the first ``n`` test images the model classifies correctly, so every library
    attacks the same inputs with the same true labels and "success" needs no filtering.  The
    targets of targeted rows are drawn once, uniformly among the other classes, from ``seed``.
    """
    from feint_framework_torch.testing import digits_cnn

    clf, _, (x_test, y_test) = digits_cnn()
    model = clf.model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(x_test)).argmax(1).numpy()
    correct = np.flatnonzero(pred == y_test)
    idx = correct[:n]
    x, y = _channels_last_strides(np.ascontiguousarray(x_test[idx])), y_test[idx].astype(np.int64)
    shift = np.random.default_rng(seed).integers(1, 10, size=len(y))
    targets = (y + shift) % 10
    return Batch(model, x, y, targets.astype(np.int64), float((pred == y_test).mean()), idx)


@dataclass
class Passes:
    """Model passes: framework calls and the samples they carried (feint's ``PassCounter`` fields)."""

    forward: int = 0
    backward: int = 0
    forward_samples: int = 0
    backward_samples: int = 0

    @classmethod
    def of(cls, d) -> Passes:
        d = d if isinstance(d, dict) else d.as_dict()
        return cls(**{k: int(d.get(k, 0)) for k in ("forward", "backward", "forward_samples", "backward_samples")})

    def __sub__(self, other: Passes) -> Passes:
        return Passes(*(a - b for a, b in zip(asdict(self).values(), asdict(other).values())))

    def as_dict(self) -> dict:
        return asdict(self)


_batched_vjps: list = []       # the leading size of grad_outputs of the is_grads_batched calls in progress


def _counting_autograd_grad(grad):
    """``torch.autograd.grad`` that lets the counting hooks know how many passes a vmapped call holds.

    With ``is_grads_batched=True`` (feint's torch adapter uses it for the class gradients of
    small batches) one backward call computes ``grad_outputs.shape[0]`` vector-Jacobian
    products and an output hook fires once; the counters must still see that many passes, as
    feint's own counters do, and the replay runs them one by one, as plain torch code would.
    """
    def patched(outputs, inputs, grad_outputs=None, *args, is_grads_batched=False, **kwargs):
        if not is_grads_batched:
            return grad(outputs, inputs, grad_outputs, *args, **kwargs)
        go = grad_outputs[0] if isinstance(grad_outputs, (tuple, list)) else grad_outputs
        _batched_vjps.append(int(go.shape[0]))
        try:
            return grad(outputs, inputs, grad_outputs, *args, is_grads_batched=True, **kwargs)
        finally:
            _batched_vjps.pop()

    patched.__wrapped__ = grad
    return patched


class CountingModule(torch.nn.Module):
    """Wraps a model and counts its passes the way feint's ``PassCounter`` does.

    One forward call counts ``(1, n)``; every backward pass that flows through the output counts
    ``(1, n)`` (a tensor hook on the output), so a class gradient of m classes computed with m
    backward calls counts m, as in feint.  Used to count the peers' passes, and to check that
    feint's own counters match what torch actually ran.
    """

    def __init__(self, model: torch.nn.Module, log: list | None = None) -> None:
        super().__init__()
        if not hasattr(torch.autograd.grad, "__wrapped__"):       # see _counting_autograd_grad
            torch.autograd.grad = _counting_autograd_grad(torch.autograd.grad)
        self.model = model
        self.passes = Passes()
        self.log = log          # optional: one [samples, backward passes] entry per forward call

    def forward(self, x):
        out = self.model(x)
        n = int(x.shape[0])
        self.passes.forward += 1
        self.passes.forward_samples += n
        entry = [n, 0]
        if self.log is not None:
            self.log.append(entry)
        if out.requires_grad:
            out.register_hook(self._backward_hook(n, entry))
        return out

    def _backward_hook(self, n: int, entry: list):
        def hook(grad):
            k = _batched_vjps[-1] if _batched_vjps else 1   # one vmapped call carries k backward passes
            self.passes.backward += k
            self.passes.backward_samples += n * k
            entry[1] += k
        return hook

    def snapshot(self) -> Passes:
        return Passes(**self.passes.as_dict())


def _interleaved(fns: dict, repeats: int) -> dict:
    """Median wall and CPU seconds of each function, timed in round-robin so load drifts hit all alike."""
    for fn in fns.values():
        fn()
    wall = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            cpu[k].append(time.process_time() - c0)
            wall[k].append(time.perf_counter() - w0)
    return {k: (statistics.median(wall[k]), statistics.median(cpu[k])) for k in fns}


def _pass_functions(model, x, y, n: int) -> dict:
    xb = torch.from_numpy(_channels_last_strides(np.ascontiguousarray(x[:n])))
    yb = torch.from_numpy(y[:n])

    def fwd():
        with torch.no_grad():
            return model(xb).numpy()

    def fwd_bwd():
        xt = xb.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(model(xt), yb, reduction="sum")
        (g,) = torch.autograd.grad(loss, xt)
        return g.numpy()

    return {(n, "forward"): fwd, (n, "forward_backward"): fwd_bwd}


def _affine(sizes, times) -> tuple[float, float]:
    """Least-squares ``t = a + b n`` with ``a, b >= 0``."""
    n = np.asarray(sizes, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    b, a = np.polyfit(n, t, 1)
    if a < 0:
        a, b = 0.0, float((n @ t) / (n @ n))
    return float(max(a, 0.0)), float(max(b, 0.0))


@dataclass
class Floor:
    """Fitted pass costs (seconds): forward ``f_call + f_sample n``, backward ``b_call + b_sample n``.

    ``wall`` and ``cpu`` hold one set each; ``raw`` keeps the medians per batch size.
    """

    wall: dict
    cpu: dict
    raw: dict
    batch: int = BATCH

    def cost(self, p: Passes, clock: str = "wall") -> float:
        """Floor cost (s) of the passes ``p``: what the model's own passes would take, nothing else."""
        c = self.wall if clock == "wall" else self.cpu
        return (p.forward * c["f_call"] + p.forward_samples * c["f_sample"]
                + p.backward * c["b_call"] + p.backward_samples * c["b_sample"])

    def forward(self, clock: str = "wall") -> float:
        """One forward pass of the full batch."""
        return self.cost(Passes(1, 0, self.batch, 0), clock)

    def forward_backward(self, clock: str = "wall") -> float:
        """One forward + backward pass of the full batch."""
        return self.cost(Passes(1, 1, self.batch, self.batch), clock)

    def as_dict(self) -> dict:
        return {"fit": {"wall": self.wall, "cpu": self.cpu}, "medians": self.raw, "batch": self.batch,
                "forward_s": self.forward(), "forward_backward_s": self.forward_backward(),
                "forward_cpu_s": self.forward("cpu"), "forward_backward_cpu_s": self.forward_backward("cpu")}


def measure_floor(model: torch.nn.Module, x: np.ndarray, y: np.ndarray, sizes=(1, 16, 64, BATCH),
                  repeats: int = 21) -> Floor:
    """Time plain-torch forward (no grad) and forward+backward w.r.t. the input at several batch sizes."""
    model.eval()
    fns = {}
    for n in sizes:
        fns.update(_pass_functions(model, x, y, n))
    t = _interleaved(fns, repeats)
    raw = {n: {"forward": t[(n, "forward")], "forward_backward": t[(n, "forward_backward")]} for n in sizes}
    fits = {}
    for k, clock in enumerate(("wall", "cpu")):
        fa, fb = _affine(sizes, [raw[n]["forward"][k] for n in sizes])
        ba, bb = _affine(sizes, [max(raw[n]["forward_backward"][k] - raw[n]["forward"][k], 0.0) for n in sizes])
        fits[clock] = {"f_call": fa, "f_sample": fb, "b_call": ba, "b_sample": bb}
    medians = {str(n): {"forward_wall": v["forward"][0], "forward_cpu": v["forward"][1],
                        "forward_backward_wall": v["forward_backward"][0],
                        "forward_backward_cpu": v["forward_backward"][1]} for n, v in raw.items()}
    return Floor(fits["wall"], fits["cpu"], medians, batch=max(sizes))


def local_scale(floor: Floor, model: torch.nn.Module, x: np.ndarray, y: np.ndarray, repeats: int = 7) -> dict:
    """How much slower (>1) or faster the full-batch passes run now than at calibration, per clock.

    The machine is shared and its load drifts over a run; each row's floor is the calibrated
    floor times this factor, measured right after the row.
    """
    n = floor.batch
    t = _interleaved(_pass_functions(model, x, y, n), repeats)
    now = {"wall": t[(n, "forward")][0] + t[(n, "forward_backward")][0],
           "cpu": t[(n, "forward")][1] + t[(n, "forward_backward")][1]}
    return {c: now[c] / (floor.forward(c) + floor.forward_backward(c)) for c in ("wall", "cpu")}


def replay_calls(model: torch.nn.Module, x_pool: np.ndarray, log) -> None:
    """Run logged calls on ``model`` with plain torch: a forward of n samples, then its backward passes.

    ``log`` holds ``(samples, backward passes)`` per forward call, as :class:`CountingModule`
    records them.  The inputs are the benchmark images (repeated when a call carries more), with
    channels-last strides; a call without backward passes runs under ``no_grad``; backward
    passes seed one output column each, retaining the graph between them.
    """
    for n, backwards in log:
        reps = -(-n // len(x_pool))
        xn = np.concatenate([x_pool] * reps)[:n] if reps > 1 else x_pool[:n]
        xb = torch.from_numpy(_channels_last_strides(np.ascontiguousarray(xn)))
        if backwards == 0:
            with torch.no_grad():
                model(xb).numpy()
            continue
        xt = xb.detach().requires_grad_(True)
        out = model(xt)
        seed = torch.zeros_like(out)
        seed[:, 0] = 1.0
        for j in range(backwards):
            (g,) = torch.autograd.grad(out, xt, grad_outputs=seed, retain_graph=j < backwards - 1)
            g.numpy()


class Replayer:
    """Times a plain-torch replay of the model calls logged by a :class:`CountingModule` during one run.

    ``start()`` before a run clears the log; ``measure()`` after it replays the run's calls on
    the bare model and returns ``(wall, cpu)`` seconds.  Taken right after the run, the replay
    sees the same load: the ratio run / replay is the row's cost over what its own passes cost,
    with no floor model and no drift between the two.
    """

    def __init__(self, counting: CountingModule, model: torch.nn.Module, x: np.ndarray) -> None:
        self.counting, self.model = counting, model
        self.x_pool = np.ascontiguousarray(x)
        self.counting.log = []

    def start(self) -> None:
        self.counting.log.clear()

    def measure(self) -> tuple[float, float]:
        calls = [tuple(e) for e in self.counting.log]
        w0, c0 = time.perf_counter(), time.process_time()
        replay_calls(self.model, self.x_pool, calls)
        return time.perf_counter() - w0, time.process_time() - c0
