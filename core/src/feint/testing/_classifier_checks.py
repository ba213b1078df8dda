"""Contract checks for classifiers (``check_classifier``)."""

from __future__ import annotations

import numpy as np

from feint.contracts.classifier import softmax
from feint.errors import FeintError, InvalidInputError
from feint.testing._data import default_inputs, interior


def _fail(msg: str) -> None:
    raise AssertionError(msg)


def _unchanged(x, before, what):
    if not np.array_equal(x, before):
        _fail(f"{what} modified its input array in place")


def check_predict(clf, x, y):
    before = x.copy()
    p = clf.predict(x)
    _unchanged(x, before, "predict")
    n, k = x.shape[0], clf.nb_classes
    if p.shape != (n, k):
        _fail(f"predict returned shape {p.shape}, expected {(n, k)}")
    if p.dtype != clf.np_dtype:
        _fail(f"predict returned dtype {p.dtype}, expected {clf.np_dtype} (no silent upcast)")
    if not np.allclose(p.sum(axis=1), 1, atol=1e-4) or p.min() < -1e-6:
        _fail("predict(logits=False) must return probability rows summing to 1")
    z = clf.predict(x, logits=True)
    if not np.allclose(softmax(z.astype(np.float64)), p, atol=1e-4):
        _fail("softmax(predict(logits=True)) differs from predict(logits=False)")
    p1 = clf.predict(x, batch_size=max(1, n // 3))
    if not np.allclose(p1, p, atol=1e-5):
        _fail("predict depends on batch_size")
    x64 = x.astype(np.float64)
    if clf.predict(x64).dtype != clf.np_dtype:
        _fail("predict on float64 input must still return the classifier's dtype")


def check_counters(clf, x, y):
    before = clf.counts.copy()
    clf.predict(x, batch_size=max(1, x.shape[0] // 2))
    d = clf.counts - before
    if d.forward_samples != x.shape[0] or d.forward < 2:
        _fail(f"predict of {x.shape[0]} samples in 2+ batches counted {d}")
    before = clf.counts.copy()
    clf.class_gradient(x, label=0)
    d = clf.counts - before
    if d.backward_samples != x.shape[0]:
        _fail(f"class_gradient of one class should count {x.shape[0]} backward samples, counted {d.backward_samples} "
              "(only the requested classes may be computed)")


def check_class_gradient(clf, x, y):
    n, k = x.shape[0], clf.nb_classes
    before = x.copy()
    g_all = clf.class_gradient(x)
    _unchanged(x, before, "class_gradient")
    if g_all.shape != (n, k, *x.shape[1:]):
        _fail(f"class_gradient(label=None) has shape {g_all.shape}, expected {(n, k, *x.shape[1:])}")
    if g_all.dtype != clf.np_dtype:
        _fail(f"class_gradient returned dtype {g_all.dtype}, expected {clf.np_dtype}")
    g1 = clf.class_gradient(x, label=1)
    if g1.shape != (n, 1, *x.shape[1:]) or not np.allclose(g1[:, 0], g_all[:, 1], atol=1e-5, rtol=1e-4):
        _fail("class_gradient(label=int) must equal that class's slice of the full gradient, shape (n, 1, ...)")
    labels = np.arange(n) % k
    gs = clf.class_gradient(x, label=labels)
    if not np.allclose(gs[:, 0], g_all[np.arange(n), labels], atol=1e-5, rtol=1e-4):
        _fail("class_gradient(label=array) must pick one class per sample")
    for logits in (True, False):
        ga = clf.class_gradient(x, logits=logits)
        gb = clf.class_gradient(x, logits=logits, batch_size=max(1, n // 3))
        if not np.allclose(ga, gb, atol=1e-5, rtol=1e-4):
            _fail("class_gradient depends on batch_size")


def check_loss_gradient(clf, x, y):
    n, k = x.shape[0], clf.nb_classes
    before, y_before = x.copy(), np.array(y, copy=True)
    g = clf.loss_gradient(x, y)
    _unchanged(x, before, "loss_gradient")
    _unchanged(np.asarray(y), y_before, "loss_gradient (labels)")
    if g.shape != x.shape or g.dtype != clf.np_dtype:
        _fail(f"loss_gradient returned {g.shape} {g.dtype}, expected {x.shape} {clf.np_dtype}")
    onehot = np.eye(k, dtype=np.float32)[y]
    if not np.allclose(clf.loss_gradient(x, onehot), g, atol=1e-5, rtol=1e-4):
        _fail("loss_gradient differs between integer and one-hot labels")
    # cross-entropy: dL/dx = sum_k p_k dZ_k - dZ_y
    p = clf.predict(x).astype(np.float64)
    gz = clf.class_gradient(x, logits=True).astype(np.float64)
    expect = np.einsum("nk,nk...->n...", p, gz) - gz[np.arange(n), y]
    scale = np.abs(expect).max() + 1e-6
    if np.abs(expect - g).max() > 1e-3 * scale + 1e-5:
        _fail("loss_gradient is not the cross-entropy gradient implied by predict and class_gradient")
    soft = np.full((n, k), 1.0 / k, dtype=np.float32)
    if clf.loss_gradient(x, soft).shape != x.shape:
        _fail("loss_gradient must accept soft (probability) labels")


def _fd_rel_errors(f, grad, x, h, rng, n_dirs=3, floor=1e-6):
    errs = []
    for _ in range(n_dirs):
        v = rng.normal(size=x.shape).astype(x.dtype)
        v /= np.linalg.norm(v.reshape(len(v), -1), axis=1).reshape((-1,) + (1,) * (x.ndim - 1))
        fd = (f(x + h * v) - f(x - h * v)) / (2 * h)
        an = (grad * v).reshape(len(v), -1).sum(axis=1)
        scale = np.linalg.norm(grad.reshape(len(grad), -1), axis=1)  # |<g, v>| <= ||g|| for unit v
        errs.append(np.abs(fd - an) / np.maximum(scale, floor))
    return np.max(errs)


def check_finite_differences(clf, x, y, tol=None, h=None):
    f64 = clf.np_dtype == np.float64
    tol = tol if tol is not None else (1e-4 if f64 else 2e-2)
    h = h if h is not None else (1e-5 if f64 else 1e-2)
    floor = 1e-6 if f64 else 1e-3  # float32 round-off of a difference quotient is ~1e-4 absolute
    xs = interior(x[:4], clf.clip_values, 2 * h)
    ys = y[:4]
    rng = np.random.default_rng(0)

    def loss(xx):
        return clf.loss(xx, ys).astype(np.float64)

    err = _fd_rel_errors(loss, clf.loss_gradient(xs, ys).astype(np.float64), xs.astype(np.float64), h, rng, floor=floor)
    if err > tol:
        _fail(f"loss_gradient disagrees with central finite differences: relative error {err:.2e} > {tol:.0e}")
    for logits in (True, False):
        def out(xx, logits=logits):
            return clf.predict(xx, logits=logits).astype(np.float64)[np.arange(len(xx)), ys]

        g = clf.class_gradient(xs, label=ys, logits=logits)[:, 0].astype(np.float64)
        err = _fd_rel_errors(out, g, xs.astype(np.float64), h, rng, floor=floor)
        if err > tol:
            _fail(f"class_gradient(logits={logits}) disagrees with finite differences: relative error {err:.2e}")


def check_bad_inputs(clf, x, y):
    bad = {
        "wrong shape": x.reshape(x.shape[0], -1)[:, :-1] if x[0].size > 1 else x[:, None],
        "NaN": np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x).astype(x.dtype),
    }
    if clf.clip_values is not None:
        bad["outside clip_values"] = x + 10 * (clf.clip_values[1] - clf.clip_values[0])
    for what, xb in bad.items():
        try:
            clf.predict(xb)
        except InvalidInputError:
            pass
        else:
            _fail(f"predict accepted an input with {what}; expected InvalidInputError")
    for what, yb in {"wrong count": y[:-1], "out-of-range class": y + clf.nb_classes}.items():
        try:
            clf.loss_gradient(x, yb)
        except FeintError:
            pass
        else:
            _fail(f"loss_gradient accepted labels with {what}; expected a FeintError")


def check_training(clf, x, y):
    losses = [clf.train_on_batch(x, y) for _ in range(25)]
    if not losses[-1] < losses[0]:
        _fail(f"train_on_batch did not reduce the loss: {losses[0]:.4f} -> {losses[-1]:.4f}")
    if "train_with_input_gradient" in clf.provides:
        ref = clf.loss_gradient(x, y).reshape(len(x), -1).astype(np.float64)
        out = clf.train_on_batch(x, y, return_input_gradient=True)
        if not (isinstance(out, tuple) and len(out) == 2):
            _fail("train_on_batch(return_input_gradient=True) must return (loss, input_gradient)")
        loss, g = out
        if np.shape(g) != x.shape or np.asarray(g).dtype != clf.np_dtype:
            _fail(f"the input gradient of train_on_batch has shape {np.shape(g)} and dtype "
                  f"{np.asarray(g).dtype}; expected {x.shape} and {clf.np_dtype}")
        g = np.asarray(g, dtype=np.float64).reshape(len(x), -1)
        cos = (g * ref).sum() / max(np.linalg.norm(g) * np.linalg.norm(ref), 1e-30)
        if not cos > 0.5:
            _fail("the input gradient returned by train_on_batch does not point like loss_gradient "
                  f"(cosine {cos:.3f}); it must be the gradient of the training loss w.r.t. x")


def check_output_gradient(clf, x, y):
    """``output_gradient``: outputs equal ``predict``; gradients are the weighted class gradients."""
    n, k = x.shape[0], clf.nb_classes
    rng = np.random.default_rng(0)
    before = x.copy()
    for logits in (False, True):
        cg = clf.class_gradient(x, logits=logits).astype(np.float64)            # (n, K, ...)
        w = rng.normal(size=(n, k)).astype(np.float32)
        out, g = clf.output_gradient(x, w, logits=logits)
        _unchanged(x, before, "output_gradient")
        if out.shape != (n, k) or g.shape != x.shape or g.dtype != clf.np_dtype:
            _fail(f"output_gradient with (n, K) weights returned shapes {out.shape}, {g.shape} ({g.dtype}); "
                  f"expected {(n, k)}, {x.shape} ({clf.np_dtype})")
        if not np.allclose(out, clf.predict(x, logits=logits), rtol=1e-4, atol=1e-5):
            _fail(f"output_gradient(logits={logits}) outputs differ from predict(logits={logits})")
        want = np.einsum("nk,nk...->n...", w.astype(np.float64), cg)
        scale = np.abs(want).max() + 1e-12
        if np.abs(g - want).max() > 1e-3 * scale:
            _fail(f"output_gradient(logits={logits}) is not sum_k w_k * class_gradient_k "
                  f"(max error {np.abs(g - want).max() / scale:.2e} of the largest entry)")
    # weights that depend on the outputs, m of them, in batches: the rows and outputs the callable sees
    seen = []

    def top_two(out, rows):
        seen.append((out.copy(), rows.copy()))
        order = np.argsort(-out, axis=1)
        w = np.zeros((len(rows), 2, k), dtype=np.float32)
        w[np.arange(len(rows)), 0, order[:, 0]] = 1
        w[np.arange(len(rows)), 1, order[:, 0]] = -1
        w[np.arange(len(rows)), 1, order[:, 1]] = 1
        return w

    out, g = clf.output_gradient(x, top_two, logits=True, batch_size=max(1, n // 3))
    if g.shape != (n, 2, *x.shape[1:]):
        _fail(f"output_gradient with (n, 2, K) weights returned shape {g.shape}, expected {(n, 2, *x.shape[1:])}")
    if not np.array_equal(np.concatenate([r for _, r in seen]), np.arange(n)):
        _fail("the weights callable must see every row once, in order, with its indices")
    if not np.allclose(np.concatenate([o for o, _ in seen]), out, rtol=1e-4, atol=1e-5):
        _fail("the weights callable must receive the outputs output_gradient returns")
    cg = clf.class_gradient(x, logits=True).astype(np.float64)
    order = np.argsort(-out, axis=1)
    rows = np.arange(n)
    want = np.stack([cg[rows, order[:, 0]], cg[rows, order[:, 1]] - cg[rows, order[:, 0]]], axis=1)
    scale = np.abs(want).max() + 1e-12
    if np.abs(g - want).max() > 1e-3 * scale:
        _fail("output_gradient with callable (n, m, K) weights is not the weighted class gradients")
    try:
        clf.output_gradient(x, np.ones((n, k + 1)))
    except InvalidInputError:
        pass
    else:
        _fail("output_gradient accepted weights of shape (n, K + 1)")


CLASSIFIER_CHECKS = [check_predict, check_counters, check_class_gradient, check_output_gradient, check_loss_gradient,
                     check_finite_differences, check_bad_inputs]


def classifier_checks(training: bool = False):
    return CLASSIFIER_CHECKS + ([check_training] if training else [])


def check_classifier(clf, x=None, y=None, *, training: bool = False, fd_tol=None, fd_h=None, skip=()):
    """Run every classifier check; raise ``AssertionError`` naming the first that fails.

    Parameters
    ----------
    clf : Classifier
    x, y : ndarray, optional
        Inputs and integer labels; random inputs inside ``clip_values`` and the classifier's own
        predictions by default.
    training : bool
        Also check that ``train_on_batch`` lowers the loss (this changes the model).
    fd_tol, fd_h : float, optional
        Relative tolerance and step of the finite-difference check (1e-4 / 1e-5 in float64,
        2e-2 / 1e-2 in float32 by default).
    skip : iterable of str
        Names of checks to skip.
    """
    x = default_inputs(clf) if x is None else np.asarray(x)
    y = clf.predict(x).argmax(axis=1) if y is None else np.asarray(y)
    for check in classifier_checks(training):
        if check.__name__ in skip:
            continue
        if check is check_finite_differences:
            check(clf, x, y, tol=fd_tol, h=fd_h)
        else:
            check(clf, x, y)
