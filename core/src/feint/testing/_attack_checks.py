"""Contract checks for attacks (``check_attack``)."""

from __future__ import annotations

import contextlib
import copy
import io
import math

import numpy as np

from feint.errors import CapabilityError, InvalidParameterError
from feint.norms import lp_norm
from feint.spec import parse_spec
from feint.testing._data import default_inputs


def _fail(msg: str) -> None:
    raise AssertionError(msg)


def _clone(attack, /, **params):
    p = {**attack.get_params(), **params}
    return type(attack)(attack.classifier, **p)


def check_params_roundtrip(attack, x=None):
    params = attack.get_params()
    if list(params) != attack.param_names():
        _fail("get_params must return every __init__ parameter in order")
    again = _clone(attack)
    if again != attack:
        _fail("a copy built from get_params() is not equal to the original")
    items = parse_spec(str(attack))
    if len(items) != 1:
        _fail(f"str(attack) = {str(attack)!r} is not a single spec")
    rebuilt = type(attack)(attack.classifier, **items[0].kwargs)
    if rebuilt != attack:
        _fail(f"spec {str(attack)!r} does not recreate an equal attack")
    from feint.registry import default_registry

    name = type(attack).name
    if name and name in default_registry().names("attack"):
        created = default_registry().create("attack", str(attack), attack.classifier)
        if created != attack:
            _fail(f"feint.create('attack', {str(attack)!r}) is not equal to the attack")


def check_invalid_params(attack, x):
    constraints = {**getattr(attack, "_parameter_constraints", {})}
    for name, alternatives in constraints.items():
        if name not in attack.param_names():
            continue
        for c in alternatives:
            bad = c.invalid_example()
            if bad is None or any(a.accepts(bad) for a in alternatives):
                continue
            try:
                _clone(attack, **{name: bad})
            except InvalidParameterError as exc:
                if repr(name) not in str(exc) and name not in str(exc):
                    _fail(f"the error for {name}={bad!r} does not name the parameter: {exc}")
            else:
                _fail(f"{type(attack).__name__}({name}={bad!r}) was accepted; expected InvalidParameterError")
    try:
        _clone(attack, batch_size=0)
    except InvalidParameterError as exc:
        if "batch_size" not in str(exc) or "0" not in str(exc):
            _fail(f"the batch_size error does not name the value: {exc}")
    else:
        _fail("batch_size=0 was accepted")


def check_generate(attack, x):
    before = x.copy()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        adv = attack.generate(x)
    if not np.array_equal(x, before):
        _fail("generate modified its input array")
    if out.getvalue():
        _fail(f"generate printed to stdout: {out.getvalue()[:80]!r}; report through hooks or logging")
    if adv.shape != x.shape or adv.dtype != x.dtype:
        _fail(f"generate returned {adv.shape} {adv.dtype}, expected {x.shape} {x.dtype}")
    if not np.all(np.isfinite(adv)):
        _fail("generate returned non-finite values")
    cv = attack.classifier.clip_values
    if cv is not None and (adv.min() < cv[0] - 1e-6 or adv.max() > cv[1] + 1e-6):
        _fail(f"generate left clip_values {cv}: range [{adv.min()}, {adv.max()}]")


def check_norm_ball(attack, x):
    budget = attack.budget()
    if budget is None:
        return
    eps, norm = budget
    adv = attack.generate(x)
    n = lp_norm((adv - x).astype(np.float64), norm)
    if np.any(n > eps * (1 + 1e-4) + 1e-5):
        _fail(f"perturbations exceed the {norm}-ball of radius {eps}: max norm {n.max():.6g}")


def check_eps_zero(attack, x):
    budget = attack.budget()
    if budget is None or not attack.eps_param or budget[0] != getattr(attack, attack.eps_param, None):
        return
    try:
        zero = _clone(attack, **{attack.eps_param: 0.0})
    except InvalidParameterError:
        return
    adv = zero.generate(x)
    if not np.allclose(adv, x, atol=1e-6):
        _fail(f"{attack.eps_param}=0 must return the input unchanged")


def check_seed(attack, x):
    a = _clone(attack, random_state=0).generate(x)
    b = _clone(attack, random_state=0).generate(x)
    if not np.array_equal(a, b):
        _fail("the same random_state gave different outputs")


def check_batch_invariance(attack, x):
    a = _clone(attack, random_state=0, batch_size=max(1, x.shape[0])).generate(x)
    b = _clone(attack, random_state=0, batch_size=max(1, x.shape[0] // 3)).generate(x)
    if not np.allclose(a, b, atol=1e-4):
        diff = np.abs(a - b).reshape(len(a), -1).max(axis=1)
        _fail(f"batch_size changed the result (max difference per sample {np.round(diff, 5)})")


def check_run_record(attack, x):
    res = attack.run(x)
    if res.x_adv.shape != x.shape or res.success.shape != (x.shape[0],) or res.success.dtype != bool:
        _fail("run() must return x_adv of the input's shape and a boolean success per sample")
    if set(res.norms) != {"l0", "l1", "l2", "linf"}:
        _fail("run() norms must hold l0, l1, l2 and linf")
    if res.passes.get("forward", 0) <= 0:
        _fail("run() recorded no forward pass")
    if not (res.seconds >= 0 and math.isfinite(res.seconds)):
        _fail("run() must record the time spent")


def check_capabilities(attack, x):
    reduced = copy.copy(attack.classifier)
    reduced.provides = frozenset({"predict"})
    if set(attack.requires) <= {"predict"}:
        return
    try:
        type(attack)(reduced, **attack.get_params())
    except CapabilityError as exc:
        if "predict" not in str(exc):
            _fail(f"the capability error does not name what the classifier provides: {exc}")
    else:
        _fail("an attack requiring gradients accepted a predict-only classifier")


ATTACK_CHECKS = [check_params_roundtrip, check_invalid_params, check_generate, check_norm_ball,
                 check_eps_zero, check_seed, check_batch_invariance, check_run_record, check_capabilities]


def check_attack(attack, x=None, *, success_threshold: float | None = None, skip=()):
    """Run every attack check on ``attack`` (and its classifier); raise ``AssertionError`` on failure.

    Parameters
    ----------
    attack : Attack
    x : ndarray, optional
        Inputs (random ones inside clip_values by default).
    success_threshold : float, optional
        Minimum success rate of :meth:`Attack.run` on ``x``.
    skip : iterable of str
        Names of checks to skip.
    """
    x = default_inputs(attack.classifier) if x is None else np.asarray(x, dtype=attack.classifier.np_dtype)
    for check in ATTACK_CHECKS:
        if check.__name__ not in skip:
            check(attack, x)
    if success_threshold is not None:
        rate = attack.run(x).success_rate
        if rate < success_threshold:
            _fail(f"success rate {rate:.2%} is below {success_threshold:.2%}")
