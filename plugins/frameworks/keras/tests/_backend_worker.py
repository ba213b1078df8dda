"""Run the KerasClassifier checks on one Keras backend, in a process of its own.

Keras fixes its backend at import (``KERAS_BACKEND``), so the test session launches this script
once per backend (see ``conftest.py``) and asserts on what it writes::

    KERAS_BACKEND=jax python _backend_worker.py JOB_DIR

``JOB_DIR/job.npz`` holds the shared small-CNN weights and inputs of the cross-framework
equivalence test.  The script writes ``JOB_DIR/results-<backend>.json`` (one record per check:
ok, seconds, error text, measured numbers) and ``JOB_DIR/outputs-<backend>.npz`` (predictions and
gradients of the small CNN as a logits model and as a softmax model).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

CHECKS = ["equivalence_outputs", "contract_logits", "defences", "bad_inputs", "adapt_model", "contract_probabilities",
          "training_digits", "train_eval_modes"]


def small_cnn(keras, w, use_logits=True):
    """conv(1->4, 3x3, valid) -> relu -> maxpool 2 -> flatten -> dense 10, channels last, weights ``w``."""
    from keras import layers

    model = keras.Sequential([
        keras.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
        layers.Dense(10, activation=None if use_logits else "softmax")])
    model.set_weights([w["k"], w["b"], w["w"], w["c"]])
    return model


# -- checks ------------------------------------------------------------------------------------
def contract_logits(ctx):
    from feint.testing import check_classifier

    clf = ctx.clf_logits
    # ReLU and max-pool kinks: a float32 difference step of 1e-3 stays clear of them on these
    # inputs, where the kit's default 1e-2 can straddle one (the gradients themselves are
    # checked exactly against PyTorch by the equivalence test).
    check_classifier(clf, ctx.x, fd_h=1e-3)


def contract_probabilities(ctx):
    from feint.testing import check_classifier

    # the paper's default, a model that outputs probabilities; compiled, so the kit also trains it
    check_classifier(ctx.clf_probs, ctx.x, fd_h=1e-3, training=True)


def training_digits(ctx):
    keras = ctx.keras
    from keras import layers

    from feint.datasets import load_digits

    (x_tr, y_tr), (x_te, y_te) = load_digits(channels_first=False)

    def digits_model():
        # seeded initialisers: keras.utils.set_random_seed and clone_model import tensorflow on every backend
        init = keras.initializers.GlorotUniform
        return keras.Sequential([
            keras.Input((8, 8, 1)), layers.Conv2D(16, 3, padding="same", activation="relu", kernel_initializer=init(0)),
            layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, kernel_initializer=init(1))])

    model = digits_model()
    clf = ctx.KerasClassifier((0.0, 1.0), model, use_logits=True, optimizer=keras.optimizers.Adam(1e-2))
    before = float(clf.loss(x_tr[:64], y_tr[:64]).mean())
    losses = [clf.train_on_batch(x_tr[:64], y_tr[:64]) for _ in range(5)]
    after = float(clf.loss(x_tr[:64], y_tr[:64]).mean())
    assert losses[-1] < losses[0] and after < before, f"train_on_batch did not reduce the loss: {losses}"
    t0 = time.perf_counter()
    clf.fit(x_tr, y_tr, batch_size=64, nb_epochs=8, random_state=0)
    seconds = time.perf_counter() - t0
    acc = float((clf.predict(x_te).argmax(axis=1) == y_te).mean())
    assert acc > 0.9, f"fit reached only {acc:.3f} test accuracy on digits"
    if ctx.backend == "torch":  # label conversion for sparse losses is backend-independent; test it once
        sparse = digits_model()
        sparse.compile(optimizer=keras.optimizers.Adam(1e-2),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        sclf = ctx.KerasClassifier((0.0, 1.0), sparse, use_logits=True)
        s_losses = [sclf.train_on_batch(x_tr[:64], np.eye(10, dtype=np.float32)[y_tr[:64]]) for _ in range(5)]
        assert s_losses[-1] < s_losses[0], f"sparse-loss training did not reduce the loss: {s_losses}"
    uncompiled = ctx.KerasClassifier((0.0, 1.0), small_cnn(keras, ctx.w), use_logits=True)
    try:
        uncompiled.train_on_batch(x_tr[:8], y_tr[:8])
    except ctx.errors.InvalidParameterError as exc:
        assert "compile" in str(exc)
    else:
        raise AssertionError("training an uncompiled model without optimizer= did not raise")
    return {"accuracy": acc, "fit_seconds": seconds, "loss_before": before, "loss_after": after}


def train_eval_modes(ctx):
    keras = ctx.keras
    from keras import layers

    init = keras.initializers.GlorotUniform
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(),
                              layers.Dense(32, activation="relu", kernel_initializer=init(2)),
                              layers.BatchNormalization(), layers.Dropout(0.5, seed=3),
                              layers.Dense(10, kernel_initializer=init(4))])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    clf = ctx.KerasClassifier((0.0, 1.0), model, use_logits=True)
    x, y = ctx.x, ctx.y

    modules = list(model.modules()) if ctx.backend == "torch" else []

    def flags():  # Keras on torch: the model is a torch module tree with train/eval flags
        return [m.training for m in modules]

    def state():
        return [np.array(v) for v in model.get_weights()]

    start_flags = flags()
    w0 = state()
    p1 = clf.predict(x)
    g1 = clf.loss_gradient(x, y)
    assert np.array_equal(p1, clf.predict(x)), "predict is random: dropout active at inference"
    assert np.array_equal(g1, clf.loss_gradient(x, y)), "loss_gradient is random: dropout active"
    assert all(np.array_equal(a, b) for a, b in zip(w0, state())), "inference changed batch-norm statistics"
    assert flags() == start_flags, "inference changed the torch modules' train/eval flags"
    clf.train_on_batch(x, y)
    assert flags() == start_flags, "train_on_batch did not restore the train/eval flags"
    assert not all(np.array_equal(a, b) for a, b in zip(w0, state())), "train_on_batch changed no weight"
    clf.fit(x, y, batch_size=len(x), nb_epochs=1)
    assert flags() == start_flags, "fit did not restore the train/eval flags"
    p2 = clf.predict(x)
    assert np.array_equal(p2, clf.predict(x)), "predict is random after training"
    if ctx.backend == "torch":
        model.eval()
        eval_flags = flags()
        clf.predict(x)
        clf.train_on_batch(x, y)
        assert flags() == eval_flags and eval_flags != start_flags, "the user's eval mode was not restored"
    return {"torch_flags_checked": ctx.backend == "torch"}


def defences(ctx):
    from feint.errors import UnknownComponentError
    from feint.registry import default_registry

    reg = default_registry()
    reg.register("defence", "testsqueeze", ctx.TestSqueeze, suffix_param="bit_depth", replace=True)
    reg.register("defence", "testaffine", ctx.TestAffine, replace=True)
    try:
        plain = ctx.clf_logits
        x, y = ctx.x, ctx.y
        sq = ctx.TestSqueeze(bit_depth=2).transform(x)[0]
        aff = ctx.TestAffine().transform(x)[0]
        d = ctx.KerasClassifier((0.0, 1.0), plain.model, use_logits=True, defences="testsqueeze2")
        assert [type(p).__name__ for p in d.preprocessors] == ["RoundingSqueeze"] and not np.allclose(sq, x)
        d = plain.with_defences("testsqueeze2")  # shares the compiled engine
        np.testing.assert_allclose(d.predict(x), plain.predict(sq), atol=1e-6)
        # straight-through (BPDA): the gradient at the squeezed input, passed through unchanged
        np.testing.assert_allclose(d.loss_gradient(x, y), plain.loss_gradient(sq, y), atol=1e-6)
        np.testing.assert_allclose(d.class_gradient(x, label=y), plain.class_gradient(sq, label=y), atol=1e-6)
        # exact rule: chain rule through x -> 0.5 + s (x - 0.5)
        a = plain.with_defences("testaffine")
        np.testing.assert_allclose(a.predict(x), plain.predict(aff), atol=1e-6)
        np.testing.assert_allclose(a.loss_gradient(x, y), ctx.TestAffine.scale * plain.loss_gradient(aff, y),
                                   atol=1e-6)
        # a chain, in order: affine first, then squeeze
        c = plain.with_defences("testaffine+testsqueeze2")
        both = ctx.TestSqueeze(bit_depth=2).transform(aff)[0]
        np.testing.assert_allclose(c.predict(x), plain.predict(both), atol=1e-6)
        np.testing.assert_allclose(c.loss_gradient(x, y), ctx.TestAffine.scale * plain.loss_gradient(both, y),
                                   atol=1e-6)
        paper = _paper_defences(plain, x, y, channel_index=3)
        try:
            ctx.KerasClassifier((0.0, 1.0), plain.model, use_logits=True, defences="testsqeeze2")
        except UnknownComponentError as exc:
            assert "testsqueeze" in exc.suggestions, exc.suggestions
            message = str(exc)
        else:
            raise AssertionError("an unknown defence string was accepted")
    finally:
        reg.unregister("defence", "testsqueeze")
        reg.unregister("defence", "testaffine")
    return {"unknown_message": message, "paper_defences": paper}


def _paper_defences(plain, x, y, channel_index):
    """The paper's strings ('featsqueeze5+smooth') through the real defence plugins, when installed."""
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("feint_defence_featsqueeze", "feint_defence_spatial_smoothing")):
        return "skipped: featsqueeze/spatial_smoothing plugins not installed"
    d = plain.with_defences("featsqueeze5+smooth")
    assert [p.channel_index for p in d.preprocessors[1:]] == [channel_index]  # filled in from the classifier
    xp = x
    for p in d.preprocessors:
        xp = p.transform(xp)[0]
    assert not np.allclose(xp, x)
    np.testing.assert_allclose(d.predict(x), plain.predict(xp), atol=1e-6)
    np.testing.assert_allclose(d.loss_gradient(x, y), plain.loss_gradient(xp, y), atol=1e-6)  # both BPDA
    return str(d.preprocessors)


def bad_inputs(ctx):
    from feint.errors import FeintError, InvalidInputError, InvalidParameterError

    clf = ctx.clf_logits
    x, y = ctx.x, ctx.y
    messages = {}

    def expect(exc_type, fn, *needles):
        try:
            fn()
        except exc_type as exc:
            text = str(exc)
            for needle in needles:
                assert needle in text, f"{needle!r} not in the error message {text!r}"
            return text
        raise AssertionError(f"{fn} did not raise {exc_type.__name__}")

    messages["shape"] = expect(InvalidInputError, lambda: clf.predict(x[..., 0]), "(n, 8, 8, 1)", "(12, 8, 8)")
    messages["layout"] = expect(InvalidInputError, lambda: clf.predict(x.transpose(0, 3, 1, 2)),
                                "(12, 1, 8, 8)", "channel_index=3")
    nan = x.copy()
    nan[0, 0, 0, 0] = np.nan
    messages["nan"] = expect(InvalidInputError, lambda: clf.loss_gradient(nan, y), "NaN")
    messages["label_count"] = expect(FeintError, lambda: clf.loss_gradient(x, y[:-1]), "12", "11")
    messages["label_rows"] = expect(FeintError, lambda: clf.loss_gradient(x, np.ones((12, 3))), "(12, 10)", "(12, 3)")
    messages["class_label"] = expect(FeintError, lambda: clf.class_gradient(x, label=10), "[0, 9]")
    messages["use_logits"] = expect(InvalidParameterError,
                                    lambda: ctx.KerasClassifier((0.0, 1.0), small_cnn(ctx.keras, ctx.w)).predict(x),
                                    "use_logits=True")
    messages["model"] = expect(InvalidParameterError, lambda: ctx.KerasClassifier((0.0, 1.0), object()), "Keras 3")
    out = clf.predict(x.astype(np.float64))
    assert out.dtype == np.float32, out.dtype
    assert clf.loss_gradient(x.astype(np.float64), y).dtype == np.float32
    return messages


def adapt_model(ctx):
    import feint

    model = small_cnn(ctx.keras, ctx.w)
    clf = feint.classifier(model, clip_values=(0.0, 1.0), use_logits=True)
    assert type(clf).__name__ == "KerasClassifier", type(clf)
    assert clf.backend == ctx.backend and clf.input_shape == (8, 8, 1) and clf.nb_classes == 10
    return {"adapter": type(clf).__name__}


def _outputs(clf, x, y, labels):
    return {
        "probs": clf.predict(x), "logits": clf.predict(x, logits=True), "loss_grad": clf.loss_gradient(x, y),
        "cg_logits": clf.class_gradient(x, logits=True), "cg_probs": clf.class_gradient(x),
        "cg_select": clf.class_gradient(x, label=labels),
    }


def equivalence_outputs(ctx):
    out = {}
    for key, clf in (("keras", ctx.clf_logits), ("keras_softmax", ctx.clf_probs)):
        out.update({f"{key}_{ctx.backend}/{k}": v for k, v in _outputs(clf, ctx.x, ctx.y, ctx.labels).items()})
    np.savez(ctx.job / f"outputs-{ctx.backend}.npz", **out)


class _Context:
    pass


def main(job: Path) -> int:
    t_start = time.perf_counter()
    import keras

    import feint.errors
    from feint_framework_keras.classifier import KerasClassifier

    ctx = _Context()
    ctx.keras, ctx.errors, ctx.KerasClassifier, ctx.job = keras, feint.errors, KerasClassifier, job
    ctx.backend = keras.backend.backend()
    data = np.load(job / "job.npz")
    ctx.w = {k: data[k] for k in ("k", "b", "w", "c")}
    ctx.x, ctx.y, ctx.labels = data["x"], data["y"], data["labels"]
    from feint.testing.preprocessors import AffineShrink, RoundingSqueeze

    ctx.TestSqueeze, ctx.TestAffine = RoundingSqueeze, AffineShrink
    ctx.clf_logits = KerasClassifier((0.0, 1.0), small_cnn(keras, ctx.w), use_logits=True)
    probs = small_cnn(keras, ctx.w, use_logits=False)
    probs.compile(optimizer=keras.optimizers.Adam(1e-2), loss="categorical_crossentropy")
    ctx.clf_probs = KerasClassifier((0.0, 1.0), probs)
    results = {"backend": ctx.backend, "import_seconds": time.perf_counter() - t_start, "checks": {}}
    only = os.environ.get("FEINT_KERAS_CHECKS")
    for name in CHECKS:
        if only and name not in only.split(","):
            continue
        t0 = time.perf_counter()
        try:
            info = globals()[name](ctx) or {}
            record = {"ok": True, "info": info}
        except BaseException as exc:  # noqa: BLE001 - reported to the parent test
            record = {"ok": False, "error": "".join(traceback.format_exception(exc))}
        record["seconds"] = time.perf_counter() - t0
        results["checks"][name] = record
    results["total_seconds"] = time.perf_counter() - t_start
    (job / f"results-{ctx.backend}.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
