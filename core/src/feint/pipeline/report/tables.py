"""Tables shared by the Markdown and HTML reports: (title, header, rows) of plain strings."""

from __future__ import annotations

__all__ = ["clean_table", "distortion_tables", "metric_table", "modes", "pct", "plugin_table", "sanity_table",
           "success_tables", "sweep_table", "timing_table"]


def pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def num(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    return f"{v:.{digits}g}" if abs(v) < 1e4 else f"{v:.3e}"


def mode_name(adaptive) -> str:
    return "—" if adaptive is None else ("adaptive" if adaptive else "non-adaptive")


def modes(report: dict) -> list:
    """Adaptive settings present in the report (True and/or False; None when only 'none' ran)."""
    found = sorted({c["adaptive"] for c in report["attacks"] if c["adaptive"] is not None}, reverse=True)
    return found or [None]


def defences(report: dict) -> list[str]:
    return [c["defence"] for c in report["clean"]]


def _index(report: dict) -> dict:
    return {(c["attack"], c["target"], c["defence"], c["adaptive"]): c for c in report["attacks"]}


def _cell(report, idx, attack, target, defence, mode):
    return idx.get((attack, target, defence, None if defence == "none" else mode))


def _fmt_status(c) -> str | None:
    if c is None:
        return "—"
    if c["status"] == "skipped":
        return "n/a"
    if c["status"] == "error":
        return "error"
    return None


def clean_table(report: dict):
    rows = [[c["defence"], pct(c.get("clean_accuracy")), f"{c.get('n_correct')} / {c.get('n')}"]
            if c["status"] == "done" else [c["defence"], "error", c.get("error", "")] for c in report["clean"]]
    return "Clean accuracy per defence", ["defence", "clean accuracy", "correct / n"], rows


def _attacks(report: dict) -> list[str]:
    return [a["canonical"] for a in report["components"]["attacks"]]


def success_tables(report: dict) -> list:
    """Per target setting: attack (x adaptive mode) rows, defence columns, success rate and mean L2."""
    idx = _index(report)
    out = []
    for target in report["config"]["targets"]:
        rows = []
        for attack in _attacks(report):
            for mode in modes(report):
                row = [attack + ("" if mode is None or len(modes(report)) == 1 else f" ({mode_name(mode)})")]
                for d in defences(report):
                    c = _cell(report, idx, attack, target, d, mode)
                    text = _fmt_status(c)
                    row.append(text if text else f"{pct(c['success_rate'])} ({c['n_success']}/{c['n']})")
                rows.append(row)
        title = f"Attack success rate — {target.replace('_', ' ')}"
        out.append((title, ["attack"] + defences(report), rows))
    return out


def distortion_tables(report: dict) -> list:
    """Mean L2 / mean Linf of the successful examples, per target setting."""
    idx = _index(report)
    out = []
    for target in report["config"]["targets"]:
        rows = []
        for attack in _attacks(report):
            for mode in modes(report):
                row = [attack + ("" if mode is None or len(modes(report)) == 1 else f" ({mode_name(mode)})")]
                for d in defences(report):
                    c = _cell(report, idx, attack, target, d, mode)
                    text = _fmt_status(c)
                    if text is None and c.get("l2") is None:
                        text = "no success"
                    row.append(text if text else f"{num(c['l2']['mean'])} / {num(c['linf']['mean'])}")
                rows.append(row)
        out.append((f"Mean L2 / Linf of successful examples — {target.replace('_', ' ')}",
                    ["attack"] + defences(report), rows))
    return out


def sweep_table(report: dict):
    cells = [c for c in report["robust_accuracy"] if c["status"] == "done"]
    if not cells:
        return None
    eps = cells[0]["eps"]
    rows = [[c["attack"], c["defence"], mode_name(c["adaptive"]), *[pct(v) for v in c["robust_accuracy"]]]
            for c in cells]
    return "Robust accuracy vs eps (untargeted)", ["attack", "defence", "mode", *[f"eps={e:g}" for e in eps]], rows


def metric_table(report: dict):
    if not report["metrics"]:
        return None
    rows = []
    for c in report["metrics"]:
        s = c.get("summary") or {}
        value = c.get("error", "error") if c["status"] == "error" else num(c.get("value"), 4)
        notes = "; ".join(w.split(": ", 1)[-1][:160] for w in c.get("warnings") or [])
        rows.append([c["metric"], c["defence"], str(c.get("n", "")), value, num(s.get("median"), 4) if s else "",
                     notes])
    return "Metrics (on correctly classified inputs)", ["metric", "defence", "n", "value (mean)", "median",
                                                        "warnings"], rows


def sanity_table(report: dict):
    checks = report["sanity"].get("checks") or []
    rows = [[c["name"], c["status"], c["message"], c.get("advice", "")] for c in checks]
    return "Sanity checks", ["check", "status", "message", "what to try"], rows


def plugin_table(report: dict):
    rows = [[k, v] for k, v in report["versions"].items()]
    rows += [[p["distribution"], p["version"] or "", ] for p in report["plugins"]]
    return "Versions", ["package", "version"], rows


def timing_table(report: dict):
    t = report["timings"]
    s = report["summary"]
    rows = [[k, f"{v:.2f} s"] for k, v in t.items()]
    rows.append(["cells", f"{s['cells']} ({s['run']} run, {s['resumed']} resumed, {s['skipped']} n/a, "
                          f"{s['errors']} errors)"])
    return "Timings", ["what", "value"], rows
