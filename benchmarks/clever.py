"""CLEVER: time per input vs the number of gradient evaluations, batched vs a per-input loop.

    python benchmarks/clever.py [--inputs 20] [--loop-inputs 3] [--threads 1] [--json out.json]

Both implementations run Algorithm 8 of the ART v0.2.2 paper (§7.3) at the same parameters
(n_batch, n_sample, pool_factor, r, norm) on the seeded digits CNN (PyTorch):

* **batched** -- ``feint_metric_clever.clever_u``: one pool per input, the gradient norms of the
  pool computed once, the pools of all inputs and every class in a few large ``class_gradient``
  calls, all reverse-Weibull fits vectorised;
* **loop** -- the per-input transcription of the algorithm box (as ART implements it): for each
  input, for each target class, for each of the n_batch batches, one ``class_gradient`` call on
  n_sample points of the pool with labels (prediction, target), then ``scipy.stats.weibull_min.fit``
  per target.

"gradient evaluations" is what the algorithm box asks for per input and target,
``n_batch * n_sample`` points x 2 classes; the table also shows the class-gradient sample
evaluations each implementation really made (the pool makes the batched one need fewer).
This is a benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings


def loop_clever_u(classifier, x, n_batch, n_sample, r, norm, c_init=1.0, pool_factor=10, seed=0):
    """Per-input, per-target, per-batch CLEVER (the algorithm box, ART-style), for comparison."""
    import numpy as np
    from scipy.stats import weibull_min

    from feint.norms import dual, lp_norm, parse_norm, random_ball
    from feint_metric_clever.clever import _PoolStream, _stream

    p = parse_norm(norm)
    q = dual(p)
    scores = []
    for i in range(len(x)):
        xi = x[i:i + 1]
        z = classifier.predict(xi, logits=True)[0]
        c = int(z.argmax())
        best = float(r)
        for t in range(len(z)):
            if t == c:
                continue
            gen = _stream(seed, i * 1000 + t)
            pool = np.clip(xi + random_ball(_PoolStream(gen, pool_factor * n_sample), x.shape[1:], r, p),
                           *classifier.clip_values).astype(np.float32)
            maxima = []
            for _ in range(n_batch):
                pts = pool[gen.choice(len(pool), n_sample, replace=False)]
                labels = np.tile([c, t], (n_sample, 1))
                g = classifier.class_gradient(pts, label=labels, logits=True)
                maxima.append(float(lp_norm(g[:, 0] - g[:, 1], q).max()))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    _, loc, _ = weibull_min.fit(-np.array(maxima), c_init)
                    mu = -loc if np.isfinite(loc) and -loc >= max(maxima) else max(maxima)
                except Exception:  # noqa: BLE001
                    mu = max(maxima)
            best = min(best, (z[c] - z[t]) / mu if mu > 0 else float(r))
        scores.append(best)
    return np.array(scores)


def _timed(fn, clf):
    clf.reset_counts()
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0, clf.counts.backward_samples


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=20, help="inputs scored by the batched implementation")
    ap.add_argument("--loop-inputs", type=int, default=2, help="inputs scored by the (slow) loop")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from feint_framework_torch.testing import digits_cnn
    from feint_metric_clever import clever_u

    clf, _, (x, y) = digits_cnn()
    ok = clf.predict(x).argmax(1) == y
    x = x[ok]
    k = clf.nb_classes
    settings = [(10, 10), (25, 10), (50, 10), (50, 20), (100, 20)]
    rows = []
    print(f"CLEVER (untargeted, L2, r=2, pool_factor=10) on the digits CNN; {args.inputs} inputs batched, "
          f"{args.loop_inputs} in the loop; torch threads={args.threads}; {platform.processor() or platform.machine()}")
    header = (f"{'n_batch':>7} {'n_sample':>8} {'grad evals/input':>16} {'batched s/input':>15} "
              f"{'loop s/input':>12} {'speed-up':>8} {'evals made b/l':>15} {'mean score b/l':>15}")
    print(header)
    print("-" * len(header))
    for n_batch, n_sample in settings:
        algo = n_batch * n_sample * 2 * (k - 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sb, tb, eb = _timed(lambda nb=n_batch, ns=n_sample: clever_u(
                clf, x[:args.inputs], n_batch=nb, n_sample=ns, r=2.0, norm=2, random_state=0), clf)
        sl, tl, el = _timed(lambda nb=n_batch, ns=n_sample: loop_clever_u(clf, x[:args.loop_inputs], nb, ns, 2.0, 2), clf)
        row = {"n_batch": n_batch, "n_sample": n_sample, "gradient_evaluations_per_input": algo,
               "batched_seconds_per_input": tb / args.inputs, "loop_seconds_per_input": tl / args.loop_inputs,
               "speedup": (tl / args.loop_inputs) / (tb / args.inputs),
               "batched_evaluations_per_input": eb / args.inputs, "loop_evaluations_per_input": el / args.loop_inputs,
               "batched_mean_score": float(np.mean(sb[:args.loop_inputs])), "loop_mean_score": float(np.mean(sl))}
        rows.append(row)
        print(f"{n_batch:>7} {n_sample:>8} {algo:>16} {row['batched_seconds_per_input']:>15.4f} "
              f"{row['loop_seconds_per_input']:>12.3f} {row['speedup']:>7.1f}x "
              f"{row['batched_evaluations_per_input']:>7.0f}/{row['loop_evaluations_per_input']:<7.0f} "
              f"{row['batched_mean_score']:>7.3f}/{row['loop_mean_score']:<7.3f}")
        sys.stdout.flush()
    if args.json:
        meta = {"machine": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                "threads": args.threads, "inputs": args.inputs, "loop_inputs": args.loop_inputs}
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "rows": rows}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
