"""Framework adapter overhead: ``loss_gradient`` against the framework's own forward + backward.

For every adapter (PyTorch, Keras on the tensorflow, torch and jax backends, TF2 and the
session-style TFClassifier) this times, on one CPU thread, ``clf.loss_gradient(x, y)`` on one
batch of 256 digits (8x8, the architecture of the digits CNN: conv 16 -> pool -> conv 32 ->
pool -> dense 64 -> dense 10) and the same gradient written directly in the framework, numpy in
and numpy out (a compiled step where the framework compiles: ``tf.function``, ``jax.jit``, a
prebuilt ``tf.gradients`` op; plain autograd in torch), and prints the ratio of the medians.
``predict`` against the bare forward pass is shown beside it.

Each framework runs in a process of its own (Keras fixes its backend at import)::

    .venv/bin/python benchmarks/adapters.py                 # all installed, table on stdout
    .venv/bin/python benchmarks/adapters.py --only torch,keras-jax --repeat 50 --json out.json

Self-contained on purpose: it needs feint, the adapter plugins and the frameworks, nothing from
the rest of ``benchmarks/``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ADAPTERS = ("torch", "keras-tensorflow", "keras-torch", "keras-jax", "tensorflow", "tf_v1")
_NEEDS = {"torch": ("torch",), "keras-tensorflow": ("keras", "tensorflow"), "keras-torch": ("keras", "torch"),
          "keras-jax": ("keras", "jax"), "tensorflow": ("tensorflow",), "tf_v1": ("tensorflow",)}


def _single_thread_env(name: str) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore"}
    if name.startswith("keras-"):
        env["KERAS_BACKEND"] = name.split("-", 1)[1]
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") +
                        " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
    return env


def _data(batch: int):
    import numpy as np

    from feint.datasets import load_digits

    (x, y), _ = load_digits(channels_first=False)
    reps = -(-batch // len(x))
    x, y = np.concatenate([x] * reps)[:batch], np.concatenate([y] * reps)[:batch]
    return x, y, np.eye(10, dtype=np.float32)[y]


# -- one framework per process -----------------------------------------------------------------
def _torch_model(channels_last: bool):
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).eval()


def setup_torch(x, y, t):
    import torch

    from feint_framework_torch.classifier import PyTorchClassifier

    torch.set_num_threads(1)
    model = _torch_model(False)
    xc = x.transpose(0, 3, 1, 2).copy()
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(1, 8, 8), nb_classes=10)

    def native_grad():
        xt = torch.from_numpy(xc).requires_grad_(True)
        loss = -(torch.from_numpy(t) * torch.log_softmax(model(xt), dim=1)).sum()
        (g,) = torch.autograd.grad(loss, xt)
        return g.numpy()

    def native_fwd():
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(xc)), dim=1).numpy()

    return clf, xc, native_grad, native_fwd


def _keras_model():
    import keras
    from keras import layers

    init = keras.initializers.GlorotUniform
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer=init(0)), layers.MaxPooling2D(2),
        layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init(1)), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(64, activation="relu", kernel_initializer=init(2)),
        layers.Dense(10, kernel_initializer=init(3))])


def setup_keras(x, y, t):
    import keras

    from feint_framework_keras.classifier import KerasClassifier

    backend = keras.backend.backend()
    model = _keras_model()
    clf = KerasClassifier((0.0, 1.0), model, use_logits=True)
    if backend == "torch":
        import torch

        torch.set_num_threads(1)

        def native_grad():
            xt = torch.from_numpy(x).requires_grad_(True)
            loss = -(torch.from_numpy(t) * torch.log_softmax(model(xt, training=False), dim=1)).sum()
            (g,) = torch.autograd.grad(loss, xt)
            return g.numpy()

        def native_fwd():
            with torch.no_grad():
                return torch.softmax(model(torch.from_numpy(x), training=False), dim=1).numpy()
    elif backend == "tensorflow":
        import tensorflow as tf

        @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 1)), tf.TensorSpec((None, 10))])
        def grad(xx, tt):
            with tf.GradientTape() as tape:
                tape.watch(xx)
                loss = -tf.reduce_sum(tt * tf.nn.log_softmax(model(xx, training=False), axis=1))
            return tape.gradient(loss, xx)

        @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 1))])
        def fwd(xx):
            return tf.nn.softmax(model(xx, training=False), axis=1)

        def native_grad():
            return grad(tf.constant(x), tf.constant(t)).numpy()

        def native_fwd():
            return fwd(tf.constant(x)).numpy()
    else:
        import jax
        import numpy as np

        def loss(tv, ntv, xx, tt):
            z = model.stateless_call(tv, ntv, xx, training=False)[0]
            return -(tt * jax.nn.log_softmax(z, axis=1)).sum()

        grad = jax.jit(jax.grad(loss, argnums=2))
        fwd = jax.jit(lambda tv, ntv, xx: jax.nn.softmax(model.stateless_call(tv, ntv, xx, training=False)[0]))

        def state():
            return [v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables]

        def native_grad():
            return np.asarray(grad(*state(), x, t))

        def native_fwd():
            return np.asarray(fwd(*state(), x))
    return clf, x, native_grad, native_fwd


def _tf_weights():
    import numpy as np

    rng = np.random.default_rng(0)

    def glorot(shape, fan_in, fan_out):
        lim = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-lim, lim, shape).astype(np.float32)

    return {"k1": glorot((3, 3, 1, 16), 9, 144), "b1": np.zeros(16, np.float32),
            "k2": glorot((3, 3, 16, 32), 144, 288), "b2": np.zeros(32, np.float32),
            "w1": glorot((128, 64), 128, 64), "c1": np.zeros(64, np.float32),
            "w2": glorot((64, 10), 64, 10), "c2": np.zeros(10, np.float32)}


def _tf_net(xx, k1, b1, k2, b2, w1, c1, w2, c2):
    import tensorflow as tf

    h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(xx, k1, 1, "SAME") + b1), 2, 2, "VALID")
    h = tf.nn.max_pool2d(tf.nn.relu(tf.nn.conv2d(h, k2, 1, "SAME") + b2), 2, 2, "VALID")
    h = tf.nn.relu(tf.reshape(h, (-1, 128)) @ w1 + c1)
    return h @ w2 + c2


def setup_tensorflow(x, y, t):
    import tensorflow as tf

    from feint_framework_tensorflow.classifier import TensorFlowClassifier

    class Net(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = {n: tf.Variable(a) for n, a in _tf_weights().items()}

        def __call__(self, xx):
            return _tf_net(xx, **self.v)

    model = Net()
    clf = TensorFlowClassifier((0.0, 1.0), model, input_shape=(8, 8, 1), nb_classes=10)

    @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 1)), tf.TensorSpec((None, 10))])
    def grad(xx, tt):
        with tf.GradientTape() as tape:
            tape.watch(xx)
            loss = -tf.reduce_sum(tt * tf.nn.log_softmax(model(xx), axis=1))
        return tape.gradient(loss, xx)

    @tf.function(input_signature=[tf.TensorSpec((None, 8, 8, 1))])
    def fwd(xx):
        return tf.nn.softmax(model(xx), axis=1)

    return clf, x, lambda: grad(tf.constant(x), tf.constant(t)).numpy(), lambda: fwd(tf.constant(x)).numpy()


def setup_tf_v1(x, y, t):
    import tensorflow as tf

    from feint_framework_tensorflow.session import TFClassifier

    v1 = tf.compat.v1
    with tf.Graph().as_default():
        inp = v1.placeholder(tf.float32, (None, 8, 8, 1))
        tt = v1.placeholder(tf.float32, (None, 10))
        logits = _tf_net(inp, **{n: v1.Variable(a) for n, a in _tf_weights().items()})
        probs = tf.nn.softmax(logits)
        (grad,) = v1.gradients(-tf.reduce_sum(tt * tf.nn.log_softmax(logits)), inp)
        config = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
        sess = v1.Session(config=config)
        sess.run(v1.global_variables_initializer())
    clf = TFClassifier((0.0, 1.0), inp, logits, sess=sess)
    return clf, x, lambda: sess.run(grad, {inp: x, tt: t}), lambda: sess.run(probs, {inp: x})


def _pairs(a, b, repeat: int) -> tuple[list[float], list[float]]:
    """Interleaved timings of ``a`` and ``b`` (so load drift hits both alike), after a warm-up."""
    for _ in range(3):
        a()
        b()
    ta, tb = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a()
        t1 = time.perf_counter()
        b()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
    return ta, tb


def run_one(name: str, batch: int, repeat: int) -> dict:
    import numpy as np

    x, y, t = _data(batch)
    setup = {"torch": setup_torch, "tensorflow": setup_tensorflow, "tf_v1": setup_tf_v1}.get(name, setup_keras)
    clf, xa, native_grad, native_fwd = setup(x, y, t)
    g = clf.loss_gradient(xa, y, batch_size=batch)
    ref = native_grad()
    agree = float(np.abs(g - ref).max())
    ta, tn = _pairs(lambda: clf.loss_gradient(xa, y, batch_size=batch), native_grad, repeat)
    pa, pn = _pairs(lambda: clf.predict(xa, batch_size=batch), native_fwd, repeat)
    med = statistics.median
    return {"adapter": name, "class": type(clf).__name__, "batch": batch, "repeat": repeat,
            "loss_gradient_ms": 1e3 * med(ta), "native_grad_ms": 1e3 * med(tn), "grad_ratio": med(ta) / med(tn),
            "predict_ms": 1e3 * med(pa), "native_fwd_ms": 1e3 * med(pn), "predict_ratio": med(pa) / med(pn),
            "max_abs_diff": agree}


# -- driver ------------------------------------------------------------------------------------
def _available(name: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in _NEEDS[name])


def _table(rows: list[dict]) -> str:
    head = ["adapter", "loss_gradient ms", "native fwd+bwd ms", "ratio", "predict ms", "native fwd ms", "ratio",
            "max |diff|"]
    body = [[r["adapter"], f"{r['loss_gradient_ms']:.2f}", f"{r['native_grad_ms']:.2f}", f"{r['grad_ratio']:.2f}",
             f"{r['predict_ms']:.2f}", f"{r['native_fwd_ms']:.2f}", f"{r['predict_ratio']:.2f}",
             f"{r['max_abs_diff']:.1e}"] if "error" not in r else [r["adapter"], "failed: " + r["error"][:60]]
            for r in rows]
    widths = [max(len(str(row[i])) for row in [head, *body] if i < len(row)) for i in range(len(head))]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(head, widths)),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in body]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks/adapters.py", description=__doc__.splitlines()[0])
    p.add_argument("--only", help=f"comma-separated adapters among {', '.join(ADAPTERS)}")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--json", help="also write the rows to this JSON file")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one adapter in this process
    args = p.parse_args(argv)
    if args.one:
        print("FEINT-ROW " + json.dumps(run_one(args.one, args.batch, args.repeat)))
        return 0
    names = args.only.split(",") if args.only else list(ADAPTERS)
    unknown = sorted(set(names) - set(ADAPTERS))
    if unknown:
        p.error(f"unknown adapters {unknown}; choose among {', '.join(ADAPTERS)}")
    rows = []
    for name in names:
        if not _available(name):
            print(f"# {name}: skipped ({' and '.join(_NEEDS[name])} needed)", file=sys.stderr)
            continue
        cmd = [sys.executable, __file__, "--one", name, "--batch", str(args.batch), "--repeat", str(args.repeat)]
        proc = subprocess.run(cmd, env=_single_thread_env(name), capture_output=True, text=True)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("FEINT-ROW ")), None)
        row = json.loads(line[len("FEINT-ROW "):]) if line else {"adapter": name, "error": proc.stderr.strip()[-400:]}
        rows.append(row)
        print(f"# {name}: done", file=sys.stderr)
    print(f"loss_gradient on a batch of {args.batch} (digits CNN, one thread), median of {args.repeat} interleaved "
          "runs; ratio = adapter / native")
    print(_table(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
