"""What a classifier call's own work costs right after a model pass, against the same work back to back.

    python -m benchmarks coldcache [--repeats 300]

The ``×replay`` ratios of the attacks whose passes are small (APGD's last iterations, JSMA,
NewtonFool, VAT on the digits CNN) are mostly the time feint spends between the passes, and that
time is not what a microbenchmark of the same code says.  This times one piece of it,
``Classifier.check_x`` (copy the batch, one ``min`` and one ``max``) on 1 and on 256 digits,
three ways: back to back; each time right after a plain-PyTorch forward+backward pass of the
digits CNN on one image; and right after one on 256 images.  After a pass the interpreter's and
numpy's code and data are no longer in the CPU caches, and the same few calls take several times
longer; an attack pays that price on every call it makes, the replay (which runs its passes back
to back with almost nothing in between) does not.  Nothing is asserted; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks coldcache", description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=300, help="timed calls per cell (default 300)")
    args = p.parse_args(argv)

    from benchmarks.floor import limit_threads, load_batch, replay_calls

    limit_threads(1)
    from feint_framework_torch import PyTorchClassifier

    batch = load_batch(256)
    clf = PyTorchClassifier((0.0, 1.0), batch.model, None, None, batch.x.shape[1:], 10)
    inputs = {1: batch.x[:1].copy(), 256: batch.x.copy()}
    before = {"nothing (back to back)": lambda: None,
              "a forward+backward of 1 image": lambda: replay_calls(batch.model, batch.x, [(1, 1)]),
              "a forward+backward of 256 images": lambda: replay_calls(batch.model, batch.x, [(256, 1)])}
    print(f"median time of clf.check_x(x), in microseconds, after {'':26s} x of 1 image   x of 256 images")
    for label, run_before in before.items():
        times = {n: [] for n in inputs}
        for _ in range(max(1, args.repeats)):
            for n, x in inputs.items():
                run_before()
                t0 = time.perf_counter()
                clf.check_x(x)
                times[n].append(time.perf_counter() - t0)
        print(f"{label:66s} {statistics.median(times[1]) * 1e6:8.1f} {statistics.median(times[256]) * 1e6:14.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
