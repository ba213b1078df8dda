"""The built-in report writers, registered as hook plugins of ``feint_report_write``.

Each writes one format when the report's config lists it (``formats``): ``report.json``,
``report.md`` and ``report.html``.  Third-party writers implement the same hook (in a module
registered in the entry-point group ``feint.plugins``) and receive the same report dict.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from feint.hooks import hookimpl

__all__ = ["register_builtin_writers", "write_reports"]

log = logging.getLogger("feint.pipeline")


def _write(path: Path, text: str) -> str:
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return str(path)


def _wants(report: dict, fmt: str) -> bool:
    return fmt in report.get("config", {}).get("formats", ["json", "md", "html"])


class JsonWriter:
    """``report.json``: the report dict itself (see ``schema.json``)."""

    @hookimpl
    def feint_report_write(self, report, outdir):
        if not _wants(report, "json"):
            return None
        return [_write(Path(outdir) / "report.json", json.dumps(report, indent=1, allow_nan=False))]


class MarkdownWriter:
    """``report.md``: tables, citation, versions and the resolved config."""

    @hookimpl
    def feint_report_write(self, report, outdir):
        if not _wants(report, "md"):
            return None
        from feint.pipeline.report.markdown import render_markdown

        return [_write(Path(outdir) / "report.md", render_markdown(report))]


class HtmlWriter:
    """``report.html``: a self-contained page with the tables and matplotlib plots (base64 PNG)."""

    @hookimpl
    def feint_report_write(self, report, outdir):
        if not _wants(report, "html"):
            return None
        from feint.pipeline.report.html import render_html

        try:
            from feint.pipeline.report.plots import all_plots

            plots = all_plots(report)
        except ImportError:
            log.warning("matplotlib is not installed: report.html has no plots (pip install matplotlib)")
            plots = []
        return [_write(Path(outdir) / "report.html", render_html(report, plots))]


_BUILTIN = {"feint.report.json": JsonWriter, "feint.report.md": MarkdownWriter, "feint.report.html": HtmlWriter}


def register_builtin_writers() -> None:
    """Register the three built-in writers with the plugin manager (once)."""
    from feint.hooks import get_plugin_manager

    pm = get_plugin_manager()
    for name, cls in _BUILTIN.items():
        if pm.get_plugin(name) is None:
            pm.register(cls(), name=name)


def write_reports(report: dict, outdir) -> list[str]:
    """Call every ``feint_report_write`` implementation; a failing writer is logged and skipped."""
    from feint.hooks import notify

    register_builtin_writers()
    Path(outdir).mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    for result in notify("feint_report_write", report=report, outdir=str(outdir)):
        paths.extend(result if isinstance(result, list) else [result])
    return paths
