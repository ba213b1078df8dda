"""Running the grid: clean accuracy per defence, attack cells, robust-accuracy sweeps and metrics.

Attack cells follow paper 004 §3: the attack runs on the inputs the *defended* model classifies
correctly; targets (least likely, next, random class) come from that model's clean predictions;
success is judged on the defended model.  Adaptive cells craft the examples on the defended
classifier (gradients through the defences' rules, BPDA where they are not differentiable);
non-adaptive ones on ``classifier.without_defences()``.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np

from feint.hooks import task
from feint.norms import all_norms
from feint.pipeline.plan import Cell, Plan, jsonable

__all__ = ["run_grid"]

log = logging.getLogger("feint.pipeline")


def _stats(values) -> dict | None:
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return None
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()),
            "max": float(v.max()), "std": float(v.std())}


def _targets(rule: str, pred: np.ndarray, least: np.ndarray, k: int, seed: int, idx: np.ndarray) -> np.ndarray:
    from feint.labels import target_labels, to_categorical
    from feint.rng import SampleRandom

    if rule == "least_likely":
        return least.astype(np.int64)
    rng = SampleRandom(seed + 1, idx) if rule == "random" else None
    return target_labels(rule, to_categorical(pred, k), rng)


def _make_attack(plan: Plan, a, clf, targeted: bool, verbose: bool, **extra):
    from feint.registry import default_registry
    from feint.spec import parse_spec

    given = parse_spec(a.spec)[0].kwargs
    names = set(a.cls.param_names())
    over = {"targeted": targeted, "target": None, **extra}
    for k, v in (("random_state", plan.seed), ("batch_size", plan.config["batch_size"]), ("verbose", verbose)):
        if k not in given:
            over[k] = v
    return default_registry().create("attack", a.spec, clf, **{k: v for k, v in over.items() if k in names})


def _eligible(plan: Plan, clean: dict) -> np.ndarray:
    return np.flatnonzero(np.asarray(clean["pred"]) == plan.y)


def _run_clean(plan: Plan, cell: Cell, clean: dict | None, verbose: bool) -> dict:
    clf = cell.defence.classifier
    probs = clf.predict(plan.x, batch_size=plan.config["batch_size"])
    pred = probs.argmax(axis=1)
    ok = pred == plan.y
    return {"status": "done", "n": int(len(plan.x)), "n_correct": int(ok.sum()), "clean_accuracy": float(ok.mean()),
            "pred": pred.tolist(), "least_likely": probs.argmin(axis=1).tolist()}


def _attack_clf(cell: Cell):
    clf = cell.defence.classifier
    return clf if cell.adaptive in (True, None) else clf.without_defences()


def _run_attack(plan: Plan, cell: Cell, clean: dict, verbose: bool) -> dict:
    a = cell.attack
    targeted = cell.target != "untargeted"
    if targeted and not a.supports_targeted or not targeted and not a.supports_untargeted or \
            targeted and "targeted" not in a.cls.param_names():
        return {"status": "skipped", "reason": f"{a.name} is {'untargeted' if targeted else 'targeted'} only"}
    idx = _eligible(plan, clean)
    x, y = plan.x[idx], plan.y[idx]
    n_all = len(plan.x)
    k = plan.classifier.nb_classes
    labels = _targets(cell.target, np.asarray(clean["pred"])[idx], np.asarray(clean["least_likely"])[idx], k,
                      plan.seed, idx) if targeted else y
    if len(idx) == 0:
        return {"status": "done", "n": 0, "n_success": 0, "success_rate": None, "robust_accuracy": 0.0,
                "l2": None, "linf": None, "distances": {"l2": [], "linf": []}, "passes": {}, "attack_seconds": 0.0}
    attacker = _attack_clf(cell)
    attack = _make_attack(plan, a, attacker, targeted, verbose)
    before = attacker.counts.copy()
    t0 = time.perf_counter()
    x_adv = attack.generate(x, labels)
    seconds = time.perf_counter() - t0
    passes = (attacker.counts - before).as_dict()
    adv = cell.defence.classifier.predict(x_adv, batch_size=plan.config["batch_size"]).argmax(axis=1)
    success = adv == labels if targeted else adv != y
    norms = all_norms(x_adv - x)
    l2, linf = norms["l2"][success], norms["linf"][success]
    return {"status": "done", "n": int(len(idx)), "n_success": int(success.sum()),
            "success_rate": float(success.mean()), "robust_accuracy": float(np.sum(adv == y) / n_all),
            "l2": _stats(l2), "linf": _stats(linf), "mean_l0": float(norms["l0"][success].mean()) if success.any() else None,
            "distances": {"l2": [float(v) for v in l2], "linf": [float(v) for v in linf]},
            "success_index": [int(i) for i in idx[success]],
            "passes": passes, "attack_seconds": seconds}


def _run_sweep(plan: Plan, cell: Cell, clean: dict, verbose: bool) -> dict:
    a = cell.attack
    idx = _eligible(plan, clean)
    x, y = plan.x[idx], plan.y[idx]
    n_all = len(plan.x)
    eps_list = [float(e) for e in plan.config["robust_accuracy"]["eps"]]
    acc, rates = [], []
    attacker = _attack_clf(cell)
    for eps in eps_list:
        if len(idx) == 0:
            acc.append(0.0)
            rates.append(None)
            continue
        attack = _make_attack(plan, a, attacker, False, verbose, **{a.cls.eps_param: eps})
        adv = cell.defence.classifier.predict(attack.generate(x, y), batch_size=plan.config["batch_size"]).argmax(axis=1)
        acc.append(float(np.sum(adv == y) / n_all))
        rates.append(float(np.mean(adv != y)))
    return {"status": "done", "norm": jsonable(a.budget[1]) if a.budget else None, "eps": eps_list,
            "robust_accuracy": acc, "success_rate": rates}


def _summary(value):
    if isinstance(value, dict):
        return None, None, jsonable(value)
    arr = np.asarray(value, dtype=np.float64) if not isinstance(value, str) else None
    if arr is None:
        return None, None, str(value)
    if arr.ndim == 0:
        return (float(arr) if np.isfinite(arr) else None), None, None
    return (float(np.mean(arr)) if arr.size else None), _stats(arr), [float(v) for v in arr.ravel()]


def _run_metric(plan: Plan, cell: Cell, clean: dict, verbose: bool) -> dict:
    m = cell.metric
    idx = _eligible(plan, clean)
    limit = plan.config["metric_samples"]
    if limit is not None:
        idx = idx[:limit]
    if len(idx) == 0:
        return {"status": "done", "n": 0, "value": None, "summary": None, "values": None, "warnings": []}
    kwargs = {}
    if "y" in m.extra:
        kwargs["y"] = plan.y[idx]
    if "random_state" in m.extra:
        kwargs["random_state"] = plan.seed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = m.metric(cell.defence.classifier, plan.x[idx], **kwargs)
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    scalar, summary, values = _summary(value)
    return {"status": "done", "n": int(len(idx)), "value": scalar, "summary": summary, "values": values,
            "warnings": messages}


_RUNNERS = {"clean": _run_clean, "attack": _run_attack, "sweep": _run_sweep, "metric": _run_metric}


def run_grid(plan: Plan, store, verbose: bool = True) -> tuple[dict[str, dict], dict]:
    """Run (or, resuming, load) every cell; return ``({cell id: result}, counts)``."""
    results: dict[str, dict] = {}
    clean_of: dict[str, str] = {}
    counts = {"run": 0, "resumed": 0, "errors": 0, "skipped": 0}
    with task("pipeline", plan.config.get("title") or "evaluate", total=len(plan.cells), unit="cell",
              verbose=verbose) as overall:
        for cell in plan.cells:
            cached = store.get(cell)
            if cached is not None:
                result = cached
                counts["resumed"] += 1
            else:
                t0 = time.perf_counter()
                with task("pipeline", cell.label, total=1, unit="cell", verbose=verbose) as t:
                    try:
                        clean = results.get(clean_of.get(cell.defence.id, ""), {})
                        if cell.kind != "clean" and clean.get("status") != "done":
                            result = {"status": "error", "error": "the clean predictions with this defence failed "
                                                                  f"({clean.get('error', 'not run')})"}
                        else:
                            result = _RUNNERS[cell.kind](plan, cell, clean, verbose)
                    except Exception as exc:  # noqa: BLE001 - one failing cell is reported, the grid goes on
                        log.warning("cell %s failed", cell.label, exc_info=True)
                        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
                    t.advance()
                result["seconds"] = time.perf_counter() - t0
                store.put(cell, result)
                counts["run"] += 1
            counts["errors"] += result.get("status") == "error"
            counts["skipped"] += result.get("status") == "skipped"
            results[cell.id] = jsonable(result)
            if cell.kind == "clean":
                clean_of[cell.defence.id] = cell.id
            overall.advance()
    return results, counts
