"""KerasClassifier on each Keras 3 backend: the contract kit and behaviour checks, run per backend.

Each test reads one check's record from that backend's worker process (see ``conftest.py``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BACKENDS = ("tensorflow", "torch", "jax")
_spec = importlib.util.spec_from_file_location("feint_keras_backend_worker", Path(__file__).with_name(
    "_backend_worker.py"))
_worker = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_worker)
CHECKS = _worker.CHECKS


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_check(keras_runs, backend, check):
    if backend not in keras_runs:
        pytest.skip(f"the {backend} backend is not installed")
    run = keras_runs[backend]
    results = run["results"]
    assert results is not None, f"the {backend} worker wrote no results (exit code {run['rc']}):\n{run['log']}"
    assert results["backend"] == backend
    record = results["checks"].get(check)
    assert record is not None, f"the {backend} worker did not run {check}:\n{run['log']}"
    assert record["ok"], f"{check} failed on the {backend} backend:\n{record['error']}"
