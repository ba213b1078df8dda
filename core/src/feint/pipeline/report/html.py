"""The self-contained HTML report (``report.html``): tables and plots embedded as base64 PNG.

No external resource is referenced (no scripts, fonts or stylesheets), so the file opens offline
and can be attached to a paper's supplementary material.  Sanity warnings, when there are any,
are shown first.
"""

from __future__ import annotations

import html
import json

from feint.pipeline.report import tables

__all__ = ["render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;color:#1b1f24;
padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1.02rem;margin-top:1.3rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.86rem}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f7}tr:nth-child(even) td{background:#fafbfc}
.cite{background:#f3f8ff;border-left:4px solid #3b82f6;padding:.6rem .9rem;margin:1rem 0}
.warn{background:#fff4e5;border-left:4px solid #f59e0b;padding:.6rem .9rem;margin:1rem 0}
.error{background:#fdecec;border-left:4px solid #dc2626;padding:.6rem .9rem;margin:1rem 0}
.muted{color:#57606a;font-size:.9rem}figure{margin:1rem 0}figure img{max-width:100%;border:1px solid #e5e7eb}
figcaption{font-size:.85rem;color:#57606a}pre{background:#f6f8fa;padding:.8rem;overflow:auto;font-size:.78rem}
code{background:#f6f8fa;padding:0 .2rem}
"""


def _e(text) -> str:
    return html.escape(str(text))


def _table(title: str | None, header: list[str], rows: list[list[str]], level: int = 3) -> str:
    head = f"<h{level}>{_e(title)}</h{level}>" if title else ""
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    thead = f"<thead><tr>{''.join(f'<th>{_e(h)}</th>' for h in header)}</tr></thead>" if any(header) else ""
    return f"{head}<table>{thead}<tbody>{body}</tbody></table>"


def _sanity(report: dict) -> tuple[str, str]:
    """(banner at the top, section) for the sanity checks."""
    sanity = report["sanity"]
    checks = sanity.get("checks") or []
    if not checks:
        note = sanity.get("note", "no checks are available in this feint-core")
        return "", f"<h2>Sanity checks</h2><p class='muted'>Not run ({_e(note)}).</p>"
    warned = [c for c in checks if c["status"] == "warned"]
    banner = ""
    if warned:
        items = "".join(f"<li><b>{_e(c['name'])}</b>: {_e(c['message'])}"
                        + (f" <i>Try: {_e(c['advice'])}</i>" if c.get("advice") else "") + "</li>" for c in warned)
        banner = (f"<div class='warn'><b>{len(warned)} sanity warning(s)</b> — these numbers may overstate "
                  f"robustness:<ul>{items}</ul></div>")
    _, header, rows = tables.sanity_table(report)
    return banner, "<h2>Sanity checks</h2>" + _table(None, header, rows)


def render_html(report: dict, plots: list[tuple[str, str]]) -> str:
    """Render the report dict and its plots ``[(title, base64 png)]`` as one HTML page."""
    cfg = report["config"]
    banner, sanity = _sanity(report)
    errors = [c for g in ("clean", "attacks", "robust_accuracy", "metrics") for c in report[g] if c["status"] == "error"]
    err_html = ""
    if errors:
        items = "".join(f"<li><code>{_e(c['id'])}</code> ({_e(c['defence'])}): {_e(c['error'])}</li>" for c in errors)
        err_html = f"<div class='error'><b>{len(errors)} cell(s) failed</b><ul>{items}</ul></div>"
    setup = [
        ("model", f"{report['model']['source']} — {report['model']['classifier']}"),
        ("data", f"{report['data']['source']}, {report['data']['n']} inputs of shape {tuple(report['data']['shape'])}"),
        ("attacks", ", ".join(a["canonical"] for a in report["components"]["attacks"])),
        ("targets", ", ".join(cfg["targets"])), ("adaptive", str(cfg["adaptive"])),
        ("defences", ", ".join(d["id"] for d in report["components"]["defences"])),
        ("seed", str(report["seed"])), ("feint", report["feint"]["version"]), ("created", report["created"]),
        ("total time", f"{report['timings']['total']:.1f} s"),
    ]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(report['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(report['title'])}</h1><p class='muted'>feint evaluation report · {_e(report['created'])}</p>",
        banner, err_html,
        f"<div class='cite'><b>Cite:</b> {_e(report['citation'])}</div>",
        "<h2>Setup</h2>" + _table(None, ["", ""], [[k, v] for k, v in setup]),
        "<p class='muted'>Success rates count only the inputs the (defended) model classifies correctly; "
        "distances are those of the successful examples.</p>",
        _table(*tables.clean_table(report), level=2),
    ]
    if plots:
        parts.append("<h2>Plots</h2>")
        for title, data in plots:
            parts.append(f"<figure><img alt='{_e(title)}' src='data:image/png;base64,{data}'>"
                         f"<figcaption>{_e(title)}</figcaption></figure>")
    else:
        parts.append("<p class='muted'>No plots: matplotlib is not installed (pip install feint-core[report]).</p>")
    parts.append("<h2>Attack success</h2>")
    parts += [_table(*t) for t in tables.success_tables(report)]
    parts.append("<h2>Distortion</h2>")
    parts += [_table(*t) for t in tables.distortion_tables(report)]
    for t in (tables.sweep_table(report), tables.metric_table(report)):
        if t:
            parts.append(_table(*t, level=2))
    parts.append(sanity)
    parts.append("<h2>Citation</h2>" + "".join(f"<div class='cite'>{_e(c)}</div>" for c in report["citations"]))
    parts.append(_table(*tables.plugin_table(report), level=2))
    parts.append(_table(*tables.timing_table(report), level=2))
    cfg_json = json.dumps({"config": report["config"], "components": report["components"]}, indent=2)
    parts.append(f"<h2>Configuration (resolved, with defaults)</h2><pre>{_e(cfg_json)}</pre>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
