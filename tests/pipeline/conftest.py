"""Fixtures of the pipeline tests: a toy model module and data in a folder, a stand-in defence."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

TOY_MODEL = textwrap.dedent('''
    """A toy model module for `feint evaluate` tests: a trained numpy MLP (feint.testing)."""
    from feint.testing import trained_reference

    _CACHE = {}


    def build(nb_epochs=40):
        if nb_epochs not in _CACHE:
            _CACHE[nb_epochs] = trained_reference("mlp", nb_epochs=nb_epochs)[0]
        return _CACHE[nb_epochs]


    def broken():
        raise RuntimeError("no weights here")
''')


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory):
    """A folder with ``feint_toy_model.py`` (loader ``feint_toy_model:build``) and ``data.npz``."""
    from feint.testing import toy_dataset

    d = tmp_path_factory.mktemp("toy")
    (d / "feint_toy_model.py").write_text(TOY_MODEL)
    x, y = toy_dataset()
    np.savez(d / "data.npz", x=x, y=y)
    np.savez(d / "wide.npz", x=np.zeros((10, 9), np.float32), y=np.zeros(10, np.int64))
    return d


@pytest.fixture(scope="session")
def rounding_defence():
    """A stand-in pre-processing defence registered in process as ``test_rounding``."""
    import feint
    from feint.contracts.preprocessor import Preprocessor
    from feint.registry import default_registry

    class Rounding(Preprocessor):
        """Round inputs to ``levels`` grey levels (a stand-in squeezer; straight-through gradient)."""

        name = "test_rounding"

        def __init__(self, levels: int = 4) -> None:
            self.levels = levels

        def transform(self, x, y=None):
            return (np.round(x * (self.levels - 1)) / (self.levels - 1)).astype(x.dtype), y

    feint.register("defence", "test_rounding", Rounding, replace=True)
    yield "test_rounding"
    default_registry().unregister("defence", "test_rounding")


@pytest.fixture
def toy_config(toy_dir, rounding_defence, monkeypatch):
    """``toy_config(out, **overrides)``: a small valid config on the toy model (sections are merged).

    A dict config has no folder of its own, so the toy model's folder is put on ``sys.path``.
    """
    monkeypatch.syspath_prepend(str(toy_dir))
    return lambda out, **overrides: _toy_config(toy_dir, out, **overrides)


def _toy_config(toy_dir, out, **overrides) -> dict:
    cfg = {
        "title": "toy evaluation",
        "seed": 3,
        "samples": 40,
        "out": str(out),
        "attacks": ["fgsm(eps=0.3)", "fgsm(minimal=True, eps_step=0.05, eps_max=1.0)"],
        "targets": ["untargeted", "next"],
        "defences": ["none", "test_rounding(levels=5)"],
        "adaptive": "both",
        "metrics": ["loss_sensitivity", "clever_u(n_batch=10, n_sample=4, r=1.0)"],
        "metric_samples": 8,
        "model": {"loader": "feint_toy_model:build", "loader_args": {"nb_epochs": 40}},
        "data": {"source": str(toy_dir / "data.npz")},
        "robust_accuracy": {"eps": [0.0, 0.1, 0.3]},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    return cfg
