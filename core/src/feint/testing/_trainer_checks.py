"""Contract checks for training defences (``check_trainer``)."""

from __future__ import annotations

import contextlib
import copy
import io

import numpy as np

from feint.errors import CapabilityError, InvalidParameterError
from feint.spec import parse_spec


def _fail(msg: str) -> None:
    raise AssertionError(msg)


def _fresh(trainer, fit_kwargs, **params):
    """A trainer like ``trainer`` on a deep copy of its (untrained) classifier, and fresh fit kwargs."""
    clf = copy.deepcopy(trainer.classifier)
    return type(trainer)(clf, **{**trainer.get_params(), **params}), copy.deepcopy(fit_kwargs)


def check_trainer_params_roundtrip(trainer, x, y, fit_kwargs):
    params = trainer.get_params()
    if list(params) != trainer.param_names():
        _fail("get_params must return every __init__ parameter in order")
    if type(trainer)(trainer.classifier, **params) != trainer:
        _fail("a copy built from get_params() is not equal to the original")
    items = parse_spec(str(trainer))
    if len(items) != 1:
        _fail(f"str(trainer) = {str(trainer)!r} is not a single spec")
    if type(trainer)(trainer.classifier, **items[0].kwargs) != trainer:
        _fail(f"spec {str(trainer)!r} does not recreate an equal trainer")
    from feint.registry import default_registry

    name = type(trainer).name
    if name and name in default_registry().names("defence"):
        created = default_registry().create("defence", str(trainer), trainer.classifier)
        if created != trainer:
            _fail(f"feint.create('defence', {str(trainer)!r}, classifier) is not equal to the trainer")


def check_trainer_invalid_params(trainer, x, y, fit_kwargs):
    for name, alternatives in getattr(trainer, "_parameter_constraints", {}).items():
        if name not in trainer.param_names():
            continue
        for c in alternatives:
            bad = c.invalid_example()
            if bad is None or any(a.accepts(bad) for a in alternatives):
                continue
            try:
                type(trainer)(trainer.classifier, **{**trainer.get_params(), name: bad})
            except InvalidParameterError as exc:
                if name not in str(exc):
                    _fail(f"the error for {name}={bad!r} does not name the parameter: {exc}")
            else:
                _fail(f"{type(trainer).__name__}({name}={bad!r}) was accepted; expected InvalidParameterError")


def check_trainer_fit(trainer, x, y, fit_kwargs):
    from feint import hookimpl
    from feint.hooks import get_plugin_manager

    t, kwargs = _fresh(trainer, fit_kwargs)
    before_pred = t.predict(x)
    xb, yb = x.copy(), y.copy()
    seen = []

    class _Observer:
        @hookimpl
        def feint_task_start(self, task):
            seen.append(task.kind)

    observer = _Observer()
    pm = get_plugin_manager()
    pm.register(observer)
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            ret = t.fit(x, y, **kwargs)
    finally:
        pm.unregister(observer)
    if ret is not t:
        _fail("fit must return the trainer itself")
    if not (np.array_equal(x, xb) and np.array_equal(y, yb)):
        _fail("fit modified its input arrays")
    if out.getvalue():
        _fail(f"fit printed to stdout: {out.getvalue()[:80]!r}; report through hooks or logging")
    if "trainer" not in seen:
        _fail("fit announced no task of kind 'trainer' through the feint_task_* hooks")
    p = t.predict(x)
    if p.shape != (x.shape[0], t.classifier.nb_classes) or not np.allclose(p.sum(axis=1), 1, atol=1e-4):
        _fail(f"predict after fit must return probability rows of shape {(x.shape[0], t.classifier.nb_classes)}")
    if np.allclose(p, before_pred, atol=1e-7):
        _fail("fit did not change the predictions; nothing was trained")


def check_trainer_seed(trainer, x, y, fit_kwargs):
    if "random_state" not in trainer.param_names():
        return
    a, ka = _fresh(trainer, fit_kwargs, random_state=0)
    b, kb = _fresh(trainer, fit_kwargs, random_state=0)
    pa = a.fit(x, y, **ka).predict(x)
    pb = b.fit(x, y, **kb).predict(x)
    if not np.allclose(pa, pb, atol=1e-5):
        _fail("the same random_state and the same initial model gave different trained models")


def check_trainer_capabilities(trainer, x, y, fit_kwargs):
    required = set(getattr(trainer, "requires", ()))
    if required <= {"predict"}:
        return
    reduced = copy.copy(trainer.classifier)
    reduced.provides = frozenset({"predict"})
    try:
        type(trainer)(reduced, **trainer.get_params())
    except CapabilityError as exc:
        if "predict" not in str(exc):
            _fail(f"the capability error does not name what the classifier provides: {exc}")
    else:
        _fail(f"a trainer requiring {sorted(required)} accepted a predict-only classifier")


TRAINER_CHECKS = [check_trainer_params_roundtrip, check_trainer_invalid_params, check_trainer_fit,
                  check_trainer_seed, check_trainer_capabilities]


def check_trainer(trainer, x, y, *, fit_kwargs=None, skip=()):
    """Run every trainer check; raise ``AssertionError`` naming the first that fails.

    Training happens on deep copies of ``trainer.classifier`` (so the caller's model is not
    changed): parameters and spec round-trip, invalid values are refused naming the parameter,
    ``fit`` returns self, leaves its inputs alone, prints nothing, announces a ``"trainer"`` task
    and changes the model, the same ``random_state`` gives the same model, and a classifier
    without the required capabilities is refused.

    Parameters
    ----------
    trainer : Trainer
        On a small classifier (a numpy reference model trains in milliseconds).
    x, y : ndarray
        Training inputs and integer labels.
    fit_kwargs : dict, optional
        Extra arguments of ``fit``; deep-copied for every fit (so a student classifier passed
        here starts untrained each time).
    skip : iterable of str
        Names of checks to skip.
    """
    x = np.asarray(x, dtype=trainer.classifier.np_dtype)
    y = np.asarray(y)
    for check in TRAINER_CHECKS:
        if check.__name__ not in skip:
            check(trainer, x, y, fit_kwargs or {})
