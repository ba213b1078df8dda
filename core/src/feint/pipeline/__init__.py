"""``feint evaluate``: string-configured evaluation pipelines and their reports.

An evaluation is a grid of attacks x target settings x defence alternatives x adaptive or not,
run on the inputs the (defended) model classifies correctly, plus metrics per defence and robust
accuracy vs eps; it writes ``report.json`` (schema in ``report/schema.json``), ``report.md`` and a
self-contained ``report.html``.  Modules: ``config`` (schema, validation), ``models`` and
``data`` (loaders), ``plan`` (components and cells), ``grid`` (running), ``store`` (per-cell
results for ``--resume``), ``report`` (building and writing), ``cli``.
"""

from __future__ import annotations

from typing import Any

from feint.pipeline.config import ConfigError, default_config, load_config, validate_config

__all__ = ["ConfigError", "default_config", "evaluate", "load_config", "validate_config"]


def evaluate(config: Any = None, **kwargs: Any) -> dict:
    """Run an evaluation from a config dict, TOML file or text (see :func:`feint.pipeline.run.evaluate`)."""
    from feint.pipeline.run import evaluate as _evaluate

    return _evaluate(config, **kwargs)
