"""Plots of a report, as base64 PNG data for the self-contained HTML page (matplotlib, no pyplot).

Figures are drawn with :class:`matplotlib.figure.Figure` directly, so no global backend is set
and nothing is shown on screen.  Each function returns ``(title, base64 png)`` or ``None`` when
there is nothing to plot.
"""

from __future__ import annotations

import base64
import io
import math

from feint.pipeline.report.tables import defences, mode_name, modes

__all__ = ["all_plots"]


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _grid(n: int, cols: int = 2):
    from matplotlib.figure import Figure

    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(6.2 * cols, 3.6 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def _short(spec: str, width: int = 22) -> str:
    return spec if len(spec) <= width else spec[: width - 1] + "…"


def success_plot(report: dict):
    cells = [c for c in report["attacks"] if c["status"] == "done"]
    if not cells:
        return None
    attacks = [a["canonical"] for a in report["components"]["attacks"]]
    defs = defences(report)
    panels = [(t, m) for t in report["config"]["targets"] for m in modes(report)]
    idx = {(c["attack"], c["target"], c["defence"], c["adaptive"]): c for c in cells}
    fig, axes = _grid(len(panels))
    width = 0.8 / max(len(defs), 1)
    for ax, (target, mode) in zip(axes, panels):
        for j, d in enumerate(defs):
            vals = []
            for a in attacks:
                c = idx.get((a, target, d, None if d == "none" else mode))
                vals.append(100 * c["success_rate"] if c and c["success_rate"] is not None else 0.0)
            ax.bar([i + (j - (len(defs) - 1) / 2) * width for i in range(len(attacks))], vals, width, label=_short(d))
        ax.set_xticks(range(len(attacks)), [_short(a) for a in attacks], rotation=15, ha="right", fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel("success rate (%)")
        ax.set_title(f"{target.replace('_', ' ')}" + ("" if mode is None else f" — {mode_name(mode)}"), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 5), fontsize=8,
               title="defence", title_fontsize=8)
    fig.suptitle("Attack success rate on correctly classified inputs, per defence")
    return "Success rate per attack and defence", _png(fig)


def distortion_plot(report: dict):
    """Box plots of the L2 and Linf sizes of successful examples: attacks side by side, a box per defence."""
    target = "untargeted" if "untargeted" in report["config"]["targets"] else report["config"]["targets"][0]
    mode = modes(report)[0]
    attacks = [a["canonical"] for a in report["components"]["attacks"]]
    defs = defences(report)
    idx = {(c["attack"], c["target"], c["defence"], c["adaptive"]): c for c in report["attacks"]
           if c["status"] == "done"}

    def series(a, d, norm):
        c = idx.get((a, target, d, None if d == "none" else mode))
        return (c.get("distances") or {}).get(norm, []) if c else []

    if not any(series(a, d, "l2") for a in attacks for d in defs):
        return None
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12.4, 7.0), layout="constrained")
    axes = fig.subplots(2, 1)
    width = 0.8 / max(len(defs), 1)
    for ax, norm in zip(axes, ("l2", "linf")):
        for j, d in enumerate(defs):
            data = [(i + (j - (len(defs) - 1) / 2) * width, series(a, d, norm)) for i, a in enumerate(attacks)]
            data = [(pos, v) for pos, v in data if v]
            if not data:
                continue
            parts = ax.boxplot([v for _, v in data], positions=[p for p, _ in data], widths=width * 0.85,
                               patch_artist=True, showfliers=True, flierprops={"markersize": 2},
                               medianprops={"color": "black"})
            for box in parts["boxes"]:
                box.set_facecolor(f"C{j % 10}")
            ax.plot([], [], "s", color=f"C{j % 10}", label=_short(d, 34))
        ax.set_xticks(range(len(attacks)), [_short(a, 40) for a in attacks], fontsize=8)
        ax.set_xlim(-0.5, len(attacks) - 0.5)
        ax.set_ylim(bottom=0)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_ylabel(f"{'L2' if norm == 'l2' else 'Linf'} of successful examples")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, title="defence", title_fontsize=7, ncols=min(len(defs), 5))
    label = target.replace("_", " ") + ("" if mode is None else f", {mode_name(mode)}")
    fig.suptitle(f"Distortion of successful adversarial examples ({label})")
    return "Distortion distributions", _png(fig)


def sweep_plot(report: dict):
    cells = [c for c in report["robust_accuracy"] if c["status"] == "done"]
    if not cells:
        return None
    attacks = list(dict.fromkeys(c["attack"] for c in cells))
    fig, axes = _grid(len(attacks))
    for ax, a in zip(axes, attacks):
        for k, c in enumerate(x for x in cells if x["attack"] == a):
            style = "--" if c["adaptive"] is False else "-"
            label = c["defence"] + ("" if c["adaptive"] is None else f" ({mode_name(c['adaptive'])})")
            ax.plot(c["eps"], [100 * v for v in c["robust_accuracy"]], style, marker="o", markersize=3,
                    label=_short(label, 34), color=f"C{k % 10}")
        norm = cells[0].get("norm")
        ax.set_xlabel(f"eps (L{'∞' if norm == 'inf' else norm:})" if norm is not None else "eps")
        ax.set_ylabel("robust accuracy (%)")
        ax.set_ylim(0, 105)
        ax.set_title(_short(a, 48), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Robust accuracy vs eps (untargeted)")
    return "Robust accuracy vs eps", _png(fig)


def metric_plot(report: dict):
    cells = [c for c in report["metrics"] if c["status"] == "done" and c.get("value") is not None]
    if not cells:
        return None
    metrics = list(dict.fromkeys(c["metric"] for c in cells))
    fig, axes = _grid(len(metrics), cols=3)
    for ax, m in zip(axes, metrics):
        mine = [c for c in cells if c["metric"] == m]
        err = [(c.get("summary") or {}).get("std", 0.0) for c in mine]
        ax.bar(range(len(mine)), [c["value"] for c in mine], yerr=err, color=[f"C{i % 10}" for i in range(len(mine))])
        ax.set_xticks(range(len(mine)), [_short(c["defence"], 16) for c in mine], rotation=15, ha="right", fontsize=8)
        ax.set_title(_short(m, 40), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Metrics per defence (mean ± std over inputs)")
    return "Metrics per defence", _png(fig)


def all_plots(report: dict) -> list[tuple[str, str]]:
    """Every plot that has data: ``[(title, base64 png), ...]``."""
    out = []
    for fn in (success_plot, distortion_plot, sweep_plot, metric_plot):
        item = fn(report)
        if item is not None:
            out.append(item)
    return out
