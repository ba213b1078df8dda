"""Every registered component prints as its canonical spec, and that spec creates an equal object."""

import inspect
import math

import pytest

import feint
from feint.errors import CapabilityError, InvalidInputError, InvalidParameterError
from feint.registry import default_registry
from feint.testing import MLPClassifier

_CLF = {}


#: components whose required arguments the generic context cannot guess
EXTRA_ARGS = {"adversarial_trainer": {"attacks": "fgsm(eps=0.1)"}}
#: components that need a classifier of a particular kind
NB_CLASSES = {"binary_input_detector": 2}


def _classifier(nb_classes=3):
    if nb_classes not in _CLF:  # image-shaped, so image-only attacks (shadow) and defences build too
        _CLF[nb_classes] = MLPClassifier((1, 6, 6), nb_classes, random_state=0)
    return _CLF[nb_classes]


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
    args = tuple(_classifier(NB_CLASSES.get(entry.name, 3)) for name in required if name in context)
    extra = EXTRA_ARGS.get(entry.name, {})
    missing = [r for r in required if r not in context and r not in extra]
    if missing:
        pytest.skip(f"{entry.name} needs arguments without defaults: {missing}")
    try:
        obj = feint.create(entry.kind, entry.name, *args, **extra)
    except (InvalidParameterError, InvalidInputError, CapabilityError) as exc:
        pytest.skip(f"{entry.name} cannot be built on the generic reference classifier: {exc}")
    again = feint.create(entry.kind, str(obj), *args)
    assert again == obj and str(again) == str(obj)
    # and with changed numeric parameters (each within its constraints)
    changed_any = False
    for name, value in obj.get_params().items():
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value == 0 or not math.isfinite(value):
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
