"""The sanity section of a report: :mod:`feint.sanity` applied to a finished grid.

The row checks (one-step vs iterative, black-box vs white-box) compare the attack cells of each
(defence, target, adaptive, eps) group; the probes (zero gradients, randomness, saturation, an
unbounded attack, random sampling in the eps-ball) run once per defence alternative, on the
classifier the attacks were judged on, with the inputs it classifies correctly.
"""

from __future__ import annotations

import math

import numpy as np

from feint.hooks import task
from feint.sanity import check_evaluation, probe_classifier

__all__ = ["run_sanity"]


def _rows(plan, results: dict) -> list[dict]:
    rows = []
    for cell in plan.cells:
        r = results.get(cell.id, {})
        if cell.kind != "attack" or r.get("status") != "done" or r.get("success_rate") is None:
            continue
        a = cell.attack
        success = None
        if r.get("success_index") is not None:
            success = np.zeros(len(plan.x), dtype=bool)
            success[np.asarray(r["success_index"], dtype=np.int64)] = True
        rows.append({"attack": a.canonical, "success_rate": r["success_rate"], "defence": cell.defence.id,
                     "target": cell.target, "adaptive": bool(cell.adaptive in (True, None)),
                     "eps": a.budget[0] if a.budget else None, "norm": a.budget[1] if a.budget else a.norm,
                     "single_step": bool(getattr(a.cls, "single_step", False)),
                     "threat_model": a.cls.threat_model() if hasattr(a.cls, "threat_model") else "white-box",
                     "success": success, "_n": r.get("n"), "_index": r.get("success_index"),
                     "_dist": (r.get("distances") or {}).get("linf" if (a.norm == math.inf) else "l2")})
    return rows + _at_budgets(rows, len(plan.x))


def _at_budgets(rows: list[dict], n_all: int) -> list[dict]:
    """Minimal-perturbation attacks (no eps budget, e.g. HopSkipJump, DeepFool) judged at the budgets
    of the bounded attacks in the same norm: a success counts only if its distance is within eps."""
    budgets = {(r["defence"], r["target"], r["adaptive"], r["norm"], r["eps"]) for r in rows if r["eps"] is not None}
    out = []
    for r in rows:
        if r["eps"] is not None or not r["_n"] or r["_dist"] is None or r["_index"] is None:
            continue
        dist = np.asarray(r["_dist"], dtype=np.float64)
        index = np.asarray(r["_index"], dtype=np.int64)
        for defence, target, adaptive, norm, eps in budgets:
            if (defence, target, adaptive, norm) != (r["defence"], r["target"], r["adaptive"], r["norm"]):
                continue
            within = dist <= eps * (1 + 1e-6) + 1e-7
            success = np.zeros(n_all, dtype=bool)
            success[index[within]] = True
            out.append({**r, "attack": f"{r['attack']} (successes within eps={eps:g})", "eps": eps,
                        "success_rate": float(within.sum() / r["_n"]), "success": success})
    return out


def _jsonable(check, scope: str | None) -> dict:
    d = check.as_dict()
    if scope:
        d["name"] = f"{d['name']} ({scope})"
    from feint.pipeline.plan import jsonable

    return jsonable(d)


def run_sanity(plan, results: dict, verbose: bool = True) -> list[dict]:
    """Every sanity check for the grid's results, as report dicts."""
    rows = _rows(plan, results)
    out = [_jsonable(c, None) for c in check_evaluation(rows, warn=False)]
    with task("pipeline", "sanity checks", total=len(plan.defences), unit="defence", verbose=verbose) as t:
        for d in plan.defences:
            clf = d.classifier
            ok = clf.predict(plan.x, batch_size=plan.config["batch_size"]).argmax(axis=1) == plan.y
            mine = [r for r in rows if r["defence"] == d.id and r["target"] == "untargeted" and r["adaptive"]
                    and r["success"] is not None]
            linf = [r for r in mine if r["norm"] == math.inf and r["eps"] is not None]
            eps = max((r["eps"] for r in linf), default=None)
            any_success = np.any([r["success"] for r in linf], axis=0) if linf else None
            x, y = plan.x[ok], plan.y[ok]
            if len(x):
                probes = probe_classifier(clf, x, y, eps=eps, norm=math.inf, random_samples=16,
                                          attack_success=None if any_success is None else any_success[ok],
                                          random_state=plan.seed)
                out += [_jsonable(c, f"defence {d.id}") for c in probes]
            t.advance()
    order = {"warned": 0, "passed": 1, "skipped": 2}
    return sorted(out, key=lambda c: order.get(c["status"], 3))
