"""Plugin-level behaviour that needs no Keras backend in this process."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires

import feint
from feint_framework_keras.hooks import feint_adapt_model, is_keras_model


def test_importing_the_plugin_does_not_import_keras():
    code = ("import sys, feint, feint_framework_keras, feint_framework_keras.hooks; feint.list('framework'); "
            "bad = [m for m in ('keras', 'tensorflow', 'torch', 'jax') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_hook_declines_other_models_without_importing_keras():
    class Plain:
        pass

    assert not is_keras_model(Plain()) and feint_adapt_model(Plain(), {}) is None
    assert not is_keras_model(lambda x: x)


def test_registered_with_keras_requirement():
    assert "keras" in feint.list("framework")
    reqs = [r.split(";")[0].replace(" ", "") for r in requires("feint-framework-keras")]
    assert any(r.startswith("keras>=3") for r in reqs), reqs
    entry = next(e for e in feint.registry.default_registry().entries("framework") if e.name == "keras")
    assert entry.status == "ok", entry.status_text
