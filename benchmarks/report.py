"""Machine description, versions, the markdown tables, ``results/<date>.json`` and the README's table."""

from __future__ import annotations

import importlib.metadata
import json
import math
import os
import platform
import re
import sys
from pathlib import Path

__all__ = ["README", "RESULTS", "machine", "markdown_tables", "update_readme", "versions", "write_results"]

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results"
BEGIN, END = "<!-- results:begin (written by python -m benchmarks) -->", "<!-- results:end -->"


def machine() -> dict:
    """What the numbers were measured on (no host name)."""
    info = {"platform": platform.platform(), "machine": platform.machine(), "python": sys.version.split()[0],
            "cpu_count": os.cpu_count()}
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    try:
        text = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
        info["cpu"] = m.group(1).strip() if m else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    try:
        m = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        info["memory_gib"] = round(int(m.group(1)) / 2**20, 1) if m else None
    except OSError:
        pass
    return info


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions(peers: dict | None = None) -> dict:
    """Versions of the numerical stack, every installed feint distribution, and the peers that ran."""
    out = {d: _version(d) for d in ("numpy", "scipy", "torch", "scikit-learn", "threadpoolctl")}
    feint = sorted({d.metadata["Name"] for d in importlib.metadata.distributions()
                    if (d.metadata["Name"] or "").lower().startswith("feint")})
    out.update({name: _version(name) for name in feint})
    if peers:
        from benchmarks.peers import DISTRIBUTIONS

        for lib in peers:
            for dist in DISTRIBUTIONS.get(lib, ()):
                out[dist] = _version(dist)
    import torch

    out["torch_threads"] = torch.get_num_threads()
    out["torch_config"] = " ".join(torch.__config__.parallel_info().split("\n")[:3]).strip()
    return out


# -- tables ---------------------------------------------------------------------------------------
def _f(v, fmt="{:.3f}", none="–") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return none
    return fmt.format(v)


def _time(s: float | None) -> str:
    if s is None:
        return "–"
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def _passes(row) -> str:
    p = row.get("full_batch_passes")
    if not p:
        return "–"
    fmt = "{:.1f}" if max(p.values()) >= 10 else "{:.2f}"
    return f"{fmt.format(p['forward'])} / {fmt.format(p['backward'])}"


def _valid(row) -> str:
    bad = []
    if not row.get("in_range", True):
        bad.append("out of range")
    if row.get("within_budget") is False:
        bad.append("over eps")
    if row.get("dtype", "float32") != "float32":
        bad.append(row["dtype"])
    return "yes" if not bad else "**no**: " + ", ".join(bad)


def _label(row) -> str:
    lib = row["library"] if row["library"] == "feint" else f"{row['library']} {row.get('version', '')}".strip()
    return lib


def attack_table(rows: list[dict]) -> list[str]:
    lines = ["| attack | library | n | time | passes F / B | ×replay (cpu) | ×floor (cpu) | success | mean L2 "
             "| mean L∞ | in range |",
             "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        name = r["key"] + (" (targeted)" if r.get("targeted") else "") + (" ¹" if r.get("defaults") else "")
        if "error" in r:
            lines.append(f"| {name} | {_label(r)} | {r['n']} | **error** | | | | | | | {_esc(r['error'][:120])} |")
            continue
        lines.append(
            f"| {name} | {_label(r)} | {r['n']} | {_time(r['wall_s'])} | {_passes(r)} "
            f"| {_f(r.get('ratio_replay_cpu'), '{:.2f}')} "
            f"| {_f(r.get('ratio_cpu'), '{:.2f}')} | {_f(r['success'] * 100, '{:.1f} %')} | {_f(r.get('mean_l2'))} "
            f"| {_f(r.get('mean_linf'))} | {_valid(r)} |")
    return lines


def metric_table(rows: list[dict]) -> list[str]:
    lines = ["| metric | library | n | time | passes F / B | ×replay (cpu) | ×floor (cpu) | value |",
             "|---|---|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['key']} | {_label(r)} | {r['n']} | **error** | | | | {_esc(r['error'][:120])} |")
            continue
        lines.append(f"| {r['key']} | {_label(r)} | {r['n']} | {_time(r['wall_s'])} | {_passes(r)} "
                     f"| {_f(r.get('ratio_replay_cpu'), '{:.2f}')} | {_f(r.get('ratio_cpu'), '{:.2f}')} "
                     f"| {_f(r.get('value'), '{:.4g}')} |")
    return lines


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_tables(results: dict) -> str:
    """The README block: how it was measured, the floor, the attack and metric tables, notes."""
    m, v, fl = results["machine"], results["versions"], results["floor"]
    load = m.get("loadavg_start")
    load_txt = f"load average {load[0]:.1f} at the start, {m['loadavg_end'][0]:.1f} at the end" if load else ""
    peers = ", ".join(f"{d} {v[d]}" for d in ("adversarial-robustness-toolbox", "torchattacks", "foolbox", "eagerpy")
                      if v.get(d))
    lines = [
        f"Run {results['started']} with `{results['command']}` in {results['duration_s'] / 60:.1f} min: "
        f"{m.get('cpu', '?')}, {m.get('cpus_available', m.get('cpu_count'))} cores available, {results['threads']} "
        f"thread(s), {load_txt}.  torch {v.get('torch')}, numpy {v.get('numpy')}, feint-core {v.get('feint-core')}"
        + (f"; peers: {peers}" if peers else "") + ".",
        "",
        f"Floor (plain torch, {fl['batch']} images): forward {fl['forward_s'] * 1e3:.2f} ms, forward + backward "
        f"{fl['forward_backward_s'] * 1e3:.2f} ms wall ({fl['forward_cpu_s'] * 1e3:.2f} / "
        f"{fl['forward_backward_cpu_s'] * 1e3:.2f} ms CPU); at the end of the run "
        f"{results['floor_end']['forward_backward_s'] * 1e3:.2f} ms forward + backward (drift check).",
        "",
    ]
    lines += attack_table(results["attacks"])
    if results.get("metrics"):
        lines += ["", *metric_table(results["metrics"])]
    notes = []
    if any(r.get("defaults") for r in results["attacks"]):
        notes.append("¹ no entry in `benchmarks/cases.py`: the attack's defaults on a few images.")
    for r in results["attacks"]:
        if r.get("note"):
            notes.append(f"{r['key']} ({r['library']}): {r['note']}.")
        if r.get("library") == "feint" and r.get("counters_match_torch") is False:
            notes.append(f"{r['key']}: feint's pass counters differ from the passes torch ran "
                         f"({r['passes']} vs {r.get('torch_passes')}).")
        same = r.get("feint_same_inputs")
        if same:
            notes.append(f"{r['key']} ({r['library']}) ran on the first {r['n']} images only; feint on the same "
                         f"images: success {same['success'] * 100:.1f} %, mean L2 {_f(same.get('mean_l2'))}, "
                         f"mean L∞ {_f(same.get('mean_linf'))}.")
        if r.get("deterministic") is False:
            notes.append(f"{r['key']} ({r['library']}): two runs with the same seed gave different outputs.")
    if notes:
        lines += ["", *[f"- {n}" for n in dict.fromkeys(notes)]]
    return "\n".join(lines)


def update_readme(block: str, path: Path = README) -> None:
    """Replace the text between the result markers of the README (append the markers when missing)."""
    text = path.read_text() if path.exists() else ""
    new = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + new + tail
    else:
        text = text.rstrip() + "\n\n" + new + "\n"
    path.write_text(text)


def write_results(results: dict) -> tuple[Path, Path]:
    """Write ``results/<date>.json`` and the README table; return both paths."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{results['date']}.json"
    path.write_text(json.dumps(_clean(results), indent=1, default=_json_default, allow_nan=False) + "\n")
    update_readme(markdown_tables(results))
    return path, README


def _clean(o):
    """JSON has no inf or nan: write them as strings."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    return o


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
