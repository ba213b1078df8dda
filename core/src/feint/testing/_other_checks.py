"""Contract checks for preprocessors (``check_preprocessor``) and metrics (``check_metric``)."""

from __future__ import annotations

import inspect

import numpy as np

from feint.spec import parse_spec


def _fail(msg: str) -> None:
    raise AssertionError(msg)


def check_preprocessor(prep, x=None, y=None, *, idempotent: bool = False, nb_classes: int = 3, skip=()):
    """Check a preprocessor: shapes, labels, no mutation, gradient rule, spec, phases, seeds.

    Parameters
    ----------
    prep : Preprocessor
    x : ndarray, optional
        Inputs in [0, 1] (random images of shape (6, 8, 8, 1) by default).
    y : ndarray, optional
        One-hot labels (random by default).
    idempotent : bool
        Also check that applying it twice equals applying it once.
    """
    from feint.contracts.preprocessor import Preprocessor

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (6, 8, 8, 1)).astype(np.float32) if x is None else np.asarray(x)
    y = np.eye(nb_classes, dtype=np.float32)[rng.integers(0, nb_classes, len(x))] if y is None else np.asarray(y)
    if not isinstance(prep, Preprocessor):
        _fail(f"{prep!r} is not a Preprocessor")
    xb, yb = x.copy(), y.copy()
    x2, y2 = prep.transform(x, y)
    if not (np.array_equal(x, xb) and np.array_equal(y, yb)):
        _fail("transform modified its arguments in place")
    if x2.dtype != x.dtype:
        _fail(f"transform changed the dtype {x.dtype} -> {x2.dtype}")
    if prep.changes_count:
        if x2.shape[1:] != x.shape[1:] or len(x2) != len(y2):
            _fail("an augmenting preprocessor must keep the sample shape and return matching labels")
    elif x2.shape != x.shape:
        _fail(f"transform changed the shape {x.shape} -> {x2.shape}")
    if not prep.modifies_labels and not prep.changes_count and not np.array_equal(y2, y):
        _fail("labels changed although the preprocessor does not declare modifies_labels")
    only_x = prep(x)
    if isinstance(only_x, tuple):
        _fail("calling with y=None must return x alone")
    if not isinstance(prep(x, y), tuple):
        _fail("calling with y must return (x, y)")
    g = prep.estimate_gradient(x, np.ones_like(x))
    if g.shape != x.shape:
        _fail(f"estimate_gradient returned {g.shape}, expected {x.shape}")
    if prep.gradient_rule not in ("exact", "straight-through", "mixed"):
        _fail(f"gradient_rule must be 'exact' or 'straight-through', got {prep.gradient_rule!r}")
    if "spec" not in skip:
        items = parse_spec(str(prep))
        from feint.registry import default_registry

        name = type(prep).name
        if len(items) == 1 and name in default_registry().names("defence"):
            again = default_registry().create("defence", str(prep))
            if again != prep:
                _fail(f"spec {str(prep)!r} does not recreate an equal preprocessor")
    if idempotent and not prep.randomised:
        x3, _ = prep.transform(x2, None)
        if not np.allclose(x3, x2, atol=1e-6):
            _fail("declared idempotent but applying twice differs")
    if prep.randomised and "random_state" in prep.param_names():
        a = type(prep)(**{**prep.get_params(), "random_state": 1}).transform(x, y)[0]
        b = type(prep)(**{**prep.get_params(), "random_state": 1}).transform(x, y)[0]
        if not np.array_equal(a, b):
            _fail("the same random_state gave different outputs")
    if "phases" not in skip and not prep.changes_count:
        _check_phases(prep, x, nb_classes)


def _check_phases(prep, x, nb_classes):
    from feint.testing.reference import SoftmaxRegression

    plain = SoftmaxRegression(x.shape[1:], nb_classes, clip_values=(0.0, 1.0))
    plain.W = np.random.default_rng(1).normal(0, 1, plain.W.shape).astype(np.float32)
    defended = plain.with_defences([prep])
    got = defended.predict(x)
    if prep.apply_predict:
        steps = defended.preprocessors
        xt = x
        for s in steps:
            xt, _ = s.transform(xt, None)
        expect = plain.predict(xt)
    else:
        expect = plain.predict(x)
    if not prep.randomised and not np.allclose(got, expect, atol=1e-5):
        _fail(f"a classifier with this defence does not honour apply_predict={prep.apply_predict}")


def check_metric(metric, classifier, x=None, **kwargs):
    """Check a metric: finite result, input untouched, same seed same value."""
    from feint.testing._data import default_inputs

    x = default_inputs(classifier, n=4) if x is None else np.asarray(x)
    before = x.copy()
    func = getattr(metric, "func", metric)
    params = inspect.signature(func).parameters
    if "random_state" in params:
        kwargs.setdefault("random_state", 0)
    value = metric(classifier, x, **kwargs)
    if not np.array_equal(x, before):
        _fail("the metric modified its input")
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        _fail(f"the metric returned a non-finite value: {value!r}")
    if "random_state" in params:
        again = np.asarray(metric(classifier, x, **kwargs), dtype=np.float64)
        if not np.allclose(arr, again):
            _fail("the same random_state gave different metric values")
    return value
