"""``evaluate``: validate the config, load the model and data, plan, run the grid, write the reports."""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path

from feint.pipeline.config import ConfigError, load_config, validate_config

__all__ = ["evaluate"]

log = logging.getLogger("feint.pipeline")


@contextmanager
def _progress(quiet: bool):
    """``quiet`` silences the built-in progress bars (FEINT_PROGRESS=0) for the run only."""
    if not quiet:
        yield
        return
    old = os.environ.get("FEINT_PROGRESS")
    os.environ["FEINT_PROGRESS"] = "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("FEINT_PROGRESS", None)
        else:
            os.environ["FEINT_PROGRESS"] = old


def _sanity(report: dict, plan, results: dict, quiet: bool) -> dict:
    """The report's "sanity" section: ``{"status": "passed" | "warned" | "not_run", "checks": [...]}``.

    Each check is ``{"name", "status": "passed" | "warned" | "skipped", "message", "advice",
    "numbers": {...}}`` (see ``report/schema.json``), computed by :mod:`feint.pipeline.sanity`.
    """
    if not plan.config.get("sanity", True):
        return {"status": "not_run", "checks": [], "note": "disabled in the config (sanity = false)"}
    from feint.pipeline.sanity import run_sanity

    with _progress(quiet):
        checks = run_sanity(plan, results, verbose=not quiet)
    status = "warned" if any(c["status"] == "warned" for c in checks) else "passed"
    return {"status": status, "checks": checks}


def evaluate(config=None, *, out=None, quiet: bool = False, resume: bool = False, samples: int | None = None) -> dict:
    """Run an evaluation and write its reports; return the report dict.

    Parameters
    ----------
    config : dict, str or Path, optional
        A config dict, a TOML file, or TOML text; ``None`` runs the built-in default (the
        digits CNN against FGSM, PGD, DeepFool and C&W L2 under five defences).
    out : str or Path, optional
        Output folder (overrides the config's ``out``).
    quiet : bool
        No progress bars.
    resume : bool
        Reuse the cells already finished in the output folder.
    samples : int, optional
        Number of inputs (overrides the config's ``samples``).

    Raises
    ------
    ConfigError
        Before any attack runs, listing every problem of the config at once.
    """
    t_start = time.perf_counter()
    raw, base_dir = load_config(config)
    source = "built-in default" if config is None else ("dict" if isinstance(config, dict) else str(config))
    if samples is not None:
        raw["samples"] = samples
    if out is not None:
        raw["out"] = str(out)
    cfg, problems = validate_config(raw, base_dir)
    if problems:
        raise ConfigError(problems, source)
    from feint.pipeline.data import load_data
    from feint.pipeline.grid import run_grid
    from feint.pipeline.models import load_classifier
    from feint.pipeline.plan import build_plan
    from feint.pipeline.report import build_report, write_reports
    from feint.pipeline.store import CellStore

    classifier, model_info = load_classifier(cfg["model"], cfg["clip_values"], base_dir)
    x, y, data_info = load_data(cfg["data"], classifier, cfg["samples"], base_dir)
    if cfg["clip_values"] is None:
        cfg["clip_values"] = list(classifier.clip_values) if classifier.clip_values is not None else None
    plan = build_plan(cfg, classifier, x, y, model_info, data_info)
    outdir = Path(cfg["out"])
    store = CellStore(outdir, resume)
    t_setup = time.perf_counter()
    with _progress(quiet):
        results, counts = run_grid(plan, store, verbose=not quiet)
    t_grid = time.perf_counter()
    timings = {"setup": t_setup - t_start, "grid": t_grid - t_setup,
               "cells": sum(r.get("seconds") or 0.0 for r in results.values())}
    report = build_report(plan, results, counts, {**timings, "total": time.perf_counter() - t_start}, source)
    report["sanity"] = _sanity(report, plan, results, quiet)
    report["timings"]["total"] = time.perf_counter() - t_start
    report["outputs"] = write_reports(report, outdir)
    return report
