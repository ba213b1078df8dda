"""Defences on the digits CNN: clean and robust accuracy (PGD, C&W-L2; non-adaptive, BPDA, BPDA+EOT) and cost.

Run from the repository root as ``python -m benchmarks defences`` or ``python benchmarks/defences.py``
(``--help`` lists the options).  Prints three markdown tables, writes ``results/defences-<date>.json``
and the README section between ``<!-- defences:start -->`` and ``<!-- defences:end -->``.

What is measured
----------------
- Rows: every installed preprocessing defence at the parameters in :data:`ROWS`, and each pair
  from {spatial smoothing, JPEG, TVM}; an undefended row first.  Predict-time defences wrap the
  cached digits CNN (``clf.with_defences(spec)``); the fit-time ones (label smoothing, Gaussian
  augmentation) only act in training, so their row is a copy of the CNN *retrained* with the
  defence (same seed, architecture and 30 epochs; the weights are cached beside the CNN's).
- Inputs: a fixed seeded subset of the digits test set (not filtered on correctness, so clean
  accuracy means something); C&W on the first ``--n-cw`` of them.
- Non-adaptive: the attack crafted once on the undefended CNN, its outputs classified by the
  defended classifier (for a retrained row: a transfer attack from the undefended CNN).
  BPDA: the same attack run against the defended classifier itself, gradients passing through
  each defence's rule (straight-through for squeezing, median, JPEG, TVM; exact for the fit-time
  ones, which are then simply white-box on the retrained model).  BPDA+EOT: for randomised
  defences (TVM), also averaging ``--eot`` draws of the defence in every gradient (C&W: with a
  margin, ``--cw-eot``, since a minimal example found for one draw rarely survives the next).
- Attacks: PGD-Linf at each ``--pgd-eps`` (0.1, where the undefended CNN keeps about half its
  accuracy, and 0.2, the budget of the adversarial-training tests) on all the inputs; C&W-L2
  (no budget) on the first ``--n-cw``.
- Robust accuracy = the fraction of *all* evaluated inputs the defended classifier still classifies
  correctly under attack; success = the fraction of the inputs it classifies correctly when clean
  that the attack turns wrong.  TVM draws a fresh mask at every call: the attack's defence is
  seeded 0, each evaluation uses a fresh copy seeded 1 (one draw per input; the clean and the
  attacked batch of an evaluation get the same masks).
- Cost: the median over repeats of one ``transform`` call on the digits batch and on a random
  3x32x32 batch, divided by the batch size.

Nothing happens at import; :func:`main` takes ``argv`` like the other benchmark commands.
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import hashlib
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

__all__ = ["ROWS", "COST_ROWS", "main", "run"]

HERE = Path(__file__).resolve().parent
README = HERE / "README.md"
RESULTS = HERE / "results"
BEGIN, END = "<!-- defences:start -->", "<!-- defences:end -->"
TITLE = "# feint benchmarks"

#: (row label, defence spec, why these parameters) — the predict-time defences at their package
#: defaults except feature squeezing, whose default of 8 bits leaves the 17-level digits intact
ROWS: list[tuple[str, str, str]] = [
    ("featsqueeze", "featsqueeze(bit_depth=3)",
     "3 bits, as the default 8 keep every one of the digits' 17 grey levels; with floor rounding, pixels at 0 or 1 "
     "keep their level under any L-inf perturbation below 1/7, so part of its L-inf robustness is genuine, not "
     "masked gradients"),
    ("label_smoothing", "label_smoothing", "max_value=0.9; fit-time: the CNN retrained with it"),
    ("spatial_smoothing", "spatial_smoothing", "3x3 median"),
    ("gaussian_augmentation", "gaussian_augmentation(random_state=0)",
     "sigma=1, ratio=1 (the paper's); fit-time: the CNN retrained with it"),
    ("jpeg", "jpeg", "quality 50"),
    ("tvm", "tvm", "prob=0.5, lamb=0.03, 100 iterations; randomised"),
    ("spatial_smoothing+jpeg", "spatial_smoothing+jpeg", ""),
    ("spatial_smoothing+tvm", "spatial_smoothing+tvm", ""),
    ("jpeg+tvm", "jpeg+tvm", ""),
]
#: the rows whose transform cost is measured (single preprocessors and the pairs)
COST_ROWS = [label for label, _, _ in ROWS]

PGD = "pgd(norm=inf, eps={eps}, eps_step={step}, max_iter=20, num_random_init=1)"
CW = ("carlini_l2(targeted=False, confidence=0.0, learning_rate=0.1, binary_search_steps=3, max_iter=50, "
      "initial_const=1.0)")
#: C&W against randomised defences: a margin, or the minimal examples do not survive a fresh draw
CW_EOT = ("carlini_l2(targeted=False, confidence=5.0, learning_rate=0.1, binary_search_steps=3, max_iter=50, "
          "initial_const=1.0)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks defences", description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200, help="test images for clean accuracy and PGD (default 200)")
    p.add_argument("--n-cw", type=int, default=100, help="test images for C&W, the first of the n (default 100)")
    p.add_argument("--pgd-eps", default="0.1,0.2", help="comma-separated L-inf budgets of PGD (default 0.1,0.2); "
                                                       "eps_step is eps/10")
    p.add_argument("--pgd", default=PGD, help=f"PGD spec template (default {PGD})")
    p.add_argument("--cw", default=CW, help=f"C&W spec (default {CW})")
    p.add_argument("--cw-eot", default=CW_EOT, help=f"C&W spec of the BPDA+EOT column (default {CW_EOT})")
    p.add_argument("--eot", type=int, default=8, help="EOT draws per PGD gradient for randomised defences (default 8)")
    p.add_argument("--eot-cw", type=int, default=4, help="EOT draws per C&W gradient (default 4; C&W takes ~7x "
                                                          "PGD's gradients)")
    p.add_argument("--only", default=None, help="comma-separated row labels to run (default: all)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    p.add_argument("--repeats", type=int, default=7, help="most timed transform calls per cost cell (default 7)")
    p.add_argument("--cost-batch", type=int, default=64, help="images in the random 3x32x32 batch (default 64)")
    p.add_argument("--no-cost", action="store_true", help="skip the cost table")
    p.add_argument("--no-write", action="store_true", help="print only; write no JSON and leave the README")
    p.add_argument("--seed", type=int, default=0, help="seed of the test subset (default 0)")
    return p


def _attacks(args) -> list[dict]:
    """The attack columns: key, title, spec, the spec and EOT draws of the +EOT column, which subset."""
    out = []
    for eps in (float(e) for e in args.pgd_eps.split(",") if e.strip()):
        spec = args.pgd.format(eps=f"{eps:g}", step=f"{eps / 10:g}")
        out.append({"key": f"pgd_{eps:g}", "family": "pgd", "title": f"PGD eps={eps:g}", "spec": spec,
                    "template": args.pgd.format(eps="eps", step="eps/10"),
                    "eot_spec": spec, "eot": args.eot, "subset": "n"})
    out.append({"key": "cw", "family": "cw", "title": "C&W-L2", "spec": args.cw, "eot_spec": args.cw_eot,
                "eot": args.eot_cw, "subset": "n_cw"})
    return out


# -- set-up -----------------------------------------------------------------------------------------
def _limit_threads(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    import torch

    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:  # pragma: no cover - comes with scikit-learn
        pass


def _say(msg: str) -> None:
    print(msg, flush=True)


def _defence(spec: str, seed: int | None):
    """The defence object of ``spec`` with every randomised step seeded ``seed`` (fresh stream)."""
    import feint
    from feint.contracts.preprocessor import PreprocessorChain

    obj = feint.create("defence", spec)
    steps = obj.steps if isinstance(obj, PreprocessorChain) else [obj]
    for s in steps:
        if "random_state" in s.param_names() and s.random_state is None and seed is not None:
            s.set_params(random_state=seed)
    return obj


def _randomised(spec: str) -> bool:
    from feint.contracts.preprocessor import Preprocessor

    obj = _defence(spec, None)
    return bool(obj.randomised and obj.apply_predict) if isinstance(obj, Preprocessor) else False


def _predict_time(spec: str) -> bool:
    return bool(_defence(spec, None).apply_predict)


def _with_eot(clf, draws: int):
    """A shallow copy of the classifier averaging ``draws`` defence draws in every gradient."""
    out = copy.copy(clf)
    out.eot_samples = int(draws)
    return out


def _retrained(spec: str):
    """The digits CNN retrained from the same seed with the fit-time defence ``spec`` (cached on disk)."""
    import torch

    from feint_framework_torch.testing import cache_dir, digits_cnn

    torch.manual_seed(0)
    clf, (x_tr, y_tr), _ = digits_cnn(defences=spec, train=False)
    key = hashlib.sha1(f"digits-cnn-v1-fit-{spec}-0-30-{torch.__version__}".encode()).hexdigest()[:12]
    path = cache_dir() / f"digits_cnn_fit_{key}.pt"
    if path.exists():
        clf.model.load_state_dict(torch.load(path, weights_only=True))
        return clf, False
    clf.fit(x_tr, y_tr, batch_size=64, nb_epochs=30, random_state=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    torch.save(clf.model.state_dict(), tmp)
    os.replace(tmp, path)
    clf.reset_counts()
    return clf, True


# -- measurements -----------------------------------------------------------------------------------
def _attack(spec: str, clf, x, y):
    import feint

    atk = feint.create("attack", spec, clf, batch_size=max(1, len(x)), random_state=0, verbose=False)
    t0 = time.perf_counter()
    x_adv = atk.generate(x, y)
    return x_adv, time.perf_counter() - t0


def _evaluate(make_eval, x, x_adv, y) -> dict:
    """Robust accuracy over all inputs and success on those classified correctly when clean."""
    import numpy as np

    clean_ok = make_eval().predict(x, batch_size=len(x)).argmax(1) == y
    adv_ok = make_eval().predict(x_adv, batch_size=len(x)).argmax(1) == y
    l2 = np.sqrt(((x_adv.astype(np.float64) - x) ** 2).reshape(len(x), -1).sum(1))
    broken = clean_ok & ~adv_ok
    return {
        "n": int(len(x)),
        "clean_accuracy": float(clean_ok.mean()),
        "robust_accuracy": float(adv_ok.mean()),
        "success_on_correct": float(broken.sum() / clean_ok.sum()) if clean_ok.any() else None,
        "median_l2_success": float(np.median(l2[broken])) if broken.any() else None,
    }


def _transform_cost(obj, x, y, repeats: int, budget_s: float = 3.0) -> float:
    """Median seconds per sample of ``obj.transform`` on ``x`` (fewer repeats once ``budget_s`` is spent)."""
    times, spent = [], 0.0
    obj.transform(x, y)  # warm-up (imports, first allocation)
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        obj.transform(x, y)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if spent > budget_s and len(times) >= 3:
            break
    return statistics.median(times) / len(x)


def _in_context(obj, channel_index: int = 1, clip_values=(0.0, 1.0)):
    """``obj`` with the context parameters it leaves at None set (channels first, range (0, 1))."""
    from feint.contracts.preprocessor import PreprocessorChain

    for s in (obj.steps if isinstance(obj, PreprocessorChain) else [obj]):
        ctx = {k: v for k, v in (("channel_index", channel_index), ("clip_values", clip_values))
               if k in s.param_names() and getattr(s, k) is None}
        if ctx:
            s.set_params(**ctx)
    return obj


def _costs(rows, x_digits, clf, args) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(args.seed)
    x_rgb = rng.random((args.cost_batch, 3, 32, 32), dtype=np.float32)
    out = []
    for label, spec, _ in rows:
        entry = {"label": label, "spec": spec}
        obj = _defence(spec, 0)
        entry["applied"] = ("fit+predict" if obj.apply_fit and obj.apply_predict
                            else "predict" if obj.apply_predict else "fit")
        entry["gradient_rule"] = obj.gradient_rule
        entry["randomised"] = bool(obj.randomised)
        for name, x in (("digits", x_digits), ("rgb32", x_rgb)):
            y = np.eye(10, dtype=np.float32)[np.arange(len(x)) % 10]
            # the digits batch gets the classifier's context; the colour batch an explicit one
            prep = _defence(spec, 0).for_classifier(clf) if name == "digits" else _in_context(_defence(spec, 0))
            try:
                entry[f"{name}_s_per_sample"] = _transform_cost(prep, x, y, args.repeats)
            except Exception as exc:  # noqa: BLE001 - a failing cell is reported, not fatal
                entry[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
        out.append(entry)
        _say(f"cost {label:24s} digits {_us(entry.get('digits_s_per_sample'))}/sample, "
             f"3x32x32 {_us(entry.get('rgb32_s_per_sample'))}/sample")
    return out


def run(args) -> dict:
    """Run the benchmark described by the parsed ``args``; return the results (what the JSON holds)."""
    import numpy as np
    import torch

    from feint_framework_torch.testing import digits_cnn

    started = time.time()
    load_start = os.getloadavg()
    rows = [r for r in ROWS if _available(r[1])]
    missing = [r[0] for r in ROWS if r not in rows]
    if args.only:
        wanted = set(args.only.split(","))
        rows = [r for r in rows if r[0] in wanted]
    for m in missing:
        _say(f"skipping {m}: its defence plugin is not installed")

    base, _, (x_test, y_test) = digits_cnn()
    base = base.without_defences()
    base.model.eval()
    rng = np.random.default_rng(args.seed)
    idx = np.sort(rng.choice(len(x_test), size=min(args.n, len(x_test)), replace=False))
    x, y = np.ascontiguousarray(x_test[idx]), y_test[idx].astype(np.int64)
    n_cw = min(args.n_cw, len(x))
    xc, yc = x[:n_cw], y[:n_cw]
    _say(f"digits CNN, {len(x)} test images (seed {args.seed}; C&W on the first {n_cw}), "
         f"{args.threads} thread(s), load average {load_start[0]:.1f}")

    attacks = _attacks(args)
    subsets = {"n": (x, y), "n_cw": (xc, yc)}
    # non-adaptive examples: crafted once, on the undefended model
    crafted = {}
    undefended = {"label": "none", "spec": "none", "kind": "undefended", "note": "",
                  "clean_accuracy": _evaluate(lambda: base, x, x, y)["clean_accuracy"]}
    for atk in attacks:
        xs, ys = subsets[atk["subset"]]
        crafted[atk["key"]], secs = _attack(atk["spec"], base, xs, ys)
        undefended[atk["key"]] = {"non_adaptive": _evaluate(lambda: base, xs, crafted[atk["key"]], ys)
                                  | {"seconds": secs}}
    results_rows = [undefended]
    _say(_progress(undefended, attacks))

    for label, spec, note in rows:
        t_row = time.perf_counter()
        row = {"label": label, "spec": spec, "note": note}
        randomised = _randomised(spec)
        if _predict_time(spec):
            row["kind"] = "preprocessor"
            attacked = base.with_defences(_defence(spec, 0))

            def make_eval(spec=spec):
                return base.with_defences(_defence(spec, 1))
        else:
            model, row["retrained_now"] = _retrained(spec)
            row["kind"] = "training (retrained)"
            attacked = model

            def make_eval(model=model):
                return model
        row["clean_accuracy"] = _evaluate(make_eval, x, x, y)["clean_accuracy"]
        for atk in attacks:
            xs, ys = subsets[atk["subset"]]
            cell = {"non_adaptive": _evaluate(make_eval, xs, crafted[atk["key"]], ys)}
            x_adv, secs = _attack(atk["spec"], attacked, xs, ys)
            cell["bpda"] = _evaluate(make_eval, xs, x_adv, ys) | {"seconds": secs}
            if randomised:
                fresh = _with_eot(base.with_defences(_defence(spec, 0)), atk["eot"])
                x_adv, secs = _attack(atk["eot_spec"], fresh, xs, ys)
                cell["bpda_eot"] = (_evaluate(make_eval, xs, x_adv, ys)
                                    | {"seconds": secs, "eot_samples": atk["eot"], "spec": atk["eot_spec"]})
            row[atk["key"]] = cell
        row["seconds"] = time.perf_counter() - t_row
        results_rows.append(row)
        _say(_progress(row, attacks))

    costs = [] if args.no_cost else _costs(rows, x, base, args)
    load_end = os.getloadavg()
    return {
        "benchmark": "defences",
        "date": _dt.date.today().isoformat(),
        "started": _dt.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "duration_s": time.time() - started,
        "command": "python -m benchmarks defences " + " ".join(args.argv),
        "machine": _machine() | {"loadavg_start": list(load_start), "loadavg_end": list(load_end)},
        "versions": _versions(),
        "threads": args.threads,
        "n": int(len(x)), "n_cw": int(n_cw), "subset_seed": args.seed, "test_indices": idx.tolist(),
        "attacks": attacks, "eot": args.eot, "eot_cw": args.eot_cw, "cost_batch": args.cost_batch,
        "rows": results_rows,
        "costs": costs,
        "torch_threads": torch.get_num_threads(),
    }


def _available(spec: str) -> bool:
    """Whether every defence of ``spec`` is installed (and the spec valid)."""
    from feint.errors import FeintError

    try:
        _defence(spec, None)
        return True
    except FeintError:
        return False


# -- report -----------------------------------------------------------------------------------------
def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}"


def _us(s) -> str:
    if s is None:
        return "–"
    return f"{s * 1e6:.1f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def _cell(c: dict | None) -> str:
    if not c:
        return "–"
    return f"{_pct(c['robust_accuracy'])} ({_pct(c['success_on_correct'])})"


def _progress(row: dict, attacks) -> str:
    parts = [f"{row['label']:22s} clean {_pct(row['clean_accuracy'])}"]
    for atk in attacks:
        c = row[atk["key"]]
        parts.append(f"{atk['key']} non {_cell(c.get('non_adaptive'))} bpda {_cell(c.get('bpda'))}"
                     + (f" eot {_cell(c.get('bpda_eot'))}" if "bpda_eot" in c else ""))
    return " | ".join(parts) + (f"  ({row['seconds']:.1f}s)" if "seconds" in row else "")


def _label(row: dict) -> str:
    return "none" if row["spec"] == "none" else f"`{row['spec']}`"


def _l2(c: dict | None) -> str:
    v = c.get("median_l2_success") if c else None
    return "–" if v is None else f"{v:.2f}"


#: points of robust accuracy between the non-adaptive and the best adaptive cell that a finding reports
GAP = 20.0


def _findings(results: dict) -> tuple[list[str], list[str], list[str]]:
    """Three lists of rows: non-adaptive robust accuracy above the best adaptive one by >= GAP points;
    an adaptive cell above the non-adaptive one by >= GAP / 4 points; the lowest cell below the
    undefended CNN's robust accuracy (for attacks that leave the undefended CNN above 0)."""
    overstated, weaker, worse = [], [], []
    base = next((r for r in results["rows"] if r["spec"] == "none"), None)
    for r in results["rows"]:
        if r["spec"] == "none":
            continue
        over, weak, below = [], [], []
        for a in results["attacks"]:
            c = r[a["key"]]
            cells = {k: c[k]["robust_accuracy"] for k in ("bpda", "bpda_eot") if k in c}
            non = c["non_adaptive"]["robust_accuracy"]
            if cells and 100 * (non - min(cells.values())) >= GAP:
                over.append(f"{a['title']} {_pct(non)} → {_pct(min(cells.values()))}")
            weak += [f"{a['title']} {'BPDA' if k == 'bpda' else 'BPDA+EOT'} {_pct(v)} vs {_pct(non)}"
                     for k, v in cells.items() if 100 * (v - non) >= GAP / 4]
            ref = base[a["key"]]["non_adaptive"]["robust_accuracy"] if base else 0.0
            low = min([non, *cells.values()])
            if ref > 0 and low < ref:
                below.append(f"{a['title']} {_pct(low)} vs {_pct(ref)}")
        for out, found in ((overstated, over), (weaker, weak), (worse, below)):
            if found:
                out.append(f"`{r['spec']}` ({', '.join(found)})")
    return overstated, weaker, worse


def _margin(spec: str) -> str:
    found = re.search(r"confidence=([0-9.eE+-]+)", spec)
    return f" (κ={float(found.group(1)):g})" if found else ""


def markdown(results: dict) -> str:
    """The README section: set-up, the PGD and C&W tables, notes, the cost table."""
    m, v = results["machine"], results["versions"]
    ls, le = m["loadavg_start"], m["loadavg_end"]
    attacks = results["attacks"]
    pgds = [a for a in attacks if a["family"] == "pgd"]
    cws = [a for a in attacks if a["family"] == "cw"]
    eot_rows = [r for r in results["rows"] if any("bpda_eot" in r.get(a["key"], {}) for a in attacks)]
    lines = [
        "## Defences (`python -m benchmarks defences`)",
        "",
        f"Run {results['started']} with `{results['command'].strip()}` in {results['duration_s'] / 60:.1f} min: "
        f"{m.get('cpu', '?')}, {m.get('cpus_available', m.get('cpu_count'))} cores available, "
        f"{results['threads']} thread(s).  The machine was shared with other jobs (load average {ls[0]:.1f} at "
        f"the start, {le[0]:.1f} at the end, on {m.get('cpu_count')} cores): times are indicative.  "
        f"torch {v.get('torch')}, numpy {v.get('numpy')}, scipy {v.get('scipy')}, Pillow {v.get('pillow')}, "
        f"feint-core {v.get('feint-core')}.",
        "",
        f"Model: the cached digits CNN (`feint_framework_torch.testing.digits_cnn()`, 98.4 % test accuracy); "
        f"{results['n']} test images drawn with seed {results['subset_seed']}, correct or not (C&W: the first "
        f"{results['n_cw']} of them).  Predict-time defences wrap the CNN (`clf.with_defences(spec)`); fit-time ones "
        "(label smoothing, Gaussian augmentation) are the CNN retrained with the defence (same seed, "
        "architecture and 30 epochs).",
        "",
        "**Robust accuracy: % of ALL evaluated inputs that the defended model still classifies correctly under "
        "attack**; in brackets the attack's success, % of the inputs the defended model classifies correctly "
        "when clean that it gets wrong under attack.  *non-adaptive*: crafted on the undefended CNN, then "
        "classified by the defended model (for retrained rows: a transfer attack); *BPDA*: crafted on the "
        "defended classifier itself, gradients through each defence's rule (straight-through for squeezing, "
        "median, JPEG, TVM; exact for the fit-time defences, i.e. white-box on the retrained CNN); *+EOT*: "
        "randomised defences only, also averaging the gradient over several defence draws.",
        "",
    ]
    if pgds:
        lines += [f"PGD-L∞, `{pgds[0]['template']}` at the eps of each column, +EOT with "
                  f"{pgds[0]['eot']} draws per gradient; {results['n']} inputs.", ""]
        head = "| defence | kind | clean acc. |" + "".join(
            f" {a['title']} non-adaptive | {a['title']} BPDA | {a['title']} BPDA+EOT |" for a in pgds)
        lines += [head, "|---|---|--:|" + "--:|" * (3 * len(pgds))]
        for r in results["rows"]:
            cells = "".join(f" {_cell(r[a['key']].get('non_adaptive'))} | {_cell(r[a['key']].get('bpda'))} "
                            f"| {_cell(r[a['key']].get('bpda_eot'))} |" for a in pgds)
            lines.append(f"| {_label(r)} | {r['kind']} | {_pct(r['clean_accuracy'])} |{cells}")
        lines.append("")
    for a in cws:
        lines += [f"C&W-L2 (minimal perturbation, no budget), `{a['spec']}`; the +EOT column (randomised "
                  f"defences) runs `{a['eot_spec']}` with {a['eot']} draws per gradient; {results['n_cw']} inputs.  "
                  "Median L2 of the examples that succeed on the defended model.", "",
                  f"| defence | clean acc. | non-adaptive | BPDA | BPDA+EOT{_margin(a['eot_spec'])} | median L2 non-adaptive "
                  "| median L2 BPDA | median L2 +EOT |",
                  "|---|--:|--:|--:|--:|--:|--:|--:|"]
        for r in results["rows"]:
            c = r[a["key"]]
            clean = c["non_adaptive"]["clean_accuracy"]
            lines.append(f"| {_label(r)} | {_pct(clean)} | {_cell(c.get('non_adaptive'))} | {_cell(c.get('bpda'))} "
                         f"| {_cell(c.get('bpda_eot'))} | {_l2(c.get('non_adaptive'))} | {_l2(c.get('bpda'))} "
                         f"| {_l2(c.get('bpda_eot'))} |")
        lines.append("")
    notes = ["The undefended row's non-adaptive cells are the white-box attack on the CNN itself."]
    if eot_rows:
        notes.append("TVM draws a fresh random mask at every call: the attacked classifier's TVM is seeded 0, every "
                     "evaluation uses a fresh copy seeded 1 (one draw per input, the same masks for the clean and "
                     "the attacked batch), so these rows move by a few points between seeds.")
    overstated, weaker, worse = _findings(results)
    if overstated:
        notes.append("**Non-adaptive evaluation overstates robustness** (robust accuracy non-adaptive → best "
                     f"adaptive, ≥ {GAP:g} points): " + "; ".join(overstated) + ".")
    if weaker:
        notes.append(f"**Adaptive cells above the non-adaptive one** (≥ {GAP / 4:g} points): " + "; ".join(weaker)
                     + ".  Against a randomised defence a minimal-perturbation example found for one draw (C&W, "
                     "κ=0) rarely survives a fresh one; a margin and EOT (the +EOT column) fix most of it.  "
                     "The honest figure is the lowest cell of a row.")
    if worse:
        notes.append("**Below the undefended CNN** (lowest cell of the row vs the undefended white-box attack, "
                     "mostly the clean accuracy the defence costs): " + "; ".join(worse) + ".")
    for r in results["rows"]:
        if r["spec"] != "none" and r.get("note"):
            notes.append(f"`{r['spec']}`: {r['note']}.")
    lines += [*[f"- {t}" for t in notes]]
    if results.get("costs"):
        lines += [
            "",
            "**Per-sample cost of each preprocessor**: median over repeats of one `transform` call, divided by the "
            f"batch size; digits: the {results['n']} 1x8x8 test images at once, 3x32x32: {results['cost_batch']} "
            "uniform random images (channels first, range (0, 1)).  Label smoothing transforms one-hot labels "
            "only; Gaussian augmentation returns twice the samples.",
            "",
            "| preprocessor | applied at | gradient rule | randomised | digits 1x8x8 / sample | 3x32x32 / sample |",
            "|---|---|---|---|--:|--:|",
        ]
        for c in results["costs"]:
            cells = [_us(c.get(f"{k}_s_per_sample")) if f"{k}_error" not in c
                     else "error: " + _esc(c[f"{k}_error"])[:80] for k in ("digits", "rgb32")]
            lines.append(f"| `{c['spec']}` | {c['applied']} | {c['gradient_rule']} | "
                         f"{'yes' if c['randomised'] else 'no'} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def update_readme(block: str, path: Path = README) -> None:
    """Replace the defences section of the README (append it, or create the file, when missing)."""
    text = path.read_text() if path.exists() else f"{TITLE}\n"
    new = f"{BEGIN}\n{block}\n{END}"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + new + tail
    else:
        text = text.rstrip() + "\n\n" + new + "\n"
    path.write_text(text)


def _machine() -> dict:
    info = {"platform": platform.platform(), "python": sys.version.split()[0], "cpu_count": os.cpu_count()}
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        info["cpu"] = found.group(1).strip() if found else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    return info


def _versions() -> dict:
    import importlib.metadata as md

    out = {}
    for dist in ("numpy", "scipy", "torch", "pillow"):
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = None
    for d in md.distributions():
        name = d.metadata["Name"] or ""
        if name.startswith("feint-core") or name.startswith("feint-defence") or name in (
                "feint-attack-pgd", "feint-attack-carlini-l2", "feint-framework-torch"):
            out[name] = d.version
    return out


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, float) and not math.isfinite(o):
        return str(o)
    return o


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    _limit_threads(args.threads)
    results = run(args)
    block = markdown(results)
    print()
    print(block)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"defences-{results['date']}.json"
        path.write_text(json.dumps(_clean(results), indent=1, allow_nan=False) + "\n")
        update_readme(block)
        print(f"\nwrote {path} and the defences section of {README}")
    return 0


if __name__ == "__main__":  # python benchmarks/defences.py, or python -m benchmarks defences
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
