"""feint's attacks against a replay of their own model calls in plain PyTorch, run by run.

    python -m benchmarks replay [--only 'pgd*,apgd'] [--repeats 15] [--model wide]

The main table's ``x replay`` column, for feint's rows alone and with more runs.  Each feint
row of ``cases.py`` runs on the benchmark batch through a classifier whose model
(``floor.CountingModule``) logs every call the attack makes into the framework (a forward pass
of n samples, with or without gradients, and how many backward passes it fed).  Then the same
calls are replayed with plain PyTorch on the same model and the same number of samples
(``floor.replay_calls``): no validation, no copies beyond torch's own, no numpy work between
them.  The attack's time and its replay's are taken back to back, so load drift hits both
alike, and the reported ratio is the median over runs of attack / replay (CPU time).  What
remains above 1 is everything feint does around the passes.  ``--model wide`` runs the same
rows on a larger, untrained CNN (``wide_batch``), where the passes cost more.  Rows whose runs
take longer than ``--max-seconds`` are skipped.  Nothing is asserted.

``--split`` also shows where the time above the replay goes: the CPU time spent inside the
classifier's public methods (``predict``, ``loss_gradient``, ``class_gradient``,
``output_gradient``; outermost calls only) minus the replay is feint's work around the passes
(validation, conversions, the weights callables, mode switching), and the rest of the run is the
attack's own work between calls.  The first part is split once more: the CPU time of the torch
calls themselves inside the run (the model's forward calls and ``torch.autograd.grad``) minus
the replay is what the same passes cost more when other code runs between them (caches the
replay keeps warm, plus the few small operations of the loss), and the rest is feint's Python
and numpy code inside the calls.  All are given in ms and as a share of the replay (so that
``1 + passes + calls + own`` is the ratio).  The timing wrappers cost about a microsecond per
call; they are installed only with ``--split``.
"""

from __future__ import annotations

import argparse
import fnmatch
import statistics
import time


def wide_batch(n: int = 64, seed: int = 0):
    """A larger case than the digits: a seeded, untrained CNN on ``n`` random 3x32x32 images.

    Three 3x3 convolutions (32, 64, 64 channels) with two max-pools and a linear layer, weights
    from ``torch.manual_seed(seed)``, inputs uniform in [0, 1]; labels are its own predictions,
    targets one seeded other class each.  Its passes cost ~140x the digits CNN's per image, so
    the ratio shows what feint's work between passes weighs when the model is not tiny; success
    rates on an untrained model mean little and are not reported.
    """
    import numpy as np
    import torch

    from benchmarks.floor import Batch

    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 8 * 8, 10)).eval()
    x = np.random.default_rng(seed).uniform(0, 1, (n, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.from_numpy(x)).argmax(1).numpy().astype(np.int64)
    targets = (y + np.random.default_rng(seed).integers(1, 10, size=n)) % 10
    return Batch(model, x, y, targets.astype(np.int64), float("nan"), np.arange(n))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks replay", description=__doc__.splitlines()[0])
    p.add_argument("--only", default=None, help="comma-separated fnmatch patterns of row keys")
    p.add_argument("--repeats", type=int, default=15, help="runs per row (default 15)")
    p.add_argument("--max-seconds", type=float, default=2.0, help="skip rows whose first run takes longer (default 2)")
    p.add_argument("--model", choices=("digits", "wide"), default="digits",
                   help="digits: the benchmark's CNN and batch (default); wide: a seeded untrained CNN on "
                        "random 3x32x32 images (see wide_batch)")
    p.add_argument("--n", type=int, default=None, help="images (default 256 for digits, 64 for wide)")
    p.add_argument("--split", action="store_true",
                   help="also split the time above the replay into the classifier calls' own work and the "
                        "attack's work between calls")
    args = p.parse_args(argv)

    import numpy as np

    from benchmarks.floor import limit_threads

    limit_threads(1)
    import feint
    from benchmarks.cases import attack_cases
    from benchmarks.floor import CountingModule, load_batch, replay_calls
    from feint_framework_torch import PyTorchClassifier

    batch = load_batch(args.n or 256) if args.model == "digits" else wide_batch(args.n or 64)
    log: list = []
    clf = PyTorchClassifier((0.0, 1.0), CountingModule(batch.model, log), None, None, batch.x.shape[1:], 10)
    x_pool = np.ascontiguousarray(batch.x)
    in_calls = _time_calls(clf) if args.split else None
    in_torch = _time_torch(clf.model) if args.split else None
    only = args.only.split(",") if args.only else None
    split_head = ("   passes above replay   feint in calls   attack's own   (ms, share of replay)"
                  if args.split else "")
    print(f"{'row':24s} {'calls':>6s} {'attack':>10s} {'replay':>10s}  attack / replay (cpu, median of runs)"
          + split_head)
    for case in attack_cases(feint.list("attack")):
        if only and not any(fnmatch.fnmatch(case.key, pat) for pat in only):
            continue
        if not case.ratio or case.defaults:
            continue
        n = min(case.n, len(batch.x))
        x, y = batch.x[:n], (batch.targets if case.targeted else batch.y)[:n]
        params = {"batch_size": n, "random_state": 0, "verbose": False, **case.params}
        if case.targeted:
            params["targeted"] = True
        ratios, t_attack, t_replay, passes, around, own = [], [], [], [], [], []
        for _ in range(max(1, args.repeats)):
            atk = feint.create("attack", case.attack, clf, **params)
            log.clear()
            if in_calls is not None:
                in_calls[0] = in_torch[0] = 0.0
            c0 = time.process_time()
            atk.generate(x, y)
            ta = time.process_time() - c0
            t_torch = in_torch[0] if in_torch is not None else 0.0     # (the replay below adds to the cell)
            calls = list(log)
            c0 = time.process_time()
            replay_calls(batch.model, x_pool, calls)
            tr = time.process_time() - c0
            ratios.append(ta / tr)
            t_attack.append(ta)
            t_replay.append(tr)
            if in_calls is not None:
                passes.append(t_torch - tr)
                around.append(in_calls[0] - t_torch)
                own.append(ta - in_calls[0])
            if ta > args.max_seconds:
                break
        if t_attack[0] > args.max_seconds and len(ratios) == 1:
            print(f"{case.key:24s} skipped: one run took {t_attack[0]:.1f} s (> --max-seconds)")
            continue
        line = (f"{case.key:24s} {len(calls):6d} {statistics.median(t_attack) * 1e3:8.1f}ms "
                f"{statistics.median(t_replay) * 1e3:8.1f}ms  {statistics.median(ratios):.2f}")
        if in_calls is not None:
            rep = statistics.median(t_replay)
            q, a, o = statistics.median(passes), statistics.median(around), statistics.median(own)
            line += (f"{'':35s}{q * 1e3:7.1f} ({q / rep:+.2f})      {a * 1e3:7.1f} ({a / rep:+.2f})"
                     f"  {o * 1e3:7.1f} ({o / rep:+.2f})")
        print(line, flush=True)
    return 0


def _time_calls(clf) -> list:
    """Wrap the classifier's public methods to add their CPU time (outermost calls only) to a cell."""
    cell, depth = [0.0], [0]

    def timed(method):
        def call(*args, **kwargs):
            depth[0] += 1
            c0 = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if depth[0] == 0:
                    cell[0] += time.process_time() - c0
        return call

    for name in ("predict", "loss_gradient", "class_gradient", "output_gradient"):
        setattr(clf, name, timed(getattr(clf, name)))
    return cell


def _time_torch(counting) -> list:
    """Add the CPU time of the model's forward calls and of ``torch.autograd.grad`` to a cell.

    The adapter looks ``torch.autograd.grad`` up at each call, so replacing the attribute (for the
    rest of this process) times every backward it runs; the forward is timed on the counting
    module that wraps the model.
    """
    import torch

    cell = [0.0]

    def timed(fn):
        def call(*args, **kwargs):
            c0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                cell[0] += time.process_time() - c0
        call.__wrapped__ = fn
        return call

    counting.forward = timed(counting.forward)
    torch.autograd.grad = timed(torch.autograd.grad)
    return cell


if __name__ == "__main__":
    raise SystemExit(main())
