"""The Markdown report (``report.md``)."""

from __future__ import annotations

import json

from feint.pipeline.report import tables

__all__ = ["render_markdown"]


def _md_table(title: str, header: list[str], rows: list[list[str]], level: int = 3) -> str:
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [f"{'#' * level} {title}", "", "| " + " | ".join(map(esc, header)) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _sanity(report: dict) -> str:
    sanity = report["sanity"]
    if not sanity.get("checks"):
        return f"## Sanity checks\n\nNot run ({sanity.get('note', 'no checks available in this feint-core')}).\n"
    warned = [c for c in sanity["checks"] if c["status"] == "warned"]
    head = f"## Sanity checks\n\n**{len(warned)} warning(s).**\n\n" if warned else "## Sanity checks\n\nAll passed.\n\n"
    _, header, rows = tables.sanity_table(report)
    return head + _md_table("Checks", header, rows)


def render_markdown(report: dict) -> str:
    """Render the report dict as Markdown."""
    cfg = report["config"]
    parts = [
        f"# {report['title']}\n",
        f"> **Cite:** {report['citation']}\n",
        "## Setup\n",
        f"- model: {report['model']['source']} — `{report['model']['classifier']}`",
        f"- data: {report['data']['source']}, {report['data'].get('selection', report['data']['n'])} inputs, "
        f"shape {tuple(report['data']['shape'])}",
        f"- attacks: {', '.join('`' + a['canonical'] + '`' for a in report['components']['attacks'])}",
        f"- targets: {', '.join(cfg['targets'])}; adaptive: {cfg['adaptive']}",
        f"- defences: {', '.join('`' + d['id'] + '`' for d in report['components']['defences'])}",
        f"- seed {report['seed']}; feint {report['feint']['version']}; created {report['created']}; "
        f"total {report['timings']['total']:.1f} s\n",
        "Success rates count only the inputs the (defended) model classifies correctly; distances are "
        "those of the successful examples.\n",
    ]
    parts.append(_md_table(*tables.clean_table(report), level=2))
    for t in tables.success_tables(report):
        parts.append(_md_table(*t))
    for t in tables.distortion_tables(report):
        parts.append(_md_table(*t))
    for t in (tables.sweep_table(report), tables.metric_table(report)):
        if t:
            parts.append(_md_table(*t, level=2))
    errors = [c for group in ("clean", "attacks", "robust_accuracy", "metrics") for c in report[group]
              if c["status"] == "error"]
    if errors:
        parts.append("## Errors\n\n" + "\n".join(f"- `{c['id']}` ({c['defence']}): {c['error']}" for c in errors) + "\n")
    parts.append(_sanity(report))
    parts.append("## Citation\n\n" + "\n\n".join(f"> {c}" for c in report["citations"]) + "\n")
    parts.append(_md_table(*tables.plugin_table(report), level=2))
    parts.append(_md_table(*tables.timing_table(report), level=2))
    parts.append("## Configuration (resolved, with defaults)\n\n```json\n"
                 + json.dumps({"config": report["config"], "components": report["components"]}, indent=2)
                 + "\n```\n")
    return "\n".join(parts)
