"""Every registered component prints as its canonical spec, and that spec creates an equal object."""

import inspect

import pytest

import feint
from feint.errors import CapabilityError, InvalidParameterError
from feint.registry import default_registry
from feint.testing import trained_reference

_CLF = {}


def _classifier():
    if "clf" not in _CLF:
        _CLF["clf"] = trained_reference("mlp", nb_epochs=5)[0]
    return _CLF["clf"]


def _entries(kind):
    return [e for e in default_registry().entries(kind) if e.status == "ok" and isinstance(e.value, str)]


def _required_args(obj):
    sig = inspect.signature(obj)
    return [p.name for p in list(sig.parameters.values())
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


@pytest.mark.parametrize("entry", _entries("attack") + _entries("defence"), ids=lambda e: f"{e.kind}:{e.name}")
def test_spec_roundtrip(entry):
    reg = default_registry()
    cls = reg.load(entry.kind, entry.name)
    required = _required_args(cls)
    context = getattr(cls, "_context_args", ())
    args = tuple(_classifier() for name in required if name in context)
    missing = [r for r in required if r not in context]
    if missing:
        pytest.skip(f"{entry.name} needs arguments without defaults: {missing}")
    try:
        obj = feint.create(entry.kind, entry.name, *args)
    except (InvalidParameterError, CapabilityError) as exc:
        pytest.skip(f"{entry.name} cannot be built on the generic reference classifier: {exc}")
    again = feint.create(entry.kind, str(obj), *args)
    assert again == obj and str(again) == str(obj)
    # and with changed numeric parameters (each within its constraints)
    changed_any = False
    for name, value in obj.get_params().items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value in (0, None):
            continue
        for new in ((value * 0.5, value * 2) if isinstance(value, float) else (value + 1, value + 2)):
            try:
                changed = type(obj)(*args, **{**obj.get_params(), name: new})
            except InvalidParameterError:
                continue
            assert changed != obj
            assert str(changed) != str(obj)
            assert feint.create(entry.kind, str(changed), *args) == changed
            changed_any = True
            break
    assert changed_any or not any(isinstance(v, (int, float)) for v in obj.get_params().values())


@pytest.mark.parametrize("entry", _entries("metric"), ids=lambda e: f"metric:{e.name}")
def test_metric_spec_roundtrip(entry):
    m = feint.create("metric", entry.name)
    assert feint.create("metric", str(m)) == m
