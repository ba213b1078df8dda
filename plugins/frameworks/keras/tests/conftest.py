"""Run the Keras checks once per backend, each in its own process, shared by this folder's tests.

Keras picks its backend at import, so one process cannot test all three: the session fixture
``keras_runs`` starts ``_backend_worker.py`` under ``KERAS_BACKEND=tensorflow``, ``torch`` and
``jax`` side by side (each batches every check into one start-up) and collects what they write.
The workers start right after collection, so they run while the rest of the session does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_backend_worker.py"
BACKENDS = ("tensorflow", "torch", "jax")
_MODULES = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}


def load_worker():
    """The worker script as a module (its top level imports only numpy)."""
    spec = importlib.util.spec_from_file_location("feint_keras_backend_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_job(job: Path) -> None:
    """Shared weights and inputs of the small CNN (channels last) for every framework."""
    rng = np.random.default_rng(1234)
    arrays = {
        "k": rng.normal(0.0, 0.6, (3, 3, 1, 4)), "b": rng.normal(0.0, 0.1, 4),
        "w": rng.normal(0.0, 0.5, (36, 10)), "c": rng.normal(0.0, 0.1, 10),
        "x": rng.uniform(0.05, 0.95, (12, 8, 8, 1)),
    }
    arrays = {k: v.astype(np.float32) for k, v in arrays.items()}
    np.savez(job / "job.npz", y=np.arange(12) % 10, labels=rng.integers(0, 10, (12, 2)), **arrays)


def _cache_dir() -> Path:
    if os.environ.get("FEINT_CACHE"):
        return Path(os.environ["FEINT_CACHE"])
    for parent in HERE.parents:
        if (parent / ".git").exists():
            return parent / ".feint-cache"
    return Path.home() / ".cache" / "feint"


def _start(job: Path, backend: str) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": backend, "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONWARNINGS": "ignore"}
    if backend == "jax":
        # XLA compiles one program per function and shape, seconds each on a small CPU: keep compiled
        # programs between test runs, and compile with cheaper LLVM optimisation (results are
        # checked against PyTorch to 1e-5 all the same).
        env.setdefault("JAX_COMPILATION_CACHE_DIR", str(_cache_dir() / "jax-compilation"))
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0").strip()
    with open(job / f"log-{backend}.txt", "wb") as log:  # the child keeps its own handle
        return subprocess.Popen([sys.executable, str(WORKER), str(job)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


_LAUNCHED: dict = {}


def _launch() -> dict:
    """Start one worker per installed backend, once per session (in a temporary job folder)."""
    if not _LAUNCHED and importlib.util.find_spec("keras") is not None:
        job = Path(tempfile.mkdtemp(prefix="feint-keras-backends-"))
        make_job(job)
        _LAUNCHED["job"] = job
        _LAUNCHED["procs"] = {b: _start(job, b) for b in BACKENDS if importlib.util.find_spec(_MODULES[b])}
    return _LAUNCHED


def pytest_collection_modifyitems(session, config, items):
    """Run the tests that read the workers' results last, so the workers overlap everything else."""
    waiting = [item for item in items if "keras_runs" in getattr(item, "fixturenames", ())]
    if waiting and len(waiting) < len(items):
        ids = {id(item) for item in waiting}
        items[:] = [item for item in items if id(item) not in ids] + waiting


def pytest_collection_finish(session):
    """Start the workers as soon as the tests that need them are collected.

    They then run while the rest of the session's tests do, instead of after them.
    """
    if any("keras_runs" in getattr(item, "fixturenames", ()) for item in session.items):
        _launch()


def pytest_sessionfinish(session):
    for proc in _LAUNCHED.get("procs", {}).values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if "job" in _LAUNCHED:
        shutil.rmtree(_LAUNCHED["job"], ignore_errors=True)


@pytest.fixture(scope="session")
def keras_job():
    pytest.importorskip("keras")
    return _launch()["job"]


@pytest.fixture(scope="session")
def keras_runs(keras_job):
    """``{backend: {"rc", "log", "results", "outputs"}}`` for every installed backend."""
    runs = {}
    for backend, proc in _LAUNCHED["procs"].items():
        try:
            rc = proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        res = keras_job / f"results-{backend}.json"
        out = keras_job / f"outputs-{backend}.npz"
        runs[backend] = {
            "rc": rc, "log": (keras_job / f"log-{backend}.txt").read_text(errors="replace")[-6000:],
            "results": json.loads(res.read_text()) if res.exists() else None,
            "outputs": dict(np.load(out)) if out.exists() else {},
        }
    return runs
