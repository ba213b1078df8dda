"""Every installed feint attack and metric on the digits CNN: time, passes, ratio to the floor, strength.

Run ``python -m benchmarks`` (or ``python -m benchmarks attacks``, or this file as a script) from
the repository root; ``--peers`` adds ART, torchattacks and foolbox rows at the same parameters.
See ``benchmarks/README.md`` for the columns.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import math
import signal
import statistics
import time
import traceback
from collections.abc import Callable
from typing import Any

__all__ = ["main", "run"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--peers", action="store_true", help="also run ART, torchattacks and foolbox (when installed)")
    p.add_argument("--only", default=None, help="comma-separated fnmatch patterns of row keys (e.g. 'pgd*,fgsm')")
    p.add_argument("--skip", default=None, help="comma-separated fnmatch patterns of row keys to leave out")
    p.add_argument("--libraries", default=None, help="comma-separated libraries to run (feint,art,torchattacks,foolbox)")
    p.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    p.add_argument("--n", type=int, default=256, help="batch size of the full-batch rows (default 256)")
    p.add_argument("--repeats", type=int, default=None, help="most timed runs per row (default: per row, 1-15)")
    p.add_argument("--row-seconds", type=float, default=40.0,
                   help="stop repeating a row once its runs took this long (default 40)")
    p.add_argument("--timeout", type=float, default=600.0,
                   help="give up a row (its runs together) after this many seconds (default 600)")
    p.add_argument("--no-metrics", action="store_true", help="attacks only")
    p.add_argument("--no-write", action="store_true", help="print the table only; write no JSON, leave the README")
    p.add_argument("--list", action="store_true", help="list the rows and exit")
    return p


def _selected(key: str, only, skip) -> bool:
    if only and not any(fnmatch.fnmatch(key, pat) for pat in only):
        return False
    return not (skip and any(fnmatch.fnmatch(key, pat) for pat in skip))


class RowTimeout(BaseException):
    """A row ran past ``--timeout`` (a BaseException, so that a library's ``except Exception`` cannot swallow it)."""


@contextlib.contextmanager
def _deadline(seconds: float | None):
    """Raise :class:`RowTimeout` in the main thread after ``seconds`` (Unix; a no-op elsewhere or for None)."""
    if not seconds or not hasattr(signal, "SIGALRM"):
        yield
        return

    def fire(signum, frame):
        raise RowTimeout(f"did not finish in {seconds:.0f} s (--timeout)")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _timed(fn: Callable[..., Any], counter: Callable[[], Any], repeats: int, row_seconds: float,
           timeout: float | None = None, prepare: Callable[[], Any] | None = None, replayer=None):
    """Run ``fn`` up to ``repeats`` times (fewer once ``row_seconds`` are spent).

    Returns outputs, wall and CPU seconds, passes, and per run the ``(wall, cpu)`` seconds of a
    plain-torch replay of that run's model calls, taken right after it (``replayer``; None
    without one).  With ``prepare``, each run is ``fn(prepare())`` and only ``fn`` is timed
    (e.g. a fresh attack object is built untimed, then only ``generate`` is timed).
    """
    with _deadline(timeout):
        return _timed_runs(fn, counter, repeats, row_seconds, prepare, replayer)


def _timed_runs(fn, counter, repeats, row_seconds, prepare, replayer=None):
    outs, wall, cpu, passes, replays = [], [], [], [], []
    spent = 0.0
    for _ in range(max(1, repeats)):
        args = (prepare(),) if prepare is not None else ()
        before = counter()
        if replayer is not None:
            replayer.start()
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn(*args)
        c1, w1 = time.process_time(), time.perf_counter()
        passes.append(counter() - before)
        outs.append(out)
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
        if replayer is not None:
            replays.append(replayer.measure())
        spent += w1 - w0
        if spent + (w1 - w0) > row_seconds:
            break
    return outs, wall, cpu, passes, (replays or None)


def _strength(batch, x_adv, labels, targeted: bool, budget) -> dict:
    """Success, norms of the successful examples, range and budget checks (the harness's, for every library)."""
    import numpy as np
    import torch

    from feint.norms import lp_norm

    x = batch.x[:len(x_adv)]
    with torch.no_grad():
        pred = batch.model(torch.from_numpy(np.ascontiguousarray(x_adv, dtype=np.float32))).argmax(1).numpy()
    success = pred == labels if targeted else pred != labels
    delta = x_adv.astype(np.float64) - x.astype(np.float64)
    l2, linf = lp_norm(delta, 2), lp_norm(delta, np.inf)
    tol = 1e-5
    in_range = bool(np.isfinite(x_adv).all() and x_adv.min() >= 0.0 - tol and x_adv.max() <= 1.0 + tol)
    within = None
    if budget is not None:
        eps, norm = budget
        within = bool((lp_norm(delta, norm) <= eps * (1 + 1e-4) + 1e-6).all())
    ok = success.astype(bool)
    return {
        "success": float(ok.mean()),
        "mean_l2": float(l2[ok].mean()) if ok.any() else None,
        "mean_linf": float(linf[ok].mean()) if ok.any() else None,
        "median_l2": float(np.median(l2[ok])) if ok.any() else None,
        "in_range": in_range, "range": [float(x_adv.min()), float(x_adv.max())],
        "within_budget": within, "dtype": str(x_adv.dtype),
    }


def _summarise(row: dict, wall, cpu, passes, floor, n_full: int, use_ratio: bool, scale: dict,
               replays=None) -> None:
    """Medians of the timed runs, the passes of the first run, and the median ratios to what the passes cost.

    Two measures of that cost: the floor (calibrated once, times ``scale``, the load factor
    measured right before and right after the row, geometric mean) and, per run, the replay of
    that run's own model calls right after it (``replays``: ``(wall, cpu)`` per run).
    """
    p = passes[0]
    row["runs"] = len(wall)
    row["wall_s"] = statistics.median(wall)
    row["cpu_s"] = statistics.median(cpu)
    row["wall_all"] = wall
    row["passes"] = p.as_dict()
    row["full_batch_passes"] = {"forward": p.forward_samples / n_full, "backward": p.backward_samples / n_full}
    row["passes_vary"] = any(q.as_dict() != p.as_dict() for q in passes)
    row["floor_scale"] = scale
    row["floor_wall_s"] = floor.cost(p, "wall") * scale["wall"]
    row["floor_cpu_s"] = floor.cost(p, "cpu") * scale["cpu"]
    for clock, times in (("wall", wall), ("cpu", cpu)):
        costs = [floor.cost(q, clock) for q in passes]
        ok = use_ratio and all(c > 0 for c in costs)
        row[f"ratio_{clock}"] = statistics.median(t / (c * scale[clock]) for t, c in zip(times, costs)) if ok else None
        row[f"ratio_{clock}_unscaled"] = statistics.median(t / c for t, c in zip(times, costs)) if ok else None
    row["x_fwd_bwd"] = row["wall_s"] / (floor.forward_backward("wall") * scale["wall"])
    if replays and use_ratio and all(r[1] > 0 for r in replays):
        row["replay_wall_all"] = [r[0] for r in replays]
        row["replay_cpu_all"] = [r[1] for r in replays]
        for k, (clock, times) in enumerate((("wall", wall), ("cpu", cpu))):
            row[f"replay_{clock}_s"] = statistics.median(r[k] for r in replays)
            row[f"ratio_replay_{clock}"] = statistics.median(t / r[k] for t, r in zip(times, replays))


def _feint_attack_row(case, batch, clf, counting, floor, args) -> dict:
    import numpy as np

    import feint
    from benchmarks.floor import Passes

    n = min(case.n, len(batch.x))
    x, y = batch.x[:n], (batch.targets if case.targeted else batch.y)[:n]
    params = {**case.params}
    if case.targeted:
        params["targeted"] = True
    params = {"batch_size": n, "random_state": 0, "verbose": False, **params}
    row = {"key": case.key, "attack": case.attack, "library": "feint", "n": n, "targeted": case.targeted,
           "params": case.params, "note": case.note, "defaults": case.defaults}
    try:
        probe = feint.create("attack", case.attack, clf, **params)
        row["spec"] = str(probe)
        row["class"] = type(probe).__name__
        torch_before = []

        def once(attack):
            torch_before.append(counting.snapshot())
            out = attack.generate(x, y)
            torch_before[-1] = counting.snapshot() - torch_before[-1]
            return out

        outs, wall, cpu, passes, replays = _timed(
            once, lambda: Passes.of(clf.counts), args.repeats or case.repeats, args.row_seconds, args.timeout,
            prepare=lambda: feint.create("attack", case.attack, clf, **params), replayer=args.replayer)
    except (Exception, RowTimeout) as exc:  # noqa: BLE001 - a failing row is reported, not fatal
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    _summarise(row, wall, cpu, passes, floor, args.n, case.ratio, args.scale(), replays)
    row["counters_match_torch"] = all(a.as_dict() == b.as_dict() for a, b in zip(passes, torch_before))
    if not row["counters_match_torch"]:
        row["torch_passes"] = torch_before[0].as_dict()
    row["deterministic"] = all(np.array_equal(outs[0], o, equal_nan=True) for o in outs[1:]) if len(outs) > 1 else None
    row.update(_strength(batch, outs[0], y, case.targeted, case.budget))
    args.feint_outputs[case.key] = outs[0]
    return row


def _seeded(run, x, y):
    """One peer run on copies of ``x, y`` after seeding every generator the peers draw from.

    torch's, numpy's global one and Python's ``random`` (ART's universal perturbation orders
    the images with ``random.sample``), so a peer's row is the same on every run.
    """
    import random

    import numpy as np
    import torch

    def once():
        torch.manual_seed(0)
        np.random.seed(0)  # noqa: NPY002 - the peers draw from numpy's global generator
        random.seed(0)
        return run(x.copy(), y.copy())

    return once


def _peer_attack_row(lib, version, build, case, batch, ctx, floor, args) -> dict:
    import numpy as np

    n = min(case.peer_n.get(lib, case.n), len(batch.x))
    x, y = batch.x[:n], (batch.targets if case.targeted else batch.y)[:n]
    row = {"key": case.key, "attack": case.attack, "library": lib, "version": version, "n": n,
           "targeted": case.targeted, "params": case.params}
    try:
        outs, wall, cpu, passes, replays = _timed(_seeded(build(ctx, case), x, y), ctx.model.snapshot,
                                                  args.repeats or case.repeats, args.row_seconds, args.timeout,
                                                  replayer=args.replayer)
    except (Exception, RowTimeout) as exc:  # noqa: BLE001
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    _summarise(row, wall, cpu, passes, floor, args.n, case.ratio, args.scale(), replays)
    row["deterministic"] = all(np.array_equal(outs[0], o, equal_nan=True) for o in outs[1:]) if len(outs) > 1 else None
    row.update(_strength(batch, np.asarray(outs[0]), y, case.targeted, case.budget))
    mine = args.feint_outputs.get(case.key)
    if mine is not None and len(mine) > n:
        row["feint_same_inputs"] = _strength(batch, mine[:n], y, case.targeted, case.budget)
    return row


def _metric_value(v) -> dict:
    import numpy as np

    arr = np.asarray(v, dtype=np.float64)
    return {"value": float(np.nanmean(arr)) if arr.size else None, "values": arr.ravel()[:64].tolist()}


def _feint_metric_row(case, batch, clf, floor, args) -> dict:
    import feint
    from benchmarks.floor import Passes

    n = min(case.n, len(batch.x))
    x = batch.x[:n]
    row = {"key": case.key, "metric": case.metric, "library": "feint", "n": n, "params": case.params}
    try:
        metric = feint.create("metric", case.metric, **case.params)
        row["spec"] = str(metric)
        outs, wall, cpu, passes, replays = _timed(lambda: metric(clf, x), lambda: Passes.of(clf.counts),
                                                  args.repeats or case.repeats, args.row_seconds, args.timeout,
                                                  replayer=args.replayer)
    except (Exception, RowTimeout) as exc:  # noqa: BLE001
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    _summarise(row, wall, cpu, passes, floor, args.n, True, args.scale(), replays)
    row.update(_metric_value(outs[0]))
    return row


def _peer_metric_row(lib, version, build, case, batch, ctx, floor, args) -> dict:

    n = min(case.n, len(batch.x))
    x, y = batch.x[:n], batch.y[:n]
    row = {"key": case.key, "metric": case.metric, "library": lib, "version": version, "n": n, "params": case.params}
    try:
        outs, wall, cpu, passes, replays = _timed(_seeded(build(ctx, case), x, y), ctx.model.snapshot,
                                                  args.repeats or case.repeats, args.row_seconds, args.timeout,
                                                  replayer=args.replayer)
    except (Exception, RowTimeout) as exc:  # noqa: BLE001
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
        return row
    _summarise(row, wall, cpu, passes, floor, args.n, True, args.scale(), replays)
    row.update(_metric_value(outs[0]))
    return row


def run(args) -> dict:
    """Run the benchmark described by the parsed ``args``; return the results (what the JSON holds)."""
    import os

    import torch

    from benchmarks.floor import limit_threads

    limit_threads(args.threads)

    import feint
    from benchmarks import cases as case_table
    from benchmarks import peers as peer_table
    from benchmarks.floor import CountingModule, Replayer, load_batch, local_scale, measure_floor
    from benchmarks.report import machine, versions
    from feint_framework_torch import PyTorchClassifier

    only = args.only.split(",") if args.only else None
    skip = args.skip.split(",") if args.skip else None
    libraries = set(args.libraries.split(",")) if args.libraries else None
    started = time.time()
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None

    all_cases = case_table.attack_cases(feint.list("attack"))
    if args.list:
        for c in all_cases:
            libs = ["feint"] + [lib for lib in peer_table.ATTACKS if c.key in peer_table.ATTACKS[lib]]
            print(f"{c.key:24s} n={c.n:<4d} {c.params}  [{', '.join(libs)}]")
        for m in case_table.metric_cases(feint.list("metric")):
            print(f"{m.key:24s} n={m.n:<4d} {m.params}  [feint{', art' if m.key in peer_table.METRICS['art'] else ''}]")
        return {}
    batch = load_batch(args.n)
    counting = CountingModule(batch.model)
    clf = PyTorchClassifier((0.0, 1.0), counting, torch.nn.CrossEntropyLoss(), None, (1, 8, 8), 10)
    sizes = sorted({1, 16, 64, args.n})
    print(f"floor: timing plain-torch passes at batch sizes {sizes} ({args.threads} thread(s))...", flush=True)
    floor = measure_floor(batch.model, batch.x, batch.y, sizes=sizes)
    print(f"floor: forward {floor.forward() * 1e3:.2f} ms, forward+backward {floor.forward_backward() * 1e3:.2f} ms "
          f"per {args.n} images (wall)", flush=True)

    def scale_around_row():
        # the load factor after the row, averaged (geometrically) with the one taken just before it
        after = local_scale(floor, batch.model, batch.x, batch.y)
        before = getattr(args, "scale_before", None) or after
        return {c: math.sqrt(before[c] * after[c]) for c in after}

    def before_row():
        args.scale_before = local_scale(floor, batch.model, batch.x, batch.y)

    args.scale = scale_around_row
    args.replayer = Replayer(counting, batch.model, batch.x)
    args.feint_outputs = {}
    peers: dict[str, str] = {}
    if args.peers:
        peers = peer_table.available()
        for lib, v in peers.items():
            print(f"peer {lib}: {v}", flush=True)
    ready = {lib: v for lib, v in peers.items() if not v.startswith("unavailable")}
    ctx = peer_table.PeerContext(counting) if ready else None

    def wanted(lib):
        return libraries is None or lib in libraries

    attack_rows, metric_rows = [], []
    for case in all_cases:
        if not _selected(case.key, only, skip):
            continue
        if wanted("feint"):
            before_row()
            t0 = time.perf_counter()
            row = _feint_attack_row(case, batch, clf, counting, floor, args)
            attack_rows.append(row)
            print(_progress(row, time.perf_counter() - t0), flush=True)
        for lib, version in ready.items():
            build = peer_table.ATTACKS.get(lib, {}).get(case.key)
            if build is None or not wanted(lib):
                continue
            before_row()
            t0 = time.perf_counter()
            row = _peer_attack_row(lib, version, build, case, batch, ctx, floor, args)
            row["note"] = peer_table.NOTES.get((lib, case.key), "")
            attack_rows.append(row)
            print(_progress(row, time.perf_counter() - t0), flush=True)
    if not args.no_metrics:
        for case in case_table.metric_cases(feint.list("metric")):
            if not _selected(case.key, only, skip):
                continue
            if wanted("feint"):
                before_row()
                t0 = time.perf_counter()
                row = _feint_metric_row(case, batch, clf, floor, args)
                metric_rows.append(row)
                print(_progress(row, time.perf_counter() - t0), flush=True)
            for lib, version in ready.items():
                build = peer_table.METRICS.get(lib, {}).get(case.key)
                if build is None or not wanted(lib):
                    continue
                before_row()
                t0 = time.perf_counter()
                row = _peer_metric_row(lib, version, build, case, batch, ctx, floor, args)
                metric_rows.append(row)
                print(_progress(row, time.perf_counter() - t0), flush=True)

    print("floor: timing again (drift check)...", flush=True)
    floor_end = measure_floor(batch.model, batch.x, batch.y, sizes=sizes)
    return {
        "date": time.strftime("%Y-%m-%d", time.localtime(started)),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "duration_s": time.time() - started,
        "command": "python -m benchmarks " + " ".join(args.argv),
        "threads": args.threads,
        "machine": {**machine(), "loadavg_start": load_start,
                    "loadavg_end": os.getloadavg() if hasattr(os, "getloadavg") else None},
        "versions": versions(ready),
        "peers": peers,
        "model": {"name": "feint_framework_torch.testing.digits_cnn()", "test_accuracy": batch.test_accuracy,
                  "batch": args.n, "batch_indices": batch.indices.tolist(),
                  "batch_rule": "the first n correctly classified digits test images; targets: seeded random other class"},
        "floor": floor.as_dict(),
        "floor_end": floor_end.as_dict(),
        "attacks": attack_rows,
        "metrics": metric_rows,
    }


def _progress(row: dict, seconds: float) -> str:
    what = row.get("attack") or row.get("metric")
    head = f"{row['key']:24s} {row['library']:13s}"
    if "error" in row:
        return f"{head} ERROR {row['error'][:160]}"
    ratio = f"x{row['ratio_cpu']:.2f}" if row.get("ratio_cpu") else "-"
    replay = f"x{row['ratio_replay_cpu']:.2f}" if row.get("ratio_replay_cpu") else "-"
    ratios = f"replay {replay:>6s} floor {ratio:>6s}"
    if "success" in row:
        l2 = f"{row['mean_l2']:.3f}" if row.get("mean_l2") is not None else "-"
        return (f"{head} {row['wall_s']:8.3f}s  {ratios}  success {row['success']:.3f}  L2 {l2}"
                f"  ({row['runs']} runs, {seconds:.1f}s)")
    return f"{head} {row['wall_s']:8.3f}s  {ratios}  value {row.get('value')}  [{what}] ({seconds:.1f}s)"


def main(argv: list[str] | None = None) -> int:
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    _limit_threads(args.threads)
    results = run(args)
    if not results:
        return 0
    from benchmarks.report import markdown_tables, write_results

    print()
    print(markdown_tables(results))
    if not args.no_write:
        json_path, readme = write_results(results)
        print(f"\nwrote {json_path} and updated {readme}")
    return 0


def _limit_threads(threads: int) -> None:
    """Set the BLAS/OpenMP thread variables before numpy or torch are first imported (no-op after)."""
    import os

    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


if __name__ == "__main__":  # python benchmarks/attacks.py
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
