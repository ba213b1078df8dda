"""The machine-readable report: one dict (JSON-safe) with results, versions, config, seeds, timings.

Its layout is documented by ``schema.json`` beside this file (JSON Schema, draft 2020-12 subset)
and checked by :func:`feint.pipeline.report.validate.validate`.
"""

from __future__ import annotations

import datetime as _dt
import platform

from feint.pipeline.plan import Plan, jsonable

__all__ = ["SCHEMA_ID", "build_report"]

SCHEMA_ID = "feint-report/1"


def _versions() -> dict:
    from feint.cli import versions

    out = versions()
    out["platform"] = platform.platform()
    return out


def _plugins(plan: Plan) -> list[dict]:
    entries = [plan.framework_entry] + [a.entry for a in plan.attacks + plan.sweep_attacks]
    entries += [e for d in plan.defences for e in d.entries] + [m.entry for m in plan.metrics]
    by_dist: dict[str, dict] = {}
    for e in entries:
        if not e.get("name"):
            continue
        dist = e.get("distribution") or "(registered in-process)"
        item = by_dist.setdefault(dist, {"distribution": dist, "version": e.get("version"), "components": []})
        comp = f"{e['kind']}:{e['name']}"
        if comp not in item["components"]:
            item["components"].append(comp)
    return sorted(by_dist.values(), key=lambda d: d["distribution"])


def _components(plan: Plan) -> dict:
    import inspect

    metrics = []
    for m in plan.metrics:
        func = getattr(m.metric, "func", m.metric)
        defaults = {p.name: p.default for p in list(inspect.signature(func).parameters.values())[2:]
                    if p.default is not p.empty}
        supplied = {"random_state": plan.seed} if "random_state" in m.extra else {}
        metrics.append({"spec": m.spec, "canonical": m.canonical,
                        "params": jsonable({**defaults, **supplied, **m.metric.params}),
                        **_dist(m.entry)})
    return {
        "attacks": [{"spec": a.spec, "canonical": a.canonical, "name": a.name, "params": jsonable(a.params),
                     "norm": jsonable(a.norm), "budget": jsonable(a.budget), **_dist(a.entry)}
                    for a in plan.attacks],
        "robust_accuracy_attacks": [a.canonical for a in plan.sweep_attacks],
        "defences": [{"id": d.id, "spec": d.spec,
                      "steps": [{"spec": str(s), "params": jsonable(s.get_params()),
                                 "gradient_rule": getattr(s, "gradient_rule", None)} for s in d.steps],
                      "distributions": [_dist(e) for e in d.entries]} for d in plan.defences],
        "metrics": metrics,
    }


def _dist(entry: dict) -> dict:
    return {"distribution": entry.get("distribution"), "version": entry.get("version")}


def _cell_common(cell, r: dict) -> dict:
    out = {"id": cell.id, "defence": cell.defence.id, "status": r.get("status"), "seconds": r.get("seconds")}
    if r.get("status") == "error":
        out["error"] = r.get("error")
    if r.get("status") == "skipped":
        out["reason"] = r.get("reason")
    return out


def build_report(plan: Plan, results: dict, counts: dict, timings: dict, config_source: str) -> dict:
    """Assemble the report dict from the plan and the cell results."""
    from feint._version import __version__

    clean, attacks, sweeps, metrics = [], [], [], []
    for cell in plan.cells:
        r = results[cell.id]
        common = _cell_common(cell, r)
        if cell.kind == "clean":
            clean.append({**common, "n": r.get("n"), "n_correct": r.get("n_correct"),
                          "clean_accuracy": r.get("clean_accuracy")})
        elif cell.kind == "attack":
            attacks.append({**common, "attack": cell.attack.canonical, "attack_index": cell.attack.index,
                            "target": cell.target, "adaptive": cell.adaptive,
                            **{k: r.get(k) for k in ("n", "n_success", "success_rate", "robust_accuracy", "l2", "linf",
                                                     "mean_l0", "distances", "passes", "attack_seconds")}})
        elif cell.kind == "sweep":
            sweeps.append({**common, "attack": cell.attack.canonical, "adaptive": cell.adaptive,
                           **{k: r.get(k) for k in ("norm", "eps", "robust_accuracy", "success_rate")}})
        else:
            metrics.append({**common, "metric": cell.metric.canonical, "metric_index": cell.metric.index,
                            **{k: r.get(k) for k in ("n", "value", "summary", "values", "warnings")}})
    report = {
        "schema": SCHEMA_ID,
        "title": plan.config.get("title") or "feint evaluation",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "feint": {"version": __version__},
        "versions": _versions(),
        "plugins": _plugins(plan),
        "config_source": config_source,
        "config": jsonable(plan.config),
        "components": _components(plan),
        "seed": plan.seed,
        "model": {**jsonable(plan.model_info), "classifier": str(plan.classifier),
                  "input_shape": jsonable(plan.classifier.input_shape), "nb_classes": plan.classifier.nb_classes,
                  "clip_values": jsonable(plan.classifier.clip_values), **_dist(plan.framework_entry)},
        "data": jsonable(plan.data_info),
        "clean": clean,
        "attacks": attacks,
        "robust_accuracy": sweeps,
        "metrics": metrics,
        "sanity": {"status": "not_run", "checks": []},
        "summary": {"cells": len(plan.cells), **counts},
        "timings": jsonable(timings),
    }
    report["citations"] = citations(report)
    report["citation"] = report["citations"][0]
    return report


def _pct(v) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _param_text(comp: dict) -> str:
    """``with eps=0.2, max_iter=20 (Linf budget 0.2)``: the changed parameters and the threat budget."""
    canonical = comp.get("canonical", "")
    changed = canonical.partition("(")[2][:-1] if "(" in canonical else ""
    budget = comp.get("budget")
    budget_text = ""
    if budget:
        eps, norm = budget
        norm_text = "Linf" if norm == "inf" else (f"L{norm:g}" if isinstance(norm, (int, float)) else str(norm))
        budget_text = f", an {norm_text} budget of {eps:g}"
    return f"with {changed or 'its default parameters'}{budget_text}"


def citations(report: dict) -> list[str]:
    """Ready-to-cite sentences in the form paper 001 §3 recommends: versions, attack, parameters, result."""
    plugins = [p for p in report["plugins"] if p["distribution"] != "(registered in-process)"]
    used = ", ".join(f"{p['distribution']} {p['version']}" for p in plugins)
    clean = {c["defence"]: c for c in report["clean"]}
    n = report["data"].get("n")
    head = (f"We evaluated the robustness of the model ({report['model'].get('source')}) on {n} inputs of "
            f"{report['data'].get('source')} using feint {report['feint']['version']}"
            + (f" ({used})" if used else "") + f", seed {report['seed']}.")
    sentences = []
    params = {a["canonical"]: a for a in report["components"]["attacks"]}
    for cell in report["attacks"]:
        if cell["status"] != "done" or cell["target"] != "untargeted" or cell["defence"] != "none":
            continue
        comp = params.get(cell["attack"], {})
        with_params = _param_text(comp)
        acc = clean.get("none", {}).get("clean_accuracy")
        sentences.append(
            f"On the inputs modified by {comp.get('name', cell['attack'])} {with_params} (untargeted, no defence), "
            f"we obtained an accuracy of {_pct(cell['robust_accuracy'])} (clean accuracy {_pct(acc)}); the attack "
            f"succeeded on {_pct(cell['success_rate'])} of the correctly classified inputs.")
    if not sentences:
        return [head]
    return [f"{head} {sentences[0]}"] + [f"{head} {s}" for s in sentences[1:]]
